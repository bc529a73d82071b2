// The preview schedule: how a picture "emerges" over the steps. Step k shows the final picture blurred
// by a radius that shrinks to nothing at the last step, as a diffusion model's early steps decode to a
// coarse, soft version of the picture that sharpens step by step; never to noise.

import { boxBlur, createRgbImage, type RgbImage } from './pixels.js';

/**
 * Blur radius of the first steps as a share of the preview's longer side: at 1/12, a 512 px preview
 * starts as soft blobs of the picture's colours and layout, with no fine detail.
 */
const coarsestRadius = 1 / 12;

/** How much fine detail has resolved at `step` (1..steps): 0 shows the coarsest blur, 1 the full picture. */
export function detailLevel(step: number, steps: number): number {
  return Math.max(0, Math.min(1, step / steps));
}

/**
 * Blur radius in pixels of the preview of `step` for a preview whose longer side is `side`. It falls
 * with the square of the remaining steps, so the picture firms up early and only fine detail is left
 * for the last steps; it is exactly 0 at the last step.
 */
export function blurRadius(step: number, steps: number, side: number): number {
  const remaining = 1 - detailLevel(step, steps);
  return side * coarsestRadius * remaining * remaining;
}

/** Preview size: the final's aspect ratio with the longer side at most `maxSide`, never larger than the final. */
export function previewSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, Math.max(1, Math.floor(maxSide)) / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** What every preview of one result is made from: the final picture at preview size. */
export interface PreviewSource {
  readonly target: RgbImage;
  /** Blurs by integer radius, made at most once each: neighbouring steps often share one. */
  readonly blurs: Map<number, Float32Array>;
}

/** Prepares a result's previews. */
export function previewSource(target: RgbImage): PreviewSource {
  return { target, blurs: new Map() };
}

function blurredBy(source: PreviewSource, radius: number): ArrayLike<number> {
  if (radius === 0) return source.target.data;
  let blurred = source.blurs.get(radius);
  if (blurred === undefined) {
    const { target } = source;
    blurred = boxBlur(target.data, target.width, target.height, 3, radius);
    source.blurs.set(radius, blurred);
  }
  return blurred;
}

/**
 * The preview of `step` out of `steps`. A fractional radius mixes the two integer blurs around it,
 * so every step is strictly sharper than the one before, however small the preview.
 */
export function previewFrame(source: PreviewSource, step: number, steps: number): RgbImage {
  const { target } = source;
  const radius = blurRadius(step, steps, Math.max(target.width, target.height));
  const lower = Math.floor(radius);
  const share = radius - lower;
  const sharper = blurredBy(source, lower);
  const softer = share > 0 ? blurredBy(source, lower + 1) : sharper;
  const out = createRgbImage(target.width, target.height);
  for (let i = 0; i < out.data.length; i++) {
    const a = sharper[i] ?? 0;
    out.data[i] = a + ((softer[i] ?? 0) - a) * share;
  }
  return out;
}
