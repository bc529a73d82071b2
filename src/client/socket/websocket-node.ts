// The Node WebSocket: `ws`, with compression off (images do not compress, and it costs CPU), its
// TCP socket unref'd, so only pending work (held by the client) keeps a process alive, and the
// frames sent in one turn of the event loop merged into fewer writes to the kernel.
// Only src/index.ts imports this file; the browser entry never does.
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { WriteCoalescer } from '../../internal/write-coalescer.js';
import { describeNodeSocketFailure } from './node-failures.js';
import type { WebSocketConstructor } from './socket.js';

class NodeWebSocket extends WebSocket {
  /** Read by the client when it never reached its server (see failureDescriber). */
  static describeFailure = describeNodeSocketFailure;
  /** Read by the client (see binaryTypeFor): fragments are handed over as they came, not joined. */
  static binaryType = 'fragments';

  #tcp: Socket | undefined;
  readonly #writes = new WriteCoalescer();

  constructor(url: string) {
    super(url, { perMessageDeflate: false });
    this.once('upgrade', (response) => {
      response.socket.unref();
      this.#tcp = response.socket;
    });
  }

  override send(data: string | Uint8Array): void {
    const tcp = this.#tcp;
    if (tcp === undefined || this.readyState !== WebSocket.OPEN) {
      super.send(data);
      return;
    }
    this.#writes.beforeWrite(tcp);
    super.send(data);
    this.#writes.afterWrite(tcp);
  }

  override close(code?: number, reason?: string): void {
    this.#writes.close();
    super.close(code, reason);
  }

  override terminate(): void {
    // What was sent before the cut reaches the wire, as it would without the merging.
    this.#writes.close();
    super.terminate();
  }
}

/** `ws` as the client's WebSocket constructor in Node. */
export const nodeWebSocket: WebSocketConstructor = NodeWebSocket as unknown as WebSocketConstructor;
