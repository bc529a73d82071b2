// Combines a generated picture with the request's seed image: image-to-image blending, inpainting
// with a mask, and outpainting onto a larger canvas. Pure pixel arithmetic on decoded images.

import { EngineError, type OutpaintSides } from '../engine.js';
import type { GreyImage } from './images.js';
import { smooth } from './noise.js';
import { boxBlur, createRgbImage, type RgbImage } from './pixels.js';

/** The seed-image side of a request, decoded and sized once and reused for every result. */
export interface PreparedImages {
  /** The seed image: at width × height, or at its own size when outpainting. */
  readonly seed: RgbImage;
  /** Per-pixel repaint weight 0..1 at width × height, from the mask. */
  readonly mask?: Float32Array;
  readonly outpaint?: OutpaintSides;
}

/**
 * Image-to-image: moves from the seed image toward the generated picture by `strength`.
 * 0 returns the seed pixels exactly, 1 the generated pixels exactly.
 */
export function blend(reference: RgbImage, generated: RgbImage, strength: number): RgbImage {
  const out = createRgbImage(generated.width, generated.height);
  const a = reference.data;
  const b = generated.data;
  for (let i = 0; i < out.data.length; i++) {
    const from = a[i] ?? 0;
    out.data[i] = from + ((b[i] ?? 0) - from) * strength;
  }
  return out;
}

/**
 * Repaint weights from a grey mask: white (≥ 128) repaints, black keeps. A `margin` above 0 feathers
 * the mask edge inward over about that many pixels, so the repainted area fades in while every pixel
 * outside the mask still stays exactly as it was.
 */
export function maskWeights(mask: GreyImage, margin = 0): Float32Array {
  const { width, height, data } = mask;
  const binary = new Float32Array(width * height);
  for (let i = 0; i < binary.length; i++) binary[i] = (data[i] ?? 0) >= 128 ? 1 : 0;
  if (margin <= 0) return binary;
  // Two box passes of radius r spread an edge over about 2r pixels each side; inside, the blurred
  // value climbs from 0.5 at the edge to 1 about `margin` pixels in.
  const blurred = boxBlur(binary, width, height, 1, margin / 2);
  for (let i = 0; i < binary.length; i++) {
    if (binary[i] === 0) continue;
    const b = blurred[i] ?? 1;
    binary[i] = b <= 0.5 ? 0 : b >= 1 ? 1 : smooth((b - 0.5) * 2);
  }
  return binary;
}

/** Inpainting: the image-to-image blend where the mask weight is 1, the reference untouched where it is 0. */
export function inpaint(reference: RgbImage, generated: RgbImage, weights: Float32Array, strength: number): RgbImage {
  const out = createRgbImage(generated.width, generated.height);
  const a = reference.data;
  const b = generated.data;
  for (let p = 0; p < weights.length; p++) {
    const w = (weights[p] ?? 0) * strength;
    for (let c = p * 3; c < p * 3 + 3; c++) {
      const from = a[c] ?? 0;
      out.data[c] = w === 0 ? from : from + ((b[c] ?? 0) - from) * w;
    }
  }
  return out;
}

/** Fails with `invalidOutpaint` unless the canvas is exactly the seed image plus the sides. */
export function checkOutpaintSize(seedWidth: number, seedHeight: number, width: number, height: number, sides: OutpaintSides): void {
  const wantWidth = seedWidth + sides.left + sides.right;
  const wantHeight = seedHeight + sides.top + sides.bottom;
  if (width !== wantWidth) {
    throw new EngineError(
      'invalidOutpaint',
      `width must equal the seed image width ${seedWidth} + outpaint.left ${sides.left} + outpaint.right ${sides.right} = ${wantWidth}; got ${width}`,
      { parameter: 'width' },
    );
  }
  if (height !== wantHeight) {
    throw new EngineError(
      'invalidOutpaint',
      `height must equal the seed image height ${seedHeight} + outpaint.top ${sides.top} + outpaint.bottom ${sides.bottom} = ${wantHeight}; got ${height}`,
      { parameter: 'height' },
    );
  }
}

/** How strongly the new area leans toward the nearest seed edge colour right at the seam, and how fast that fades (px). */
const continuity = 0.6;
const continuityFade = 32;

/**
 * Outpainting: the seed image at (left, top) on the generated canvas. The new area starts out leaning
 * toward the seed image's edge colours and fades into the generated picture; then a band of `blur`
 * pixels around each extended edge is blurred, strongest on the seam. Seed pixels further than `blur`
 * from an extended edge are kept exactly.
 */
