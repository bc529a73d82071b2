// AbortSignal helpers: the reason an abort rejects with, listeners that are always removed, and
// an abortable sleep.
import type { Clock } from './clock.js';
import { deferred } from './deferred.js';

/** The reason a signal aborted with; the platform's AbortError when none was given. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? abortError();
}

/** A fresh standard AbortError (a DOMException), as `AbortSignal.abort()` would carry. */
export function abortError(message = 'This operation was aborted'): unknown {
  return new DOMException(message, 'AbortError');
}

/**
 * Calls `callback` once when `signal` aborts (at once if it already has). Returns the function
 * that removes the listener; callers run it when they no longer care, so long-lived signals do
 * not collect listeners (openai-node#1811).
 */
export function onAbort(signal: AbortSignal | undefined, callback: (reason: unknown) => void): () => void {
  if (signal === undefined) return () => undefined;
  if (signal.aborted) {
    callback(abortReason(signal));
    return () => undefined;
  }
  const listener = () => callback(abortReason(signal));
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  const done = deferred<void>();
  const handle = clock.setTimeout(() => {
    removeListener();
    done.resolve();
  }, ms);
  const removeListener = onAbort(signal, (reason) => {
    clock.clearTimeout(handle);
    done.reject(reason);
  });
  return done.promise;
}
