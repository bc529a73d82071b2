// One frame of ours on its way to the server, until its owner no longer needs it: queued in the
// outbox, or written on a socket attempt. Tasks, getResponse queries and the caller's pings all
// keep one, so "written on which attempt, take it out of the outbox, write it again after a
// reconnect" is said once.
import type { OutboxEntry } from './outbox.js';

/** What writes frames (the connection). */
export interface FrameSender {
  /**
   * Writes the entry now when open, otherwise queues it until the next authentication; returns
   * the function that takes it out of the outbox. Throws QueueFullError when the outbox is full.
   */
  send(entry: OutboxEntry): () => void;
}

/** A frame that is either waiting in the outbox, written on a known attempt, or neither. */
export abstract class OutgoingFrame implements OutboxEntry {
  #sentOn: number | undefined;
  #unqueue: (() => void) | undefined;

  abstract encode(): string;
  abstract get bytes(): number;

  /** The socket attempt the frame was last written on; undefined while queued or never sent. */
  get sentOn(): number | undefined {
    return this.#sentOn;
  }

  /**
   * Writes the frame, now or from the outbox at the next authentication (a copy still queued is
   * taken out first). Throws QueueFullError, and then nothing changed but `sentOn`.
   */
  send(sender: FrameSender): void {
    this.withdraw();
    this.#sentOn = undefined;
    const unqueue = sender.send(this);
    // Written at once (the connection was open), or queued until it is.
    if (this.#sentOn === undefined) this.#unqueue = unqueue;
  }

  /** The connection wrote the frame on `attempt`. */
  written(attempt: number): void {
    this.#sentOn = attempt;
    this.#unqueue = undefined;
  }

  /**
   * True when the frame was written on a socket other than `attempt`'s: it may have died with that
   * socket, and its answer will not come on this one.
   */
  writtenBefore(attempt: number): boolean {
    return this.#sentOn !== undefined && this.#sentOn !== attempt;
  }

  /** Takes the frame out of the outbox if it waits there (its owner no longer needs it sent). */
  withdraw(): void {
    const unqueue = this.#unqueue;
    if (unqueue === undefined) return;
    this.#unqueue = undefined;
    unqueue();
  }
}
