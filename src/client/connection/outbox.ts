// Frames waiting for an open connection, bounded in count and in bytes. Entries leave in order,
// or early when their owner no longer needs them (an aborted task is never sent).
import { QueueFullError } from '../errors.js';

/** Outbox limits. */
export interface OutboxOptions {
  /**
   * Most frames waiting for a connection.
   * @default 1024
   */
  maxFrames?: number;
  /**
   * Most bytes (UTF-8) of frames waiting for a connection; base64 seed images make frames big.
   * @default 16777216 (16 MiB)
   */
  maxBytes?: number;
}

/** The defaults of {@link OutboxOptions}. */
export const defaultOutbox: Required<OutboxOptions> = { maxFrames: 1024, maxBytes: 16 * 1024 * 1024 };

/** One waiting frame. `encode` runs when it is written, so it can follow the server's extensions. */
export interface OutboxEntry {
  /** Builds the frame text at write time. */
  encode(): string;
  /** Size used for the byte bound (computed once, when queued). */
  readonly bytes: number;
  /** Called after the frame was written to a socket. */
  written?(): void;
}

/** A FIFO of frames with O(1) removal, bounded by count and bytes. */
export class Outbox {
  readonly #limits: Required<OutboxOptions>;
  readonly #entries = new Map<number, OutboxEntry>();
  #nextId = 1;
  #bytes = 0;

  constructor(limits: Required<OutboxOptions>) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Queues an entry; returns the function that takes it out again. Throws QueueFullError when full. */
  push(entry: OutboxEntry): () => void {
    if (this.#entries.size >= this.#limits.maxFrames) {
      throw new QueueFullError('outbox', this.#limits.maxFrames, `the outbox already holds ${this.#limits.maxFrames} frames waiting for a connection (outbox.maxFrames)`);
    }
    if (this.#bytes + entry.bytes > this.#limits.maxBytes) {
      throw new QueueFullError('outbox', this.#limits.maxBytes, `the frame (${entry.bytes} bytes) does not fit in the outbox: ${this.#bytes} of ${this.#limits.maxBytes} bytes are used (outbox.maxBytes)`);
    }
    const id = this.#nextId++;
    this.#entries.set(id, entry);
    this.#bytes += entry.bytes;
    return () => this.#remove(id);
  }

  /** Takes every entry out, oldest first. */
  drain(): OutboxEntry[] {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    this.#bytes = 0;
    return entries;
  }

  #remove(id: number): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= entry.bytes;
  }
}
