// Cancellation: an aborted generation stops at once with signal.reason and leaves no timer or
// listener behind; step delays apply with and without previews.
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProceduralEngine } from '../../src/engine/index.js';
import { sleep } from '../../src/engine/sleep.js';
import { collect, request } from './helpers.js';

/** Lets pending I/O and promise callbacks run until `done()` holds (no timers involved). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
  if (!done()) throw new Error('condition never became true');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('sleep', () => {
  it('resolves after the delay and removes its abort listener', async () => {
    const controller = new AbortController();
    await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects with signal.reason on abort and clears its timer', async () => {
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout');
    const controller = new AbortController();
    const reason = new Error('stop');
    const pending = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    const timer = setSpy.mock.results[0]?.value as unknown;
    expect(clearSpy).toHaveBeenCalledWith(timer);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects at once without a timer when already aborted', async () => {
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const reason = new Error('already');
    await expect(sleep(60_000, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(setSpy).not.toHaveBeenCalled();
  });
});

describe('aborting a generation', () => {
  it('throws signal.reason when the signal is already aborted', async () => {
    const reason = new Error('cancelled before start');
    await expect(collect(request(), AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('stops mid-step (no previews) with signal.reason and clears the step timer', async () => {
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout');
    const slow = createProceduralEngine({ stepDelayMs: 60_000 });
    const controller = new AbortController();
    const iterator = slow.generate(request(), { signal: controller.signal })[Symbol.asyncIterator]();
    const next = iterator.next();
    // Wait until the engine sleeps through its first step; a minute-long step shows that the
    // rejection below comes from the abort, not from the step ending.
    await until(() => setSpy.mock.calls.some(([, delay]) => delay === 60_000));
    const reason = new Error('cancelled mid-step');
    controller.abort(reason);
    await expect(next).rejects.toBe(reason);
    const stepTimer = setSpy.mock.results[setSpy.mock.calls.findIndex(([, delay]) => delay === 60_000)]?.value as unknown;
    expect(clearSpy).toHaveBeenCalledWith(stepTimer);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('stops between results with signal.reason', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled after the first image');
    const seen: string[] = [];
    const run = async (): Promise<void> => {
      for await (const event of createProceduralEngine({ stepDelayMs: 0 }).generate(request({ numberResults: 3, previews: { format: 'JPG', maxSide: 32 } }), {
        signal: controller.signal,
      })) {
        seen.push(`${event.kind}${event.index}`);
        if (event.kind === 'final') controller.abort(reason);
      }
    };
    await expect(run()).rejects.toBe(reason);
    expect(seen.filter((s) => s.startsWith('final'))).toEqual(['final0']);
  });

  it('sleeps stepDelayMs once per step, with and without previews', async () => {
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const engine = createProceduralEngine({ stepDelayMs: 1 });
    const stepSleeps = (): number => setSpy.mock.calls.filter(([, delay]) => delay === 1).length;
    await collect(request({ steps: 4, numberResults: 2 }), new AbortController().signal, engine);
    expect(stepSleeps()).toBe(8);
    await collect(request({ steps: 3, previews: { format: 'JPG', maxSide: 32 } }), new AbortController().signal, engine);
    expect(stepSleeps()).toBe(11);
  });

  it('rejects a negative or non-finite stepDelayMs', () => {
    expect(() => createProceduralEngine({ stepDelayMs: -1 })).toThrow(RangeError);
    expect(() => createProceduralEngine({ stepDelayMs: Number.NaN })).toThrow(RangeError);
  });
});
