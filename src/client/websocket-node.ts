// The Node WebSocket: `ws`, with compression off (images do not compress, and it costs CPU) and
// its TCP socket unref'd, so only pending work (held by the client) keeps a process alive.
// Only src/index.ts imports this file; the browser entry never does.
import WebSocket from 'ws';
import type { WebSocketConstructor } from './socket.js';

class NodeWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { perMessageDeflate: false });
    this.once('upgrade', (response) => {
      response.socket.unref();
    });
  }
}

/** `ws` as the client's WebSocket constructor in Node. */
export const nodeWebSocket: WebSocketConstructor = NodeWebSocket as unknown as WebSocketConstructor;
