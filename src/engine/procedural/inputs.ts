// Decodes and sizes a request's seed image, mask and outpaint settings once, before any result is rendered.

import { defaultMaxInputPixels, EngineError, type EngineRequest } from '../engine.js';
import type { Sharp } from '../sharp.js';
import { checkOutpaintSize, maskWeights, type PreparedImages } from './compose.js';
import { decodeMask, decodeRgb, resizeRgb } from './images.js';

/**
 * The request's images ready for `compose`, or undefined for plain text-to-image. The seed image is
 * stretched to width × height, except when outpainting, where it keeps its size and the canvas must fit
 * it exactly. The mask is stretched to width × height (the whole canvas when outpainting).
 */
export async function prepareImages(sharp: Sharp, request: EngineRequest): Promise<PreparedImages | undefined> {
  const { seedImage, maskImage, outpaint, width, height } = request;
  const maxPixels = request.maxInputPixels ?? defaultMaxInputPixels;
  if (seedImage === undefined) {
    if (maskImage !== undefined) throw new EngineError('invalidSeedImage', 'maskImage needs a seedImage to repaint', { parameter: 'seedImage' });
    if (outpaint !== undefined) throw new EngineError('invalidOutpaint', 'outpaint needs a seedImage to extend', { parameter: 'outpaint' });
    return undefined;
  }
  const decoded = await decodeRgb(sharp, seedImage, maxPixels);
  if (outpaint !== undefined) checkOutpaintSize(decoded.width, decoded.height, width, height, outpaint);
  const seed = outpaint === undefined ? await resizeRgb(sharp, decoded, width, height) : decoded;
  const mask = maskImage === undefined ? undefined : maskWeights(await decodeMask(sharp, maskImage, width, height, maxPixels), request.maskMargin ?? 0);
  return { seed, ...(mask === undefined ? {} : { mask }), ...(outpaint === undefined ? {} : { outpaint }) };
}
