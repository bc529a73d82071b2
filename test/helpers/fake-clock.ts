// A clock that moves only when a test says so, for the server's `clock` option and the stores: its
// timers run in due order inside advance(), and both its wall and its monotonic time move with it.
import type { MonotonicClock, TimerHandle } from '../../src/internal/clock.js';

interface FakeTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

export class FakeClock implements MonotonicClock {
  #now: number;
  #elapsed = 0;
  #nextId = 1;
  readonly #timers = new Map<number, FakeTimer>();

  /** `start` is the wall time (epoch ms) the clock starts at. */
  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#elapsed;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, due: this.#elapsed + Math.max(0, ms), callback });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as unknown as number);
  }

  /** The delays (from now) of the timers armed, shortest first. */
  get pending(): number[] {
    return [...this.#timers.values()].map((timer) => timer.due - this.#elapsed).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, running every timer that comes due, in due order, at its own time. */
  advance(ms: number): void {
    const end = this.#elapsed + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const timer of this.#timers.values()) if (timer.due <= end && (next === undefined || timer.due < next.due || (timer.due === next.due && timer.id < next.id))) next = timer;
      if (next === undefined) break;
      this.#timers.delete(next.id);
      this.#now += next.due - this.#elapsed;
      this.#elapsed = next.due;
      next.callback();
    }
    this.#now += end - this.#elapsed;
    this.#elapsed = end;
  }
}
