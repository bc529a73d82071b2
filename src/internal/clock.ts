// Timers behind one small interface, so the policies that use them run on fake time in tests, and
// so every timer of the client and the server is unref'd in Node: only an explicit hold keeps a
// process alive.

/** An opaque timer handle from {@link Clock.setTimeout}. */
export type TimerHandle = ReturnType<typeof globalThis.setTimeout>;

/** The time source and timers the client uses; injectable for tests. */
export interface Clock {
  /** Milliseconds on a clock that fake timers can move (Date.now by default). */
  now(): number;
  /** Runs `callback` once after `ms`. Must not keep a Node process alive on its own. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * A clock that also reads monotonic time: the server's, which stamps expiries with the wall clock
 * ({@link Clock.now}) but measures silence and stalls with a clock a wall-clock step cannot move.
 */
export interface MonotonicClock extends Clock {
  /** Milliseconds that only ever go forward, from an arbitrary origin (performance.now by default). */
  monotonic(): number;
}

interface Unrefable {
  unref?: () => unknown;
}

/**
 * The global timers, unref'd where the platform allows it (Node). Looked up on every call, so
 * fake timers installed after the client was created still apply.
 */
export const systemClock: MonotonicClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(callback, ms) {
    const handle = globalThis.setTimeout(callback, ms);
    (handle as Unrefable).unref?.();
    return handle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle);
  },
};

// Longest delay setInterval accepts without wrapping around to 1 ms.
const LONGEST_DELAY_MS = 2 ** 31 - 1;

/**
 * Keeps a Node process alive until the returned release function runs: the client holds one
 * while the caller is waiting for something (a task, a query, `connect()`), and none when idle.
 * A no-op where timers cannot be unref'd (browsers have no process to keep alive).
 */
export function holdProcess(): () => void {
  const probe = globalThis.setInterval(() => undefined, LONGEST_DELAY_MS);
  if (typeof (probe as Unrefable).unref !== 'function') {
    globalThis.clearInterval(probe);
    return () => undefined;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    globalThis.clearInterval(probe);
  };
}
