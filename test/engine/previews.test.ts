// Previews: only when asked for, one per step at preview size, in order before each final, and showing
// the picture sharpening from a coarse version of itself, as a diffusion model's previews do.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { roughness } from '../helpers/roughness.js';
import { collect, decode, final, meanAbsDiff, request, type PreviewEvent } from './helpers.js';

describe('procedural engine previews', () => {
  it('yields steps previews then the final, result by result', async () => {
    const events = await collect(request({ numberResults: 2, steps: 5, width: 192, height: 128, previews: { format: 'JPG', maxSide: 64 } }));
    const order = events.map((e) => (e.kind === 'preview' ? `p${e.index}.${e.step}/${e.steps}` : `f${e.index}`));
    expect(order).toEqual(['p0.1/5', 'p0.2/5', 'p0.3/5', 'p0.4/5', 'p0.5/5', 'f0', 'p1.1/5', 'p1.2/5', 'p1.3/5', 'p1.4/5', 'p1.5/5', 'f1']);
    for (const event of events.filter((e): e is PreviewEvent => e.kind === 'preview')) {
      expect([event.format, event.width, event.height]).toEqual(['JPG', 64, 43]);
      const pixels = await decode(event.image);
      expect([pixels.format, pixels.width, pixels.height]).toEqual(['jpeg', 64, 43]);
    }
  });

  it('makes previews only at the steps asked for', async () => {
    const events = await collect(request({ numberResults: 2, steps: 6, width: 128, height: 128, previews: { format: 'JPG', maxSide: 32, steps: [2, 5] } }));
    const order = events.map((e) => (e.kind === 'preview' ? `p${e.index}.${e.step}/${e.steps}` : `f${e.index}`));
    expect(order).toEqual(['p0.2/6', 'p0.5/6', 'f0', 'p1.2/6', 'p1.5/6', 'f1']);
  });

  it('encodes WEBP previews and never makes them larger than the final', async () => {
    const events = await collect(request({ steps: 2, previews: { format: 'WEBP', maxSide: 1024, quality: 80 } }));
    const preview = events[0];
    if (preview?.kind !== 'preview') throw new Error('expected a preview first');
    const pixels = await decode(preview.image);
    expect([preview.format, pixels.format, pixels.width, pixels.height]).toEqual(['WEBP', 'webp', 128, 128]);
  });

  it('sharpens from a coarse version of the final, never noise: each preview closer to the final than earlier ones', async () => {
    const steps = 10;
    const events = await collect(request({ steps, width: 256, height: 256, previews: { format: 'WEBP', maxSide: 64, quality: 90 } }));
    const last = events.at(-1);
    if (last?.kind !== 'final') throw new Error('expected a final last');
    const target = new Uint8Array(await sharp(last.image).resize(64, 64, { fit: 'fill' }).raw().toBuffer());
    const finalRoughness = roughness(target, 64, 64, 3);
    const distances: number[] = [];
    const rough: number[] = [];
    for (const event of events) {
      if (event.kind !== 'preview') continue;
      const pixels = await decode(event.image);
      distances.push(meanAbsDiff(pixels.data, target));
      rough.push(roughness(pixels.data, pixels.width, pixels.height, 3));
    }
    expect(distances).toHaveLength(steps);
    for (let i = 1; i < steps; i++) expect(distances[i]).toBeLessThan(distances[i - 1] ?? Infinity);
    // The last step is the final up to encoding.
    expect(distances[steps - 1]).toBeLessThan(6);
    // Noise scores about 1 (the engine's early previews did, before they became coarse pictures).
    // Every preview is as smooth as the final or smoother, and the first much smoother: detail comes
    // last, step by step.
    for (let i = 1; i < steps; i++) expect(rough[i]).toBeGreaterThan(rough[i - 1] ?? Infinity);
    expect(rough.at(-1)).toBeLessThan(1.05 * finalRoughness);
    expect(rough[0]).toBeLessThan(finalRoughness / 3);
  });

  it('yields only finals without previews, and the same finals as with them', async () => {
    const plain = await collect(request({ numberResults: 3, steps: 6 }));
    expect(plain.map((e) => `${e.kind}${e.index}`)).toEqual(['final0', 'final1', 'final2']);
    const withPreviews = await final(request({ steps: 6, previews: { format: 'JPG', maxSide: 32 } }));
    const first = plain[0];
    expect(first?.kind).toBe('final');
    expect(Buffer.from(withPreviews.image)).toEqual(Buffer.from(first?.image ?? []));
  });
});
