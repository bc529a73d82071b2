// Round trips of ping(): pongs come back in the order pings were written, so every ping written
// on a socket (keepalive, ack or the caller's) takes a place in one queue, and a pong answers the
// oldest. A caller's ping written on a socket that died is written again on the next one.
import type { Clock } from '../../internal/clock.js';
import { deferred } from '../../internal/deferred.js';
import { encodeClientFrame, type PingTask } from '../../protocol/index.js';
import { OutgoingFrame, type FrameSender } from './outgoing.js';

const PING_FRAME = encodeClientFrame([{ taskType: 'ping', ping: true } satisfies PingTask]);

/** One ping() of the caller's, from its first write to its pong. */
class CallerPing extends OutgoingFrame {
  readonly answer = deferred<number>();
  sentAt = 0;
  readonly #onWritten: (ping: CallerPing) => void;

  constructor(onWritten: (ping: CallerPing) => void) {
    super();
    this.#onWritten = onWritten;
  }

  get bytes(): number {
    return PING_FRAME.length;
  }

  encode(): string {
    return PING_FRAME;
  }

  override written(attempt: number): void {
    super.written(attempt);
    this.#onWritten(this);
  }
}

/** The pong queue of the current socket and the caller's pings in flight. */
export class Pings {
  readonly #clock: Clock;
  readonly #sender: FrameSender;
  #order: (CallerPing | undefined)[] = [];
  readonly #callers = new Set<CallerPing>();

  constructor(clock: Clock, sender: FrameSender) {
    this.#clock = clock;
    this.#sender = sender;
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
    const ping = new CallerPing(this.#written);
    this.#callers.add(ping);
    try {
      ping.send(this.#sender);
    } catch (error) {
      this.#callers.delete(ping);
      throw error;
    }
    return {
      answer: ping.answer.promise,
      cancel: () => {
        ping.withdraw();
        this.#callers.delete(ping);
      },
    };
  }

  /** A connection opened: write again the caller's pings that went out on an older socket. */
  reopened(attempt: number): void {
    for (const ping of this.#callers) if (ping.writtenBefore(attempt)) ping.send(this.#sender);
  }

  rejectAll(error: unknown): void {
    for (const ping of this.#callers) ping.answer.reject(error);
    this.#callers.clear();
    this.#order = [];
  }

  readonly #written = (ping: CallerPing): void => {
    ping.sentAt = this.#clock.now();
    this.#order.push(ping);
  };
}
