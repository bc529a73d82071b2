// Size, steps, CFGScale, output formats and quality all have the effect the protocol promises.
import { describe, expect, it } from 'vitest';
import { decode, detailEnergy, final, meanAbsDiff, meanSaturation, render, request } from './helpers.js';

describe('procedural engine parameters', () => {
  it.each([
    [128, 128],
    [192, 128],
    [128, 320],
    [512, 256],
  ])('renders exactly %i × %i', async (width, height) => {
    const event = await final(request({ width, height }));
    expect([event.width, event.height]).toEqual([width, height]);
    const pixels = await decode(event.image);
    expect([pixels.width, pixels.height]).toEqual([width, height]);
  });

  it('adds fine detail with more steps without changing the composition', async () => {
    const few = await render(request({ steps: 4 }));
    const many = await render(request({ steps: 30 }));
    expect(meanAbsDiff(few.data, many.data)).toBeGreaterThan(2);
    expect(detailEnergy(many)).toBeGreaterThan(detailEnergy(few) * 1.3);
    // Same layout: the difference stays far below that of another seed.
    const otherSeed = await render(request({ steps: 30, seed: 4321 }));
    expect(meanAbsDiff(few.data, many.data)).toBeLessThan(meanAbsDiff(many.data, otherSeed.data));
  });

  it('saturates more with a higher CFGScale', async () => {
    const saturations: number[] = [];
    for (const CFGScale of [0, 2, 7, 14, 30]) {
      saturations.push(meanSaturation((await render(request({ positivePrompt: 'orange and teal harbour', CFGScale }))).data));
    }
    for (let i = 1; i < saturations.length; i++) expect(saturations[i]).toBeGreaterThan((saturations[i - 1] ?? 0) + 0.005);
    expect((saturations.at(-1) ?? 0) - (saturations[0] ?? 0)).toBeGreaterThan(0.2);
  });

  it.each([
    ['PNG', 'png'],
    ['JPG', 'jpeg'],
    ['WEBP', 'webp'],
  ] as const)('encodes real %s output', async (outputFormat, sharpFormat) => {
    const event = await final(request({ outputFormat, width: 192, height: 128 }));
    expect(event.format).toBe(outputFormat);
    const pixels = await decode(event.image);
    expect(pixels.format).toBe(sharpFormat);
    expect([pixels.width, pixels.height]).toEqual([192, 128]);
  });

  it.each(['JPG', 'WEBP'] as const)('honours outputQuality for %s', async (outputFormat) => {
    const low = await final(request({ outputFormat, outputQuality: 20, steps: 30 }));
    const high = await final(request({ outputFormat, outputQuality: 95, steps: 30 }));
    expect(low.image.length).toBeLessThan(high.image.length * 0.8);
    // Both decode to (nearly) the same picture.
    expect(meanAbsDiff((await decode(low.image)).data, (await decode(high.image)).data)).toBeLessThan(12);
  });

  it('ignores outputQuality for lossless PNG', async () => {
    const a = await final(request({ outputQuality: 20 }));
    const b = await final(request({ outputQuality: 99 }));
    expect(Buffer.from(a.image)).toEqual(Buffer.from(b.image));
  });
});
