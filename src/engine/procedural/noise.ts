// Value noise on seeded lattices, evaluated a whole row at a time: the cheap texture every picture is built from.

import type { Random } from './random.js';

/** One octave: a grid of random values in -1..1, interpolated smoothly between grid points. */
export interface NoiseOctave {
  /** Grid cells per unit length (the picture's longer side is one unit). */
  readonly cellsPerUnit: number;
  readonly amplitude: number;
  /** Grid points per row. */
  readonly stride: number;
  readonly rows: number;
  readonly lattice: Float32Array;
}

/** A fresh octave covering `extentX` × `extentY` units. */
export function createOctave(random: Random, cellsPerUnit: number, amplitude: number, extentX: number, extentY: number): NoiseOctave {
  const stride = Math.ceil(extentX * cellsPerUnit) + 2;
  const rows = Math.ceil(extentY * cellsPerUnit) + 2;
  const lattice = new Float32Array(stride * rows);
  for (let i = 0; i < lattice.length; i++) lattice[i] = random() * 2 - 1;
  return { cellsPerUnit, amplitude, stride, rows, lattice };
}

/** Per-column lattice positions of an octave for one image width, computed once per render. */
export interface OctaveColumns {
  readonly index: Int32Array;
  readonly fraction: Float32Array;
}

/** Lattice columns and smoothed fractions for pixel centres 0..width-1 with `pixelsPerUnit` pixels per unit. */
export function octaveColumns(octave: NoiseOctave, width: number, pixelsPerUnit: number): OctaveColumns {
  const index = new Int32Array(width);
  const fraction = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = ((x + 0.5) / pixelsPerUnit) * octave.cellsPerUnit;
    const i = Math.floor(g);
    index[x] = Math.min(i, octave.stride - 2);
    fraction[x] = smooth(g - i);
  }
  return { index, fraction };
}

/** Adds `octave.amplitude` × noise of pixel row `y` into `out`. */
export function addOctaveRow(octave: NoiseOctave, columns: OctaveColumns, y: number, pixelsPerUnit: number, out: Float32Array): void {
  const g = ((y + 0.5) / pixelsPerUnit) * octave.cellsPerUnit;
  const iy = Math.min(Math.floor(g), octave.rows - 2);
  const fy = smooth(g - iy);
  const top = iy * octave.stride;
  const bottom = top + octave.stride;
  const { lattice, amplitude } = octave;
  const { index, fraction } = columns;
  for (let x = 0; x < out.length; x++) {
    const ix = index[x] ?? 0;
    const fx = fraction[x] ?? 0;
    const a = lattice[top + ix] ?? 0;
    const b = lattice[top + ix + 1] ?? 0;
    const c = lattice[bottom + ix] ?? 0;
    const d = lattice[bottom + ix + 1] ?? 0;
    const upper = a + (b - a) * fx;
    const lower = c + (d - c) * fx;
    out[x] = (out[x] ?? 0) + (upper + (lower - upper) * fy) * amplitude;
  }
}

/** Smoothstep on 0..1, so lattice cells do not show as creases. */
export function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}
