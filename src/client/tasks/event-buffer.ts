// The bounded buffer between a task (or a live session) and its consumer. Kept events (final
// images) are never dropped; "latest" events (previews) keep one slot per key, overwritten in O(1)
// while unread, so a slow consumer holds at most one preview per result index, not every step.
import { deferred, type Deferred } from '../../internal/deferred.js';

interface Slot<T> {
  event: T;
  live: boolean;
  key: number | undefined;
}

/** A single-consumer async queue with per-key latest-wins slots. */
export class EventBuffer<T> {
  #slots: Slot<T>[] = [];
  #head = 0;
  readonly #latest = new Map<number, Slot<T>>();
  #waiter: Deferred<IteratorResult<T>> | undefined;
  #ended = false;
  #error: { value: unknown } | undefined;
  #live = 0;

  /** Events waiting to be read. */
  get length(): number {
    return this.#live;
  }

  /** Appends an event that must be delivered. */
  push(event: T): void {
    if (this.#ended) return;
    this.#enqueue({ event, live: true, key: undefined });
  }

  /** Sets the unread event for `key`, replacing an unread one in place (it keeps its position). */
  pushLatest(key: number, event: T): void {
    if (this.#ended) return;
    const pending = this.#latest.get(key);
    if (pending !== undefined) {
      pending.event = event;
      return;
    }
    const slot: Slot<T> = { event, live: true, key };
    this.#latest.set(key, slot);
    this.#enqueue(slot);
  }

  /** Discards the unread event for `key` (a final superseded its preview). */
  dropLatest(key: number): void {
    const pending = this.#latest.get(key);
    if (pending === undefined) return;
    this.#latest.delete(key);
    pending.live = false;
    this.#live--;
  }

  /** Discards every unread event `stale` picks (events no one wants any more). O(unread). */
  discard(stale: (event: T) => boolean): void {
    const kept: Slot<T>[] = [];
    for (let i = this.#head; i < this.#slots.length; i++) {
      const slot = this.#slots[i] as Slot<T>;
      if (!slot.live) continue;
      if (!stale(slot.event)) {
        kept.push(slot);
        continue;
      }
      slot.live = false;
      this.#live--;
      if (slot.key !== undefined && this.#latest.get(slot.key) === slot) this.#latest.delete(slot.key);
    }
    // Rebuilt, so a buffer nobody reads holds only what it still has to deliver.
    this.#slots = kept;
    this.#head = 0;
  }

  /** No more events; `error` is thrown to the consumer after the buffered events are read. */
  end(error?: { value: unknown }): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wake();
  }

  /** The consumer left: drop everything. */
  clear(): void {
    this.#slots = [];
    this.#head = 0;
    this.#latest.clear();
    this.#live = 0;
    this.#ended = true;
    this.#error = undefined;
    this.#wake();
  }

  /** The next event, waiting for one if needed. */
  next(): Promise<IteratorResult<T>> {
    const slot = this.#shift();
    if (slot !== undefined) return Promise.resolve({ done: false, value: slot.event });
    if (this.#ended) return this.#finish();
    this.#waiter ??= deferred<IteratorResult<T>>();
    return this.#waiter.promise;
  }

  #enqueue(slot: Slot<T>): void {
    this.#slots.push(slot);
    this.#live++;
    this.#wake();
  }

  #shift(): Slot<T> | undefined {
    while (this.#head < this.#slots.length) {
      const slot = this.#slots[this.#head] as Slot<T>;
      this.#head++;
      if (!slot.live) continue;
      slot.live = false;
      this.#live--;
      if (slot.key !== undefined && this.#latest.get(slot.key) === slot) this.#latest.delete(slot.key);
      this.#compact();
      return slot;
    }
    this.#compact();
    return undefined;
  }

  #compact(): void {
    if (this.#head === this.#slots.length) {
      this.#slots = [];
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
  }

  #finish(): Promise<IteratorResult<T>> {
    const error = this.#error;
    if (error === undefined) return Promise.resolve({ done: true, value: undefined });
    // The error is thrown once; later reads just end.
    this.#error = undefined;
    return Promise.reject(error.value);
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    const slot = this.#shift();
    if (slot !== undefined) waiter.resolve({ done: false, value: slot.event });
    else if (this.#ended) void this.#finish().then((result) => waiter.resolve(result), (error: unknown) => waiter.reject(error));
    else this.#waiter = waiter;
  }
}
