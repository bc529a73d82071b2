// The owner of a group of timers and listeners: everything registered here is undone by one
// dispose() call, which is the only teardown path of what owns it (an attempt, a task or the client;
// a socket, a webhook delivery or the server).
import type { Clock, TimerHandle } from './clock.js';

/** Something with the standard addEventListener/removeEventListener pair. */
export interface ListenerTarget {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

/** Collects undo steps and runs each exactly once, newest first. */
export class Disposer {
  /** Made on the first registration and let go when the last step is undone: an owner with nothing registered (an idle socket) carries no Set. */
  #undo: Set<() => void> | undefined = undefined;
  #disposed = false;

  /** True once {@link dispose} ran; later registrations are undone at once. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Registers an undo step; the returned function runs it early (and only once). */
  add(undo: () => void): () => void {
    if (this.#disposed) {
      undo();
      return () => undefined;
    }
    const steps = (this.#undo ??= new Set());
    const once = () => {
      if (!steps.delete(once)) return;
      if (steps.size === 0 && this.#undo === steps) this.#undo = undefined;
      undo();
    };
    steps.add(once);
    return once;
  }

  /** A timer owned by this disposer; the returned function cancels it. */
  timeout(clock: Clock, ms: number, callback: () => void): () => void {
    if (this.#disposed) return () => undefined;
    let handle: TimerHandle | undefined = undefined;
    const cancel = this.add(() => {
      if (handle !== undefined) clock.clearTimeout(handle);
    });
    handle = clock.setTimeout(() => {
      cancel();
      callback();
    }, ms);
    return cancel;
  }

  /**
   * `callback` every `ms` while this disposer lives: one timeout, armed again before each run (a
   * run's own time does not delay the next). The returned function stops it.
   */
  every(clock: Clock, ms: number, callback: () => void): () => void {
    if (this.#disposed) return () => undefined;
    let handle: TimerHandle | undefined = undefined;
    const tick = (): void => {
      handle = clock.setTimeout(tick, ms);
      callback();
    };
    handle = clock.setTimeout(tick, ms);
    return this.add(() => {
      if (handle !== undefined) clock.clearTimeout(handle);
    });
  }

  /** An event listener owned by this disposer; the returned function removes it. */
  listen<E>(target: ListenerTarget, type: string, listener: (event: E) => void): () => void {
    if (this.#disposed) return () => undefined;
    const erased = listener as unknown as (event: Event) => void;
    target.addEventListener(type, erased);
    return this.add(() => target.removeEventListener(type, erased));
  }

  /** Runs every undo step, newest first; a throwing step does not stop the others. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // Each step is a once-wrapper that removes itself from the set before running.
    const steps = [...(this.#undo ?? [])].reverse();
    for (const step of steps) {
      try {
        step();
      } catch {
        // Teardown must finish; an undo step has nothing useful to report to.
      }
    }
  }

  /** Number of registered undo steps (for leak tests). */
  get size(): number {
    return this.#undo?.size ?? 0;
  }
}