export function outpaint(seed: RgbImage, generated: RgbImage, sides: OutpaintSides): RgbImage {
  const { width, height } = generated;
  const out = createRgbImage(width, height);
  const left = sides.left;
  const top = sides.top;
  const right = left + seed.width;
  const bottom = top + seed.height;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(seed.height - 1, Math.max(0, y - top));
    const dy = y < top ? top - y : y >= bottom ? y - bottom + 1 : 0;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(seed.width - 1, Math.max(0, x - left));
      const dx = x < left ? left - x : x >= right ? x - right + 1 : 0;
      const s = (sy * seed.width + sx) * 3;
      const o = (y * width + x) * 3;
      if (dx === 0 && dy === 0) {
        out.data[o] = seed.data[s] ?? 0;
        out.data[o + 1] = seed.data[s + 1] ?? 0;
        out.data[o + 2] = seed.data[s + 2] ?? 0;
        continue;
      }
      const w = continuity * Math.exp(-Math.sqrt(dx * dx + dy * dy) / continuityFade);
      for (let c = 0; c < 3; c++) {
        const g = generated.data[o + c] ?? 0;
        out.data[o + c] = g + ((seed.data[s + c] ?? 0) - g) * w;
      }
    }
  }
  if (sides.blur > 0) blurSeam(out, sides, left, top, right, bottom);
  return out;
}

/** Blends a blurred copy in around the extended edges, fully on the seam line, fading out over `blur` px. */
function blurSeam(image: RgbImage, sides: OutpaintSides, left: number, top: number, right: number, bottom: number): void {
  const { width, height, data } = image;
  const band = sides.blur;
  const radius = Math.max(1, Math.round(band / 4));
  const seams: { vertical: boolean; at: number; from: number; to: number }[] = [];
  if (sides.left > 0) seams.push({ vertical: true, at: left, from: top, to: bottom });
  if (sides.right > 0) seams.push({ vertical: true, at: right, from: top, to: bottom });
  if (sides.top > 0) seams.push({ vertical: false, at: top, from: left, to: right });
  if (sides.bottom > 0) seams.push({ vertical: false, at: bottom, from: left, to: right });

  // Only strips along the seams are blurred, not the whole canvas.
  const blurred = Float32Array.from(data);
  for (const seam of seams) {
    const [x0, x1, y0, y1] = seam.vertical
      ? [seam.at - band, seam.at + band, seam.from - band, seam.to + band]
      : [seam.from - band, seam.to + band, seam.at - band, seam.at + band];
    blurRegion(image, blurred, Math.max(0, x0), Math.min(width, x1), Math.max(0, y0), Math.min(height, y1), radius);
  }

  const y0 = Math.max(0, top - band);
  const y1 = Math.min(height, bottom + band);
  const x0 = Math.max(0, left - band);
  const x1 = Math.min(width, right + band);
  for (let y = y0; y < y1; y++) {
    const py = y + 0.5;
    for (let x = x0; x < x1; x++) {
      const px = x + 0.5;
      let nearest = band * band;
      for (const seam of seams) {
        const across = (seam.vertical ? px : py) - seam.at;
        const along = seam.vertical ? py : px;
        const beyond = along < seam.from ? seam.from - along : along > seam.to ? along - seam.to : 0;
        nearest = Math.min(nearest, across * across + beyond * beyond);
      }
      if (nearest >= band * band) continue;
      const k = 1 - Math.sqrt(nearest) / band;
      const o = (y * width + x) * 3;
      for (let c = o; c < o + 3; c++) {
        const v = data[c] ?? 0;
        data[c] = v + ((blurred[c] ?? v) - v) * k;
      }
    }
  }
}

/** Writes a blur of `image` over [x0, x1) × [y0, y1) into `into`, reading enough pixels around it to be exact. */
function blurRegion(image: RgbImage, into: Float32Array, x0: number, x1: number, y0: number, y1: number, radius: number): void {
  // Two box passes of radius r read up to 2r pixels away.
  const pad = 2 * radius;
  const cx0 = Math.max(0, x0 - pad);
  const cy0 = Math.max(0, y0 - pad);
  const cw = Math.min(image.width, x1 + pad) - cx0;
  const ch = Math.min(image.height, y1 + pad) - cy0;
  if (cw <= 0 || ch <= 0) return;
  const crop = new Float32Array(cw * ch * 3);
  for (let y = 0; y < ch; y++) {
    const from = ((cy0 + y) * image.width + cx0) * 3;
    crop.set(image.data.subarray(from, from + cw * 3), y * cw * 3);
  }
  const blurred = boxBlur(crop, cw, ch, 3, radius);
  for (let y = y0; y < y1; y++) {
    const from = ((y - cy0) * cw + (x0 - cx0)) * 3;
    into.set(blurred.subarray(from, from + (x1 - x0) * 3), (y * image.width + x0) * 3);
  }
}

/** The final picture for one result: the generated one combined with the prepared seed-image inputs, if any. */
export function compose(generated: RgbImage, prepared: PreparedImages | undefined, strength: number): RgbImage {
  if (prepared === undefined) return generated;
  const reference = prepared.outpaint === undefined ? prepared.seed : outpaint(prepared.seed, generated, prepared.outpaint);
  if (prepared.mask !== undefined) return inpaint(reference, generated, prepared.mask, strength);
  if (prepared.outpaint !== undefined) return reference;
  return blend(reference, generated, strength);
}
