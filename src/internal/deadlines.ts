// Deadlines of many things behind one timer per clock: a task's timeout is an entry in an ordered
// map, not a timer and two closures of its own. Entries of one duration expire in insertion order,
// so each duration keeps a FIFO, and the one timer is armed for the earliest head.
import type { Clock, TimerHandle } from './clock.js';

/** Something that can run out of time. */
export interface Expirable {
  /** Its deadline, `ms` after it was added, passed; called once, after it left the deadlines. */
  expire(ms: number): void;
}

/** One timer for any number of deadlines. Adding and removing are O(1). */
export class Deadlines {
  readonly #clock: Clock;
  /** Per duration, the entries and their deadlines, oldest first (a later add has a later deadline). */
  readonly #byDuration = new Map<number, Map<Expirable, number>>();
  /** Which duration's FIFO an entry is in, so remove() finds it. */
  readonly #durationOf = new Map<Expirable, number>();
  #timer: TimerHandle | undefined;
  #armedFor = Infinity;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Entries waiting for their deadline. */
  get size(): number {
    return this.#durationOf.size;
  }

  /** Expires `entry` after `ms` unless it is removed first. */
  add(entry: Expirable, ms: number): void {
    this.remove(entry);
    const deadline = this.#clock.now() + ms;
    let fifo = this.#byDuration.get(ms);
    if (fifo === undefined) {
      fifo = new Map();
      this.#byDuration.set(ms, fifo);
    }
    fifo.set(entry, deadline);
    this.#durationOf.set(entry, ms);
    if (deadline < this.#armedFor) this.#arm(deadline);
  }

  /**
   * Takes `entry` out; false when it had none. The timer stays armed (it is unref'd): one wake-up
   * that finds nothing due costs less than clearing and setting a timer for every task.
   */
  remove(entry: Expirable): boolean {
    const ms = this.#durationOf.get(entry);
    if (ms === undefined) return false;
    this.#durationOf.delete(entry);
    const fifo = this.#byDuration.get(ms);
    fifo?.delete(entry);
    if (fifo?.size === 0) this.#byDuration.delete(ms);
    return true;
  }

  /** Forgets every entry and stops the timer (the owner closed). */
  clear(): void {
    this.#byDuration.clear();
    this.#durationOf.clear();
    this.#disarm();
  }

  #arm(deadline: number): void {
    this.#disarm();
    this.#armedFor = deadline;
    this.#timer = this.#clock.setTimeout(() => this.#fire(deadline), Math.max(0, deadline - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  /** Expires everything due: by the clock, or by the deadline the timer was armed for (a clock the timer outran). */
  #fire(armedFor: number): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const due = Math.max(armedFor, this.#clock.now());
    const expired: [Expirable, number][] = [];
    for (const [ms, fifo] of this.#byDuration) {
      for (const [entry, deadline] of fifo) {
        if (deadline > due) break;
        fifo.delete(entry);
        this.#durationOf.delete(entry);
        expired.push([entry, ms]);
      }
      if (fifo.size === 0) this.#byDuration.delete(ms);
    }
    this.#armNext();
    for (const [entry, ms] of expired) entry.expire(ms);
  }

  #armNext(): void {
    let next = Infinity;
    for (const fifo of this.#byDuration.values()) {
      const head = fifo.values().next();
      if (head.done !== true && head.value < next) next = head.value;
    }
    if (next !== Infinity) this.#arm(next);
  }
}
