// The preview schedule: how a picture "emerges" over the steps. Step k shows the final picture, first
// blurred and then sharper, under seeded noise that fades out as k approaches the step count.

import { boxBlur, createRgbImage, type RgbImage } from './pixels.js';
import { mulberry32 } from './random.js';

/** Share of noise in the preview of `step` (1..steps): near 1 at the start, exactly 0 at the last step. */
export function noiseLevel(step: number, steps: number): number {
  if (step >= steps) return 0;
  return Math.cos((Math.PI / 2) * (step / steps));
}

/** How much fine detail has resolved at `step`: 0 shows the coarse blur, 1 the full picture. */
export function detailLevel(step: number, steps: number): number {
  return Math.sqrt(Math.min(1, step / steps));
}

/** Preview size: the final's aspect ratio with the longer side at most `maxSide`, never larger than the final. */
export function previewSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, Math.max(1, Math.floor(maxSide)) / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Standard deviation of preview noise in byte units. */
const noiseSpread = 70;

/** What every preview of one result is mixed from, prepared once per result. */
export interface PreviewSource {
  /** The final picture at preview size. */
  readonly target: RgbImage;
  /** A heavy blur of the target: what the early steps resolve first. */
  readonly coarse: Float32Array;
  /** Seeded colour noise around 0, one value per channel. */
  readonly noise: Float32Array;
}

/** Prepares the coarse version and the seeded noise for a result's previews. */
export function previewSource(target: RgbImage, seed: number): PreviewSource {
  const random = mulberry32(seed);
  const noise = new Float32Array(target.data.length);
  for (let i = 0; i < noise.length; i++) {
    // The sum of three uniforms is close enough to Gaussian for a preview, and cheap.
    noise[i] = (random() + random() + random() - 1.5) * 2 * noiseSpread;
  }
  const coarse = boxBlur(target.data, target.width, target.height, 3, Math.max(target.width, target.height) / 24);
  return { target, coarse, noise };
}

/** The preview of `step` out of `steps`. */
export function previewFrame(source: PreviewSource, step: number, steps: number): RgbImage {
  const { target, coarse, noise } = source;
  const sigma = noiseLevel(step, steps);
  const detail = detailLevel(step, steps);
  const out = createRgbImage(target.width, target.height);
  for (let i = 0; i < out.data.length; i++) {
    const c = coarse[i] ?? 0;
    const clean = c + ((target.data[i] ?? 0) - c) * detail;
    out.data[i] = clean + (128 + (noise[i] ?? 0) - clean) * sigma;
  }
  return out;
}
