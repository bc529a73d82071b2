// Image-to-image, inpainting and outpainting: the seed image is blended by strength, kept outside the
// mask, kept inside the outpaint canvas; unreadable images and wrong canvases are refused.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/index.js';
import { decode, final, gradientPng, meanAbsDiff, rectMaskPng, render, request } from './helpers.js';

async function engineError(promise: Promise<unknown>): Promise<EngineError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}

describe('image-to-image', () => {
  it('keeps the seed image exactly at strength 0 (PNG, same size)', async () => {
    const seedImage = await gradientPng(128, 128);
    const out = await render(request({ seedImage, strength: 0 }));
    expect(Buffer.from(out.data)).toEqual(Buffer.from((await decode(seedImage)).data));
  });

  it('resizes a seed image of another size to width × height', async () => {
    const seedImage = await gradientPng(300, 90);
    const out = await render(request({ seedImage, strength: 0, width: 192, height: 128 }));
    const expected = await sharp(seedImage).resize(192, 128, { fit: 'fill' }).raw().toBuffer();
    expect([out.width, out.height]).toEqual([192, 128]);
    expect(meanAbsDiff(out.data, new Uint8Array(expected))).toBeLessThan(1);
  });

  it('moves away from the seed image as strength grows, and ignores it at strength 1', async () => {
    const seedImage = await gradientPng(128, 128);
    const seed = (await decode(seedImage)).data;
    const distances: number[] = [];
    for (const strength of [0, 0.25, 0.5, 0.75, 1]) distances.push(meanAbsDiff((await render(request({ seedImage, strength }))).data, seed));
    expect(distances[0]).toBe(0);
    for (let i = 1; i < distances.length; i++) expect(distances[i]).toBeGreaterThan((distances[i - 1] ?? 0) + 3);

    const textOnly = await final(request());
    const ignoring = await final(request({ seedImage, strength: 1 }));
    expect(Buffer.from(ignoring.image)).toEqual(Buffer.from(textOnly.image));
  });

  it('accepts JPG and WEBP seed images', async () => {
    const png = await gradientPng(128, 128);
    for (const seedImage of [await sharp(png).jpeg().toBuffer(), await sharp(png).webp().toBuffer()]) {
      const out = await render(request({ seedImage, strength: 0 }));
      expect(meanAbsDiff(out.data, (await decode(png)).data)).toBeLessThan(4);
    }
  });
});

describe('inpainting', () => {
  const box = [32, 40, 96, 88] as const;
  const inside = (x: number, y: number): boolean => x >= box[0] && x < box[2] && y >= box[1] && y < box[3];

  async function inpainted(maskMargin?: number): Promise<{ out: Uint8Array; seed: Uint8Array }> {
    const seedImage = await gradientPng(128, 128);
    const maskImage = await rectMaskPng(128, 128, ...box);
    const out = await render(request({ seedImage, maskImage, strength: 1, ...(maskMargin === undefined ? {} : { maskMargin }) }));
    return { out: out.data, seed: (await decode(seedImage)).data };
  }

  function split(out: Uint8Array, seed: Uint8Array): { outsideChanged: number; insideDiff: number } {
    let outsideChanged = 0;
    let insideTotal = 0;
    let insideCount = 0;
    for (let y = 0; y < 128; y++) {
      for (let x = 0; x < 128; x++) {
        for (let c = 0; c < 3; c++) {
          const i = (y * 128 + x) * 3 + c;
          const d = Math.abs((out[i] ?? 0) - (seed[i] ?? 0));
          if (inside(x, y)) {
            insideTotal += d;
            insideCount++;
          } else if (d !== 0) outsideChanged++;
        }
      }
    }
    return { outsideChanged, insideDiff: insideTotal / insideCount };
  }

  it('leaves every pixel outside the mask exactly as in the seed image and repaints inside', async () => {
    const { out, seed } = await inpainted();
    const { outsideChanged, insideDiff } = split(out, seed);
    expect(outsideChanged).toBe(0);
    expect(insideDiff).toBeGreaterThan(20);
  });

  it('feathers inward with maskMargin, still without touching pixels outside the mask', async () => {
    const hard = await inpainted();
    const soft = await inpainted(12);
    const { outsideChanged, insideDiff } = split(soft.out, soft.seed);
    expect(outsideChanged).toBe(0);
    expect(insideDiff).toBeGreaterThan(5);
    // Just inside the edge the feathered result stays closer to the seed image.
    const edge = (40 * 128 + 64) * 3;
    const hardStep = Math.abs((hard.out[edge] ?? 0) - (hard.seed[edge] ?? 0)) + Math.abs((hard.out[edge + 1] ?? 0) - (hard.seed[edge + 1] ?? 0));
    const softStep = Math.abs((soft.out[edge] ?? 0) - (soft.seed[edge] ?? 0)) + Math.abs((soft.out[edge + 1] ?? 0) - (soft.seed[edge + 1] ?? 0));
    expect(softStep).toBeLessThan(hardStep);
  });

  it('stretches a mask of another size to the canvas', async () => {
    const seedImage = await gradientPng(128, 128);
    // Right half white at 64 × 32 becomes the right half at 128 × 128.
    const maskImage = await rectMaskPng(64, 32, 32, 0, 64, 32);
    const out = (await render(request({ seedImage, maskImage, strength: 1 }))).data;
    const seed = (await decode(seedImage)).data;
    const changedLeft = [...out].filter((v, i) => Math.floor(i / 3) % 128 < 60 && v !== seed[i]).length;
    expect(changedLeft).toBe(0);
    expect(meanAbsDiff(out, seed)).toBeGreaterThan(5);
  });
});

