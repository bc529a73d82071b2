// Bounds how long a gateway task waits for an upstream that is not connected: each task running while
// the upstream connection is down gets a deadline; reaching it aborts the task with a retryable error.
import type { Clock, TimerHandle } from '../internal/clock.js';

/** One running task's stake in the upstream connection. */
interface Watched {
  readonly abort: () => void;
  timer: TimerHandle | undefined;
}

/** Tracks whether the upstream connection is up and fails the tasks that wait too long for it. */
export class Availability {
  readonly #clock: Clock;
  readonly #limitMs: number;
  readonly #watched = new Set<Watched>();
  #up = false;

  constructor(clock: Clock, limitMs: number) {
    this.#clock = clock;
    this.#limitMs = limitMs;
  }

  /** The connection is up (an authentication answer arrived): every deadline is lifted. */
  up(): void {
    this.#up = true;
    for (const watched of this.#watched) this.#stop(watched);
  }

  /** The connection is down or not there yet: every running task gets its deadline. */
  down(): void {
    this.#up = false;
    for (const watched of this.#watched) this.#start(watched);
  }

  /** Watches a task until the returned function is called; `abort` runs when its deadline passes. */
  watch(abort: () => void): () => void {
    const watched: Watched = { abort, timer: undefined };
    this.#watched.add(watched);
    if (!this.#up) this.#start(watched);
    return () => {
      this.#stop(watched);
      this.#watched.delete(watched);
    };
  }

  #start(watched: Watched): void {
    if (watched.timer !== undefined) return;
    watched.timer = this.#clock.setTimeout(() => {
      watched.timer = undefined;
      this.#watched.delete(watched);
      watched.abort();
    }, this.#limitMs);
  }

  #stop(watched: Watched): void {
    if (watched.timer === undefined) return;
    this.#clock.clearTimeout(watched.timer);
    watched.timer = undefined;
  }
}
