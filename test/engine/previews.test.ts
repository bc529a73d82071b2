// Previews: only when asked for, one per step at preview size, in order before each final, and showing
// the picture emerging from noise.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
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

  it('shows the picture emerging from noise: each preview closer to the final than earlier ones', async () => {
    const steps = 10;
    const events = await collect(request({ steps, width: 256, height: 256, previews: { format: 'WEBP', maxSide: 64, quality: 90 } }));
    const last = events.at(-1);
    if (last?.kind !== 'final') throw new Error('expected a final last');
    const target = new Uint8Array(await sharp(last.image).resize(64, 64, { fit: 'fill' }).raw().toBuffer());
    const distances: number[] = [];
    for (const event of events) if (event.kind === 'preview') distances.push(meanAbsDiff((await decode(event.image)).data, target));
    expect(distances).toHaveLength(steps);
    for (let i = 1; i < steps; i++) expect(distances[i]).toBeLessThan(distances[i - 1] ?? Infinity);
    expect(distances[0]).toBeGreaterThan(30);
    expect(distances[steps - 1]).toBeLessThan(6);
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
