// The procedural engine's own bound on decoded pixels (sharp's limitInputPixels): an input declaring
// more is refused with imageDimensionsTooLarge before it is decoded, even without the server in front.
import { describe, expect, it } from 'vitest';
import { defaultMaxInputPixels, EngineError } from '../../src/engine/index.js';
import { pixelBombPng } from '../helpers/http-fixture.js';
import { collect, request } from './helpers.js';

const bomb = pixelBombPng(12_000, 12_000);

describe("the engine's own bound", () => {
  it.each([
    ['seedImage', { seedImage: bomb }],
    ['maskImage', { seedImage: pixelBombPng(64, 64), maskImage: bomb }],
  ])('refuses a %s over maxInputPixels with imageDimensionsTooLarge, without decoding it', async (parameter, images) => {
    const failure = collect(request({ ...images, maxInputPixels: 4096 * 4096 }));
    await expect(failure).rejects.toThrow(EngineError);
    await expect(failure).rejects.toMatchObject({ code: 'imageDimensionsTooLarge', parameter });
  });

  it('bounds a request that names no limit by defaultMaxInputPixels (4096 × 4096)', async () => {
    expect(defaultMaxInputPixels).toBe(4096 * 4096);
    await expect(collect(request({ seedImage: bomb }))).rejects.toMatchObject({ code: 'imageDimensionsTooLarge', parameter: 'seedImage' });
  });
});
