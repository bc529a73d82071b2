// A promise with its resolve/reject at hand, that settles once and never reports an unhandled
// rejection by itself: a task the caller never awaits must not crash the process.

/** A promise plus the functions that settle it. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): boolean;
  reject(error: unknown): boolean;
}

function ignore(): void {
  // Marks a promise handled; whoever awaits it still sees the rejection.
}

/** A class rather than closures: one is made per task, and an object with methods on its prototype is smaller. */
class Settler<T> implements Deferred<T> {
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;
  #settled = false;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.promise.catch(ignore);
  }

  resolve(value: T): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#resolve(value);
    return true;
  }

  reject(error: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#reject(error);
    return true;
  }
}

/** Creates a {@link Deferred}; `resolve`/`reject` return false once it has settled. */
export function deferred<T>(): Deferred<T> {
  return new Settler<T>();
}
