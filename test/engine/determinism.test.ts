// The procedural engine is deterministic: same request, same bytes; result k of seed s is seed s + k.
import { describe, expect, it } from 'vitest';
import { gradientPng, finals, meanAbsDiff, decode, request } from './helpers.js';

describe('procedural engine determinism', () => {
  for (const outputFormat of ['PNG', 'JPG', 'WEBP'] as const) {
    it(`gives byte-identical ${outputFormat} output for the same request`, async () => {
      const req = request({ outputFormat, numberResults: 2 });
      const first = await finals(req);
      const second = await finals(req);
      expect(first).toHaveLength(2);
      expect(second.map((f) => Buffer.from(f.image))).toEqual(first.map((f) => Buffer.from(f.image)));
    });
  }

  it('is deterministic with a seed image, mask and previews too', async () => {
    const seedImage = await gradientPng(100, 80);
    const req = request({ seedImage, strength: 0.5, previews: { format: 'WEBP', maxSide: 64 } });
    const images = async (): Promise<Buffer[]> => (await finals(req)).map((f) => Buffer.from(f.image));
    expect(await images()).toEqual(await images());
  });

  it('renders result k with seed + k, identical to a one-result request with that seed', async () => {
    const batch = await finals(request({ seed: 500, numberResults: 3, outputFormat: 'JPG' }));
    expect(batch.map((f) => [f.index, f.seed])).toEqual([
      [0, 500],
      [1, 501],
      [2, 502],
    ]);
    const [single] = await finals(request({ seed: 501, numberResults: 1, outputFormat: 'JPG' }));
    expect(single?.seed).toBe(501);
    expect(Buffer.from(batch[1]?.image ?? [])).toEqual(Buffer.from(single?.image ?? []));
  });

  it('gives different seeds visibly different pictures', async () => {
    const [a, b] = await finals(request({ numberResults: 2 }));
    if (a === undefined || b === undefined) throw new Error('expected two finals');
    expect(meanAbsDiff((await decode(a.image)).data, (await decode(b.image)).data)).toBeGreaterThan(5);
  });
});
