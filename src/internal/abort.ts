// AbortSignal helpers: the reason an abort rejects with, one shared listener per signal that is
// always removed, and an abortable sleep.
import type { Clock } from './clock.js';
import { deferred } from './deferred.js';

/** The reason a signal aborted with; the platform's AbortError when none was given. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? abortError();
}

/** A fresh standard AbortError (a DOMException), as `AbortSignal.abort()` would carry. */
export function abortError(message = 'This operation was aborted'): unknown {
  return new DOMException(message, 'AbortError');
}

/** One registration: its own object, so the same callback can be registered twice and removed once. */
interface AbortEntry {
  readonly callback: (reason: unknown) => void;
}

/** The callbacks waiting on one signal and the single listener that runs them. */
interface SignalWaiters {
  readonly entries: Set<AbortEntry>;
  readonly listener: () => void;
}

/**
 * The callbacks waiting on each signal. Every signal gets a single 'abort' listener however many
 * tasks share it: one listener per caller made Node print MaxListenersExceededWarning as soon as
 * 11 tasks shared one AbortSignal, and cost a listener per task.
 */
const waiting = new WeakMap<AbortSignal, SignalWaiters>();

function waitersOf(signal: AbortSignal): SignalWaiters {
  let waiters = waiting.get(signal);
  if (waiters === undefined) {
    const entries = new Set<AbortEntry>();
    const listener = (): void => {
      waiting.delete(signal);
      const reason = abortReason(signal);
      // A snapshot, as EventTarget dispatches: callbacks added meanwhile wait for nothing (the
      // signal has aborted), and one removed by an earlier callback is skipped.
      for (const entry of [...entries]) if (entries.delete(entry)) entry.callback(reason);
    };
    waiters = { entries, listener };
    waiting.set(signal, waiters);
    signal.addEventListener('abort', listener, { once: true });
  }
  return waiters;
}

/**
 * Calls `callback` once when `signal` aborts (at once if it already has). Returns the function
 * that removes it; callers run it when they no longer care, so long-lived signals do not collect
 * callbacks (openai-node#1811). All callbacks of one signal share one 'abort' listener, removed
 * with the last of them.
 */
export function onAbort(signal: AbortSignal | undefined, callback: (reason: unknown) => void): () => void {
  if (signal === undefined) return () => undefined;
  if (signal.aborted) {
    callback(abortReason(signal));
    return () => undefined;
  }
  const waiters = waitersOf(signal);
  const entry: AbortEntry = { callback };
  waiters.entries.add(entry);
  return () => {
    if (!waiters.entries.delete(entry) || waiters.entries.size > 0) return;
    if (waiting.get(signal) === waiters) waiting.delete(signal);
    signal.removeEventListener('abort', waiters.listener);
  };
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  const done = deferred<void>();
  const handle = clock.setTimeout(() => {
    removeListener();
    done.resolve();
  }, ms);
  const removeListener = onAbort(signal, (reason) => {
    clock.clearTimeout(handle);
    done.reject(reason);
  });
  return done.promise;
}
