// The write side of one WebSocket connection: frames go out through the server's write coalescer,
// never beyond the send buffer's bound (maxSocketBufferedBytes), and a peer that stops reading is
// noticed. Task output that does not fit blocks the writer until the peer reads ('drain', or the
// server's sweep seeing the queue go down); a queue that stays put for sendStallTimeoutMs ends it.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { errorMessage, type Logger } from '../logger.js';
import type { WireMessage } from '../core/server-frame.js';
import type { ServerLimits } from '../limits.js';
import type { WriteCoalescer } from '../../internal/write-coalescer.js';
import type { ServerObserver } from '../observability/events.js';

/** What the writer tells its socket. */
export interface SocketWriterEvents {
  /** The peer reads nothing, or a reply did not fit: the socket must close (4001). */
  full(why: string): void;
  /** The peer read output after a block: write what the session holds (it may block again). */
  drained(): void;
}

export interface SocketWriterDeps {
  readonly writes: WriteCoalescer;
  readonly observer: ServerObserver;
  readonly logger: Logger;
  readonly limits: Pick<ServerLimits, 'maxSocketBufferedBytes' | 'sendStallTimeoutMs' | 'previewBackpressureBytes'>;
}

export class SocketWriter {
  readonly #ws: WebSocket;
  /** The TCP socket under `#ws`, corked while a turn's frames are written. */
  readonly #tcp: Duplex;
  readonly #deps: SocketWriterDeps;
  readonly #peer: string;
  readonly #events: SocketWriterEvents;
  /** True while a task output waits because the send buffer is full ('drain' or the sweep retries it). */
  #blocked = false;
  /** The queue's size when a sweep last saw it shrink (or first saw it blocked), and when: how long the peer has read nothing. */
  #stallMark: { readonly bytes: number; readonly at: number } | undefined;

  constructor(ws: WebSocket, tcp: Duplex, deps: SocketWriterDeps, peer: string, events: SocketWriterEvents) {
    this.#ws = ws;
    this.#tcp = tcp;
    this.#deps = deps;
    this.#peer = peer;
    this.#events = events;
  }

  /** True while task output waits for the peer to read. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** True when a preview may go out: previews are skipped, never queued, behind a slow reader. */
  get previewsFlow(): boolean {
    return !this.#blocked && this.#ws.bufferedAmount <= this.#deps.limits.previewBackpressureBytes;
  }

  /** True when `data` may be written now: nothing is queued, or it keeps the queue within maxSocketBufferedBytes. */
  fits(data: WireMessage): boolean {
    const buffered = this.#ws.bufferedAmount;
    return buffered === 0 || buffered + data.size <= this.#deps.limits.maxSocketBufferedBytes;
  }

  /** A reply is never queued beyond the send buffer's bound: a peer that does not read is closed. */
  reply(data: WireMessage): void {
    if (!this.fits(data)) {
      this.full('a reply did not fit');
      return;
    }
    this.send(data);
  }

  /** Task output that does not fit: held by the session until the peer reads. */
  block(): void {
    if (this.#blocked) return;
    this.#blocked = true;
    this.#tcp.once('drain', this.#onDrain);
  }

  /** Logs why and tells the socket to close. */
  full(why: string): void {
    this.#deps.logger.info('send buffer full', { peer: this.#peer, buffered: this.#ws.bufferedAmount, why });
    this.#events.full(why);
  }

  /**
   * Called by the server's sweep with the clock's monotonic time. Blocked output whose queue has not
   * gone down for `sendStallTimeoutMs` ends the socket (the peer reads nothing); when it went down,
   * the held frames are tried again ('drain' only comes once the queue is empty).
   */
  check(now: number): void {
    if (!this.#blocked) {
      this.#stallMark = undefined;
      return;
    }
    const mark = this.#stallMark;
    const { sendStallTimeoutMs } = this.#deps.limits;
    if (mark !== undefined && this.#ws.bufferedAmount >= mark.bytes) {
      if (now - mark.at >= sendStallTimeoutMs) this.full(`the peer read nothing for ${sendStallTimeoutMs} ms`);
      return;
    }
    this.#unblock();
    this.#stallMark = { bytes: this.#ws.bufferedAmount, at: now };
  }

  /** Writes `message` now: its parts as fragments of one message, in one turn. */
  send(message: WireMessage): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    this.#deps.writes.beforeWrite(this.#tcp);
    // The parts go out in one turn, as fragments of one message: nothing can come between them.
    const last = message.parts.length - 1;
    message.parts.forEach((part, i) => this.#ws.send(part, { binary: message.binary, fin: i === last }, i === last ? this.#onWritten : undefined));
    this.#deps.writes.afterWrite(this.#tcp);
    // Counted after the write, off the round trip's path.
    this.#deps.observer.bytesOut(message.size);
  }

  /** Writes out what this turn holds for the socket (before a close or a cut, so nothing written is lost). */
  release(): void {
    this.#deps.writes.release(this.#tcp);
  }

  /** The socket is ending: no more retries, and the drain listener goes. */
  stop(): void {
    this.#blocked = false;
    this.#stallMark = undefined;
    this.#tcp.off('drain', this.#onDrain);
  }

  #unblock(): void {
    if (!this.#blocked) return;
    this.#blocked = false;
    this.#tcp.off('drain', this.#onDrain);
    this.#events.drained();
  }

  readonly #onDrain = (): void => {
    this.#stallMark = undefined;
    this.#unblock();
  };

  readonly #onWritten = (error?: Error | null): void => {
    if (error !== undefined && error !== null) this.#deps.logger.debug('write failed', { peer: this.#peer, error: errorMessage(error) });
  };
}
