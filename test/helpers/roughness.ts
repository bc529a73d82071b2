// A measure that tells noise from a picture: the mean squared difference of neighbouring pixels'
// luminance over twice the luminance variance of the whole image. Independent per-pixel noise scores
// about 1 (a neighbour is as unlike a pixel as any other pixel is); a photograph, a painting or a
// blurred preview scores far lower, because neighbouring pixels are alike while the image as a whole
// varies. Written without helpers or types inside, so that the browser tests can run its source.

/** Roughness of `data` (interleaved, `channels` per pixel, RGB first): about 1 for noise, near 0 for smooth pictures; NaN for one flat colour. */
export function roughness(data: ArrayLike<number>, width: number, height: number, channels: number): number {
  const luma = new Float64Array(width * height);
  let sum = 0;
  for (let p = 0; p < luma.length; p++) {
    const i = p * channels;
    const y = 0.299 * (data[i] ?? 0) + 0.587 * (data[i + 1] ?? 0) + 0.114 * (data[i + 2] ?? 0);
    luma[p] = y;
    sum += y;
  }
  const mean = sum / luma.length;
  let variance = 0;
  for (let p = 0; p < luma.length; p++) variance += ((luma[p] ?? 0) - mean) ** 2;
  variance /= luma.length;
  let differences = 0;
  let pairs = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const here = luma[y * width + x] ?? 0;
      if (x + 1 < width) {
        differences += (here - (luma[y * width + x + 1] ?? 0)) ** 2;
        pairs++;
      }
      if (y + 1 < height) {
        differences += (here - (luma[(y + 1) * width + x] ?? 0)) ** 2;
        pairs++;
      }
    }
  }
  return variance === 0 ? Number.NaN : differences / pairs / (2 * variance);
}
