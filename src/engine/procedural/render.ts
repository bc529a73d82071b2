// Paints a scene into RGB pixels: palette ramp over a noisy gradient, optional horizon, shapes, then tone.
// Pure typed-array arithmetic, one row at a time, so a 512×512 picture takes milliseconds.

import { addOctaveRow, octaveColumns, smooth, type NoiseOctave, type OctaveColumns } from './noise.js';
import { createRgbImage, type RgbImage } from './pixels.js';
import type { Scene, Shape, Tone } from './scene.js';

/** How far the coarse noise moves the palette index, and the fine noise at full sharpness. */
const lowToRamp = 0.3;
const highToRamp = 0.25;
/** How strongly fine noise modulates brightness (texture) at full sharpness. */
const texture = 0.5;
/** How far below the horizon the palette index jumps, and how soft the line is. */
const horizonJump = 0.3;
const horizonSoftness = 0.012;

/** Renders the scene at its width × height. */
export function renderScene(scene: Scene): RgbImage {
  const { width, height, ramp, sharpness, shapes, tone, horizon, backgroundBrightness } = scene;
  const side = Math.max(width, height);
  const image = createRgbImage(width, height);
  const withColumns = (octave: NoiseOctave): { octave: NoiseOctave; columns: OctaveColumns } => ({ octave, columns: octaveColumns(octave, width, side) });
  const lowLayers = scene.low.map(withColumns);
  const highLayers = scene.high.map(withColumns);
  const low = new Float32Array(width);
  const high = new Float32Array(width);
  const row = new Float32Array(width * 3);
  const { gx, gy, offset } = scene.gradient;
  const centreX = width / side / 2;
  const centreY = height / side / 2;
  const highGain = highToRamp * sharpness;
  const textureGain = texture * sharpness;

  for (let y = 0; y < height; y++) {
    low.fill(0);
    high.fill(0);
    for (const layer of lowLayers) addOctaveRow(layer.octave, layer.columns, y, side, low);
    for (const layer of highLayers) addOctaveRow(layer.octave, layer.columns, y, side, high);
    const v = (y + 0.5) / side;
    const rowGradient = offset + gy * (v - centreY);

    for (let x = 0; x < width; x++) {
      const u = (x + 0.5) / side;
      const l = low[x] ?? 0;
      const h = high[x] ?? 0;
      let t = rowGradient + gx * (u - centreX) + l * lowToRamp + h * highGain;
      if (horizon !== undefined) {
        // The coarse noise bends the horizon into hills.
        const below = (v + l * 0.05 - horizon) / horizonSoftness;
        t += horizonJump * (below <= -1 ? 0 : below >= 1 ? 1 : smooth((below + 1) / 2));
      }
      const index = (t <= 0 ? 0 : t >= 1 ? 255 : (t * 255) | 0) * 3;
      const shade = backgroundBrightness * (1 + h * textureGain);
      row[x * 3] = (ramp[index] ?? 0) * shade;
      row[x * 3 + 1] = (ramp[index + 1] ?? 0) * shade;
      row[x * 3 + 2] = (ramp[index + 2] ?? 0) * shade;
    }

    for (const shape of shapes) paintShapeRow(shape, row, high, v, side, textureGain);
    toneRow(tone, row, image.data, y * width * 3, v, centreX, centreY, side);
  }
  return image;
}

/** Mixes one shape into the current row, touching only the pixels it covers. */
function paintShapeRow(shape: Shape, row: Float32Array, high: Float32Array, v: number, side: number, textureGain: number): void {
  const reach = shape.ring > 0 ? 1 + 3 * shape.ring : 1;
  const dy = (v - shape.cy) / shape.ry;
  if (Math.abs(dy) >= reach) return;
  const halfSpan = shape.rx * Math.sqrt(reach * reach - dy * dy);
  const width = row.length / 3;
  const from = Math.max(0, Math.floor((shape.cx - halfSpan) * side));
  const to = Math.min(width - 1, Math.ceil((shape.cx + halfSpan) * side));
  const inner = 1 - shape.softness;
  const [cr, cg, cb] = shape.colour;
  for (let x = from; x <= to; x++) {
    const dx = ((x + 0.5) / side - shape.cx) / shape.rx;
    const d = Math.sqrt(dx * dx + dy * dy);
    let alpha: number;
    if (shape.ring > 0) {
      const band = (d - 1) / shape.ring;
      alpha = Math.exp(-band * band);
    } else {
      alpha = d <= inner ? 1 : d >= 1 ? 0 : smooth((1 - d) / (1 - inner));
    }
    if (alpha <= 0) continue;
    alpha *= shape.opacity;
    const shade = 1 + (high[x] ?? 0) * textureGain * 0.6;
    const i = x * 3;
    const r = row[i] ?? 0;
    const g = row[i + 1] ?? 0;
    const b = row[i + 2] ?? 0;
    row[i] = r + (cr * shade - r) * alpha;
    row[i + 1] = g + (cg * shade - g) * alpha;
    row[i + 2] = b + (cb * shade - b) * alpha;
  }
}

/** Saturation, contrast, brightness, vignette, negative-prompt push and posterize; writes bytes. */
function toneRow(tone: Tone, row: Float32Array, out: Uint8ClampedArray, start: number, v: number, centreX: number, centreY: number, side: number): void {
  const { saturation, contrast, brightness, vignette, posterize, avoidChroma, avoidWhite, avoidBlack } = tone;
  const corner = centreX * centreX + centreY * centreY;
  const dv = v - centreY;
  const levels = posterize > 1 ? posterize - 1 : 0;
  const width = row.length / 3;
  for (let x = 0; x < width; x++) {
    const i = x * 3;
    let r = row[i] ?? 0;
    let g = row[i + 1] ?? 0;
    let b = row[i + 2] ?? 0;
    const lum = 0.299 * r + 0.587 * g + 0.114 * b;
    r = 128 + (lum + (r - lum) * saturation - 128) * contrast;
    g = 128 + (lum + (g - lum) * saturation - 128) * contrast;
    b = 128 + (lum + (b - lum) * saturation - 128) * contrast;
    const du = (x + 0.5) / side - centreX;
    const light = brightness * (1 - (vignette * (du * du + dv * dv)) / corner);
    r *= light;
    g *= light;
    b *= light;
    if (avoidWhite) {
      r *= 0.8;
      g *= 0.8;
      b *= 0.8;
    }
    if (avoidBlack) {
      r = 45 + r * 0.82;
      g = 45 + g * 0.82;
      b = 45 + b * 0.82;
    }
    for (const [d0, d1, d2] of avoidChroma) {
      const mean = (r + g + b) / 3;
      const along = (r - mean) * d0 + (g - mean) * d1 + (b - mean) * d2;
      if (along > 0) {
        r -= d0 * along * 0.9;
        g -= d1 * along * 0.9;
        b -= d2 * along * 0.9;
      }
    }
    if (levels > 0) {
      r = Math.round(clamp(r) * levels / 255) * 255 / levels;
      g = Math.round(clamp(g) * levels / 255) * 255 / levels;
      b = Math.round(clamp(b) * levels / 255) * 255 / levels;
    }
    out[start + i] = r;
    out[start + i + 1] = g;
    out[start + i + 2] = b;
  }
}

function clamp(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}
