// The bounded buffer between a task (or a live session) and its consumer. Kept events (final
// images) are never dropped; "latest" events (previews) keep one slot per key, overwritten in O(1)
// while unread, so a slow consumer holds at most one preview per result index, not every step.
import { deferred, type Deferred } from '../../internal/deferred.js';

/** The unread event of one key; overwritten in place, or marked dead when dropped. */
class LatestSlot<T> {
  event: T;
  live = true;
  readonly key: number;

  constructor(event: T, key: number) {
    this.event = event;
    this.key = key;
  }
}

/** A kept event is queued as it is (no wrapper: a final waiting unread costs no extra object). */
type Entry<T> = T | LatestSlot<T>;

/** A single-consumer async queue with per-key latest-wins slots. */
export class EventBuffer<T> {
  #slots: Entry<T>[] = [];
  #head = 0;
  /** The unread latest-wins slots by key; made on the first pushLatest (only previews use it). */
  #latest: Map<number, LatestSlot<T>> | undefined;
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
    this.#enqueue(event);
  }

  /** Sets the unread event for `key`, replacing an unread one in place (it keeps its position). */
  pushLatest(key: number, event: T): void {
    if (this.#ended) return;
    const latest = (this.#latest ??= new Map());
    const pending = latest.get(key);
    if (pending !== undefined) {
      pending.event = event;
      return;
    }
    const slot = new LatestSlot(event, key);
    latest.set(key, slot);
    this.#enqueue(slot);
  }

  /** Discards the unread event for `key` (a final superseded its preview). */
  dropLatest(key: number): void {
    const pending = this.#latest?.get(key);
    if (pending === undefined) return;
    this.#latest?.delete(key);
    pending.live = false;
    this.#live--;
  }

  /** Discards every unread event `stale` picks (events no one wants any more). O(unread). */
  discard(stale: (event: T) => boolean): void {
    const kept: Entry<T>[] = [];
    for (let i = this.#head; i < this.#slots.length; i++) {
      const entry = this.#slots[i] as Entry<T>;
      const slot = entry instanceof LatestSlot ? entry : undefined;
      if (slot !== undefined && !slot.live) continue;
      if (!stale(slot === undefined ? (entry as T) : slot.event)) {
        kept.push(entry);
        continue;
      }
      this.#live--;
      if (slot === undefined) continue;
      slot.live = false;
      if (this.#latest?.get(slot.key) === slot) this.#latest.delete(slot.key);
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
    this.#latest = undefined;
    this.#live = 0;
    this.#ended = true;
    this.#error = undefined;
    this.#wake();
  }

  /** The next event, waiting for one if needed. */
  next(): Promise<IteratorResult<T>> {
    if (this.#live > 0) return Promise.resolve({ done: false, value: this.#shift() as T });
    if (this.#ended) return this.#finish();
    this.#waiter ??= deferred<IteratorResult<T>>();
    return this.#waiter.promise;
  }

  #enqueue(slot: Entry<T>): void {
    // A first event gets an array of one: push() onto an empty array reserves 17 slots, which a
    // task's buffer (usually one final) would carry for as long as nobody reads it.
    if (this.#slots.length === 0) this.#slots = [slot];
    else this.#slots.push(slot);
    this.#live++;
    this.#wake();
  }

  /** The oldest unread event; call only when {@link length} is above 0. */
  #shift(): T | undefined {
    while (this.#head < this.#slots.length) {
      const entry = this.#slots[this.#head] as Entry<T>;
      this.#slots[this.#head] = undefined as T;
      this.#head++;
      let event: T;
      if (entry instanceof LatestSlot) {
        if (!entry.live) continue;
        entry.live = false;
        if (this.#latest?.get(entry.key) === entry) this.#latest.delete(entry.key);
        event = entry.event;
      } else {
        event = entry;
      }
      this.#live--;
      this.#compact();
      return event;
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
    if (this.#live > 0) waiter.resolve({ done: false, value: this.#shift() as T });
    else if (this.#ended) void this.#finish().then((result) => waiter.resolve(result), (error: unknown) => waiter.reject(error));
    else this.#waiter = waiter;
  }
}
