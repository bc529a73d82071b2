// Raw RGB pixel buffers passed between the procedural engine's stages, and the blur they share.

/** Interleaved 8-bit RGB pixels, row by row. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** A black image. */
export function createRgbImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8ClampedArray(width * height * 3) };
}

/**
 * Approximately Gaussian blur of interleaved channels: two box passes each way with running sums,
 * so the cost does not grow with the radius. Edges clamp.
 */
export function boxBlur(data: ArrayLike<number>, width: number, height: number, channels: number, radius: number): Float32Array {
  const r = Math.max(0, Math.round(radius));
  const current = Float32Array.from(data);
  if (r === 0) return current;
  const scratch = new Float32Array(current.length);
  for (let pass = 0; pass < 2; pass++) {
    blurRows(current, scratch, width, height, channels, r);
    blurColumns(scratch, current, width, height, channels, r);
  }
  return current;
}

/** One horizontal box pass. */
function blurRows(source: Float32Array, target: Float32Array, width: number, height: number, channels: number, r: number): void {
  const scale = 1 / (2 * r + 1);
  const last = width - 1;
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let c = 0; c < channels; c++) {
      const first = row + c;
      let sum = 0;
      for (let x = -r; x <= r; x++) sum += source[first + (x < 0 ? 0 : x > last ? last : x) * channels] ?? 0;
      for (let x = 0; x < width; x++) {
        target[first + x * channels] = sum * scale;
        const add = x + r + 1;
        const remove = x - r;
        sum += (source[first + (add > last ? last : add) * channels] ?? 0) - (source[first + (remove < 0 ? 0 : remove) * channels] ?? 0);
      }
    }
  }
}

/** One vertical box pass, a whole row of running sums at a time so memory is read in order. */
function blurColumns(source: Float32Array, target: Float32Array, width: number, height: number, channels: number, r: number): void {
  const scale = 1 / (2 * r + 1);
  const rowLength = width * channels;
  const last = height - 1;
  const rowStart = (y: number): number => (y < 0 ? 0 : y > last ? last : y) * rowLength;
  const sums = new Float32Array(rowLength);
  for (let y = -r; y <= r; y++) {
    const from = rowStart(y);
    for (let i = 0; i < rowLength; i++) sums[i] = (sums[i] ?? 0) + (source[from + i] ?? 0);
  }
  for (let y = 0; y < height; y++) {
    const out = y * rowLength;
    const add = rowStart(y + r + 1);
    const remove = rowStart(y - r);
    for (let i = 0; i < rowLength; i++) {
      const sum = sums[i] ?? 0;
      target[out + i] = sum * scale;
      sums[i] = sum + (source[add + i] ?? 0) - (source[remove + i] ?? 0);
    }
  }
}
