// Browser hints that the network changed: `online`/`offline` and `pageshow` on the window, and page
// visibility. Each triggers an immediate health check instead of waiting for the keepalive
// (centrifuge-js#203). A page restored from the back/forward cache comes back with a socket that
// usually died while it was frozen; `pageshow` with `persisted` catches that case.
import type { Disposer, ListenerTarget } from '../../internal/disposer.js';

/** Event sources of network hints; both optional. */
export interface NetworkEventSources {
  /** Fires `online`, `offline` and `pageshow` (the window). */
  readonly window?: ListenerTarget | undefined;
  /** Fires `visibilitychange` and has `visibilityState` (the document). */
  readonly document?: (ListenerTarget & { readonly visibilityState?: string }) | undefined;
}

function isTarget(value: unknown): value is ListenerTarget {
  return typeof value === 'object' && value !== null && typeof (value as ListenerTarget).addEventListener === 'function';
}

/** The browser's window and document when present; nothing in Node. */
export function defaultNetworkEventSources(): NetworkEventSources | undefined {
  const scope = globalThis as { document?: unknown; navigator?: { onLine?: unknown } };
  // Node has EventTarget but no window events; require the browser's navigator.onLine as well.
  if (!isTarget(globalThis) || typeof scope.navigator?.onLine !== 'boolean') return undefined;
  const document = isTarget(scope.document) ? (scope.document as NetworkEventSources['document']) : undefined;
  return { window: globalThis as unknown as ListenerTarget, document };
}

/** What a hint means for the connection. */
export type NetworkHint = 'online' | 'offline' | 'visible';

/** Listens for hints until `disposer` is disposed. */
export function watchNetwork(sources: NetworkEventSources, disposer: Disposer, onHint: (hint: NetworkHint) => void): void {
  if (sources.window !== undefined) {
    disposer.listen(sources.window, 'online', () => onHint('online'));
    disposer.listen(sources.window, 'offline', () => onHint('offline'));
    disposer.listen(sources.window, 'pageshow', (event) => {
      if ((event as { persisted?: unknown } | undefined)?.persisted === true) onHint('visible');
    });
  }
  const document = sources.document;
  if (document !== undefined) {
    disposer.listen(document, 'visibilitychange', () => {
      if (document.visibilityState === undefined || document.visibilityState === 'visible') onHint('visible');
    });
  }
}
