// Round trips of ping(): pongs come back in the order pings were written, so every ping written
// on a socket (keepalive, ack or the caller's) takes a place in one queue, and a pong answers the
// oldest. A caller's ping written on a socket that died is written again on the next one.
import type { Clock } from '../../internal/clock.js';
import { deferred, type Deferred } from '../../internal/deferred.js';
import { encodeClientFrame, type PingTask } from '../../protocol/index.js';
import type { OutboxEntry } from './outbox.js';

interface CallerPing {
  readonly answer: Deferred<number>;
  sentAt: number;
  sentOn: number | undefined;
  unqueue: () => void;
}

export interface PingWire {
  /** Writes now or queues (see Connection.send); returns the unqueue function. */
  send(entry: OutboxEntry): () => void;
  /** The id of the socket attempt a frame was just written on. */
  readonly attemptId: number | undefined;
}

/** The pong queue of the current socket and the caller's pings in flight. */
export class Pings {
  readonly #clock: Clock;
  readonly #wire: PingWire;
  #order: (CallerPing | undefined)[] = [];
  readonly #callers = new Set<CallerPing>();

  constructor(clock: Clock, wire: PingWire) {
    this.#clock = clock;
    this.#wire = wire;
  }

  /** A new socket: no pong of the old one will come. */
  newSocket(): void {
    this.#order = [];
  }

  /** A ping of the client's own (keepalive, ack) was written. */
  internalWritten(): void {
    this.#order.push(undefined);
  }

  /** A pong arrived: it answers the oldest ping written on this socket. */
  pong(): void {
    const ping = this.#order.shift();
    if (ping === undefined || !this.#callers.delete(ping)) return;
    ping.answer.resolve(this.#clock.now() - ping.sentAt);
  }

  /** The caller's ping: resolves with the round trip in ms. */
  ask(): { answer: Promise<number>; cancel(): void } {
    const ping: CallerPing = { answer: deferred<number>(), sentAt: 0, sentOn: undefined, unqueue: () => undefined };
    this.#callers.add(ping);
    this.#write(ping);
    return {
      answer: ping.answer.promise,
      cancel: () => {
        ping.unqueue();
        this.#callers.delete(ping);
      },
    };
  }

  /** A connection opened: write again the caller's pings that went out on an older socket. */
  reopened(attemptId: number): void {
    for (const ping of this.#callers) if (ping.sentOn !== undefined && ping.sentOn !== attemptId) this.#write(ping);
  }

  rejectAll(error: unknown): void {
    for (const ping of this.#callers) ping.answer.reject(error);
    this.#callers.clear();
    this.#order = [];
  }

  #write(ping: CallerPing): void {
    const frame = encodeClientFrame([{ taskType: 'ping', ping: true } satisfies PingTask]);
    ping.sentOn = undefined;
    ping.unqueue = this.#wire.send({
      encode: () => frame,
      bytes: frame.length,
      written: () => {
        ping.sentAt = this.#clock.now();
        ping.sentOn = this.#wire.attemptId;
        this.#order.push(ping);
      },
    });
  }
}