describe('outpainting', () => {
  const sides = { top: 64, right: 0, bottom: 0, left: 64, blur: 8 };

  it('keeps the seed image on the grown canvas away from the seam and generates the new area', async () => {
    const seedImage = await gradientPng(128, 128);
    const seed = (await decode(seedImage)).data;
    const out = await render(request({ seedImage, outpaint: sides, width: 192, height: 192 }));
    expect([out.width, out.height]).toEqual([192, 192]);
    let changedInside = 0;
    let extensionDiff = 0;
    let extensionCount = 0;
    for (let y = 0; y < 192; y++) {
      for (let x = 0; x < 192; x++) {
        for (let c = 0; c < 3; c++) {
          const o = out.data[(y * 192 + x) * 3 + c] ?? 0;
          if (x >= 64 + sides.blur && y >= 64 + sides.blur) {
            if (o !== seed[((y - 64) * 128 + (x - 64)) * 3 + c]) changedInside++;
          } else if (x < 64 || y < 64) {
            // Compare with the seed pixel nearest to this one: a plain stretch of the edge would match.
            const sx = Math.max(0, x - 64);
            const sy = Math.max(0, y - 64);
            extensionDiff += Math.abs(o - (seed[(sy * 128 + sx) * 3 + c] ?? 0));
            extensionCount++;
          }
        }
      }
    }
    expect(changedInside).toBe(0);
    expect(extensionDiff / extensionCount).toBeGreaterThan(20);
  });

  it('blurs the seam only when blur > 0', async () => {
    const seedImage = await gradientPng(128, 128);
    const seed = (await decode(seedImage)).data;
    const hard = await render(request({ seedImage, outpaint: { ...sides, blur: 0 }, width: 192, height: 192 }));
    const soft = await render(request({ seedImage, outpaint: sides, width: 192, height: 192 }));
    /** How many seed-region values differ from the seed image. */
    const changed = (data: Uint8Array): number => {
      let count = 0;
      for (let y = 64; y < 192; y++) {
        for (let i = (y * 192 + 64) * 3; i < (y + 1) * 192 * 3; i++) if (data[i] !== seed[i - ((y * 192 + 64) * 3) + (y - 64) * 128 * 3]) count++;
      }
      return count;
    };
    expect(changed(hard.data)).toBe(0);
    expect(changed(soft.data)).toBeGreaterThan(100);
  });

  it('refuses a canvas that does not fit the seed image and the sides', async () => {
    const seedImage = await gradientPng(128, 128);
    const wide = await engineError(final(request({ seedImage, outpaint: sides, width: 256, height: 192 })));
    expect([wide.code, wide.parameter]).toEqual(['invalidOutpaint', 'width']);
    const tall = await engineError(final(request({ seedImage, outpaint: sides, width: 192, height: 128 })));
    expect([tall.code, tall.parameter]).toEqual(['invalidOutpaint', 'height']);
  });
});

describe('unreadable images', () => {
  it('refuses seed bytes that are not an image', async () => {
    const error = await engineError(final(request({ seedImage: new TextEncoder().encode('not an image'), strength: 0.5 })));
    expect([error.code, error.parameter]).toEqual(['invalidSeedImage', 'seedImage']);
  });

  it('refuses a truncated PNG seed image', async () => {
    const png = await gradientPng(256, 256);
    const error = await engineError(final(request({ seedImage: png.subarray(0, Math.floor(png.length / 2)) })));
    expect(error.code).toBe('invalidSeedImage');
  });

  it('refuses image formats other than PNG, JPG and WEBP', async () => {
    const gif = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#ff0000' } }).gif().toBuffer();
    const error = await engineError(final(request({ seedImage: gif })));
    expect(error.code).toBe('invalidSeedImage');
    expect(error.message).toContain('PNG, JPG or WEBP');
  });

  it('refuses mask bytes that are not an image', async () => {
    const error = await engineError(final(request({ seedImage: await gradientPng(128, 128), maskImage: new Uint8Array([1, 2, 3, 4]) })));
    expect([error.code, error.parameter]).toEqual(['invalidMaskImage', 'maskImage']);
  });
});
