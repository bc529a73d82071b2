// Deadlines: one timer for many entries; each entry expires once, at its own deadline, unless removed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/internal/clock.js';
import { Deadlines, type Expirable } from '../../src/internal/deadlines.js';

function entry(log: string[], name: string): Expirable {
  return { expire: (ms) => log.push(`${name}@${ms}`) };
}

describe('Deadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires each entry at its own deadline, across durations, in deadline order', () => {
    const deadlines = new Deadlines(systemClock);
    const log: string[] = [];
    deadlines.add(entry(log, 'a'), 300);
    vi.advanceTimersByTime(50);
    deadlines.add(entry(log, 'b'), 300);
    deadlines.add(entry(log, 'c'), 100);
    vi.advanceTimersByTime(99);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['c@100']);
    vi.advanceTimersByTime(149);
    expect(log).toEqual(['c@100']);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['c@100', 'a@300']);
    vi.advanceTimersByTime(50);
    expect(log).toEqual(['c@100', 'a@300', 'b@300']);
    expect(deadlines.size).toBe(0);
  });

  it('never expires a removed entry, and keeps one timer however many entries wait', () => {
    const deadlines = new Deadlines(systemClock);
    const log: string[] = [];
    const many = Array.from({ length: 1000 }, (_, i) => entry(log, `t${i}`));
    for (const e of many) deadlines.add(e, 1000);
    expect(vi.getTimerCount()).toBe(1);
    for (const e of many.slice(0, 999)) expect(deadlines.remove(e)).toBe(true);
    expect(deadlines.remove(many[0] as Expirable)).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(log).toEqual(['t999@1000']);
  });

  it('adding an entry again moves its deadline; clear() forgets everything and stops the timer', () => {
    const deadlines = new Deadlines(systemClock);
    const log: string[] = [];
    const a = entry(log, 'a');
    deadlines.add(a, 100);
    vi.advanceTimersByTime(60);
    deadlines.add(a, 100);
    vi.advanceTimersByTime(60);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(40);
    expect(log).toEqual(['a@100']);
    deadlines.add(entry(log, 'b'), 100);
    deadlines.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(log).toEqual(['a@100']);
  });
});
