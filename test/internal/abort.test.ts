// onAbort: one 'abort' listener per signal however many callbacks wait on it, each callback called
// once with the signal's reason, and the listener gone with the last callback.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort } from '../../src/internal/abort.js';

describe('onAbort', () => {
  it('shares one listener among many callbacks and calls each once with the reason', () => {
    const controller = new AbortController();
    const calls: unknown[] = [];
    const callback = (reason: unknown): void => void calls.push(reason);
    // The same function twice counts twice: each registration is its own.
    const removers = [onAbort(controller.signal, callback), onAbort(controller.signal, callback), ...Array.from({ length: 30 }, () => onAbort(controller.signal, () => calls.push('other')))];
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    removers[0]?.();
    removers[0]?.();
    controller.abort('stop');
    expect(calls.filter((reason) => reason === 'stop')).toHaveLength(1);
    expect(calls.filter((reason) => reason === 'other')).toHaveLength(30);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // Removing after the abort is harmless.
    for (const remove of removers) remove();
  });

  it('removes the listener with the last callback, and adds it again for a new one', () => {
    const controller = new AbortController();
    const first = onAbort(controller.signal, () => undefined);
    const second = onAbort(controller.signal, () => undefined);
    first();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    second();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    let reason: unknown;
    onAbort(controller.signal, (r) => (reason = r));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(new Error('late'));
    expect(reason).toMatchObject({ message: 'late' });
  });

  it('lets a callback remove others while the signal aborts: those not yet called are skipped', () => {
    const controller = new AbortController();
    const called: string[] = [];
    let removeB = (): void => undefined;
    onAbort(controller.signal, () => {
      called.push('a');
      removeB();
    });
    removeB = onAbort(controller.signal, () => called.push('b'));
    onAbort(controller.signal, () => called.push('c'));
    controller.abort();
    expect(called).toEqual(['a', 'c']);
  });

  it('calls at once for a signal that already aborted, with an AbortError when it has no reason', () => {
    let reason: unknown;
    const remove = onAbort(AbortSignal.abort(), (r) => (reason = r));
    expect(reason).toMatchObject({ name: 'AbortError' });
    remove();
    expect(onAbort(undefined, () => undefined)()).toBeUndefined();
  });
});
