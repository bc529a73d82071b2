// The live page's hold rule: the canvas keeps its picture until a newer request's preview has come
// at least as far (or a quarter of the way, which replaces even a final).
import { describe, expect, it } from 'vitest';
import { GOOD_ENOUGH_PROGRESS, mayReplace } from '../../src/web/hold.js';

describe('live page hold rule', () => {
  it('paints anything on an empty canvas, and every later step of the request it shows', () => {
    expect(mayReplace(undefined, { seq: 1, progress: 1 / 12 })).toBe(true);
    expect(mayReplace({ seq: 3, progress: 0.5 }, { seq: 3, progress: 7 / 12 })).toBe(true);
  });

  it('keeps a picture until a newer request is as far along', () => {
    const shown = { seq: 4, progress: 2 / 12 };
    expect(mayReplace(shown, { seq: 5, progress: 1 / 12 })).toBe(false);
    expect(mayReplace(shown, { seq: 5, progress: 2 / 12 })).toBe(true);
    expect(mayReplace(shown, { seq: 9, progress: 3 / 20 })).toBe(false);
    expect(mayReplace(shown, { seq: 9, progress: 4 / 20 })).toBe(true);
  });

  it('lets a preview a quarter of the way along replace a picture further along, a final too', () => {
    const final = { seq: 4, progress: 1 };
    expect(mayReplace(final, { seq: 5, progress: 2 / 12 })).toBe(false);
    expect(mayReplace(final, { seq: 5, progress: 3 / 12 })).toBe(true);
    expect(mayReplace({ seq: 4, progress: 0.6 }, { seq: 5, progress: GOOD_ENOUGH_PROGRESS })).toBe(true);
    expect(mayReplace(final, { seq: 5, progress: 1 })).toBe(true);
  });
});
