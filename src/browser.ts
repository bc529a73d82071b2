// Browser entry of `imagewire`: the same client with the platform's WebSocket. Imports nothing
// of Node, `ws`, the server, the engine or the CLI (a package test bundles it and checks).
import { ImagewireClient } from './client/client.js';
import type { ClientOptions } from './client/options.js';
import type { WebSocketConstructor } from './client/socket/socket.js';

export * from './client/index.js';

/**
 * Creates a WebSocket client using `globalThis.WebSocket` (or `options.WebSocket`).
 * @example
 * const client = createClient({ apiKey: () => fetchShortLivedToken(), sessionStorage: window.sessionStorage });
 */
export function createClient(options: ClientOptions): ImagewireClient {
  const native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return new ImagewireClient(options, native);
}
