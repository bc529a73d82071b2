// Small colour helpers shared by the palette and the renderer (sRGB byte triples, no colour management).

/** An sRGB colour as three numbers 0..255. */
export type Rgb = readonly [number, number, number];

/** Perceived brightness 0..255 (Rec. 601 weights, the same the saturation tests use). */
export function luminance(c: Rgb): number {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

/** Linear mix: amount 0 gives `a`, 1 gives `b`. */
export function mixRgb(a: Rgb, b: Rgb, amount: number): Rgb {
  return [a[0] + (b[0] - a[0]) * amount, a[1] + (b[1] - a[1]) * amount, a[2] + (b[2] - a[2]) * amount];
}

/** Multiplies every channel, clamped to 0..255. */
export function scaleRgb(c: Rgb, factor: number): Rgb {
  return [clampByte(c[0] * factor), clampByte(c[1] * factor), clampByte(c[2] * factor)];
}

/** Hue in degrees 0..360 (0 for greys). */
export function hueOf(c: Rgb): number {
  const [r, g, b] = c;
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  if (d === 0) return 0;
  let h: number;
  if (max === r) h = ((g - b) / d) % 6;
  else if (max === g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

/** True when the colour is (nearly) grey, so it has no hue worth steering by. */
export function isAchromatic(c: Rgb): boolean {
  return Math.max(c[0], c[1], c[2]) - Math.min(c[0], c[1], c[2]) < 40;
}

/** HSL (hue degrees, saturation and lightness 0..1) to RGB. */
export function hslToRgb(hue: number, saturation: number, lightness: number): Rgb {
  const c = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const h = (((hue % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const m = lightness - c / 2;
  const [r, g, b] =
    h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}

/** Clamps to the byte range without rounding. */
export function clampByte(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}
