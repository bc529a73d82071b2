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
  /** Size used for the byte bound (read once, when queued). */
  readonly bytes: number;
  /** Called after the frame was written to the socket of attempt `attempt`. */
  written?(attempt: number): void;
}

/**
 * A FIFO of frames with O(1) removal, bounded by count and bytes. Entries are kept by identity
 * (with the bytes they were counted with), so a remover stays valid whatever happens to the
 * entries around it.
 */
export class Outbox {
  readonly #limits: Required<OutboxOptions>;
  readonly #entries = new Map<OutboxEntry, number>();
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
    if (this.#entries.has(entry)) return () => this.#remove(entry);
    if (this.#entries.size >= this.#limits.maxFrames) {
      throw new QueueFullError('outbox', this.#limits.maxFrames, `the outbox already holds ${this.#limits.maxFrames} frames waiting for a connection (outbox.maxFrames)`);
    }
    const bytes = entry.bytes;
    if (this.#bytes + bytes > this.#limits.maxBytes) {
      throw new QueueFullError('outbox', this.#limits.maxBytes, `the frame (${bytes} bytes) does not fit in the outbox: ${this.#bytes} of ${this.#limits.maxBytes} bytes are used (outbox.maxBytes)`);
    }
    this.#entries.set(entry, bytes);
    this.#bytes += bytes;
    return () => this.#remove(entry);
  }

  /**
   * Hands the entries to `write`, oldest first, taking out each one it accepts; stops at the first
   * it refuses (the socket failed), which stays queued with everything after it.
   */
  flush(write: (entry: OutboxEntry) => boolean): void {
    for (const entry of this.#entries.keys()) {
      if (!write(entry)) return;
      this.#remove(entry);
    }
  }

  /** Takes every entry out, oldest first. */
  drain(): OutboxEntry[] {
    const entries = [...this.#entries.keys()];
    this.#entries.clear();
    this.#bytes = 0;
    return entries;
  }

  #remove(entry: OutboxEntry): void {
    const bytes = this.#entries.get(entry);
    if (bytes === undefined) return;
    this.#entries.delete(entry);
    this.#bytes -= bytes;
  }
}
