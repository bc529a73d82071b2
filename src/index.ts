// Node entry of `imagewire`: the client, with `ws` as its WebSocket. Browsers resolve
// src/browser.ts instead (the `browser` condition of the exports map).
import { ImagewireClient } from './client/client.js';
import type { ClientOptions } from './client/options.js';
import { nodeWebSocket } from './client/socket/websocket-node.js';
import { validateRequests } from './client/validate-requests.js';

export * from './client/index.js';

/**
 * Creates a WebSocket client. It connects on the first task (or `connect()`), reconnects and
 * resumes on its own, and never delivers a result twice. Requests are validated locally with
 * `validateRequests` unless `validate` says otherwise (size does not matter here as in browsers).
 * @example
 * await using client = createClient({ apiKey: process.env.RUNWARE_API_KEY! });
 * const images = await client.imageInference({ positivePrompt: 'a fox', model: 'runware:101@1', width: 512, height: 512 }).result();
 */
export function createClient(options: ClientOptions): ImagewireClient {
  return new ImagewireClient({ ...options, validate: options.validate ?? validateRequests }, nodeWebSocket);
}
