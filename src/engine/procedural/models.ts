// The procedural engine's model catalogue and styles. Listed ids get their own look; other AIR ids from
// sources the real API knows map onto a listed look, so apps written for the real API run offline.

import type { EngineModel } from '../engine.js';
import { hashString } from './random.js';

/** The looks the renderer can give a picture. */
export type ProceduralStyle = 'balanced' | 'photographic' | 'painterly' | 'poster' | 'neon';

/** How a style shapes rendering; see render.ts for where each knob applies. */
export interface StyleParams {
  /** Noise cells across the longer side at the coarsest octave. */
  readonly baseCells: number;
  /** Amplitude ratio from one noise octave to the next (higher = rougher). */
  readonly gain: number;
  /** Fewest and most shapes drawn over the background. */
  readonly shapes: readonly [number, number];
  /** Edge softness of shapes as a fraction of their radius. */
  readonly softness: number;
  /** Draw shapes as glowing rings instead of discs. */
  readonly rings: boolean;
  /** Levels per channel after rendering; 0 leaves colours continuous. */
  readonly posterize: number;
  /** Darkening toward the corners, 0..1. */
  readonly vignette: number;
  /** Multiplies background brightness. */
  readonly brightness: number;
  /** Multiplies the CFG-driven saturation. */
  readonly saturation: number;
}

/** Style knobs by style name. */
export const styles: Readonly<Record<ProceduralStyle, StyleParams>> = {
  balanced: { baseCells: 3, gain: 0.5, shapes: [2, 5], softness: 0.35, rings: false, posterize: 0, vignette: 0.15, brightness: 1, saturation: 1 },
  photographic: { baseCells: 2, gain: 0.42, shapes: [3, 7], softness: 0.8, rings: false, posterize: 0, vignette: 0.3, brightness: 1, saturation: 0.9 },
  painterly: { baseCells: 4, gain: 0.6, shapes: [4, 8], softness: 0.5, rings: false, posterize: 0, vignette: 0.1, brightness: 1.02, saturation: 1.05 },
  poster: { baseCells: 2, gain: 0.45, shapes: [3, 6], softness: 0.04, rings: false, posterize: 5, vignette: 0, brightness: 1.05, saturation: 1.15 },
  neon: { baseCells: 3, gain: 0.5, shapes: [3, 6], softness: 0.6, rings: true, posterize: 0, vignette: 0.35, brightness: 0.45, saturation: 1.2 },
};

interface CatalogueModel extends EngineModel {
  readonly style: ProceduralStyle;
}

/** Models the procedural engine lists. Names say plainly that these are stand-ins, not the real networks. */
export const catalogue: readonly CatalogueModel[] = [
  {
    id: 'imagewire:1@1',
    name: 'imagewire procedural',
    description: 'The built-in procedural renderer: value-noise backgrounds and soft shapes in the prompt colours.',
    defaultSteps: 20,
    defaultCFGScale: 7,
    style: 'balanced',
  },
  {
    id: 'imagewire:2@1',
    name: 'imagewire procedural poster',
    description: 'Procedural renderer with flat posterized colours and hard-edged shapes.',
    defaultSteps: 12,
    defaultCFGScale: 7,
    style: 'poster',
  },
  {
    id: 'imagewire:3@1',
    name: 'imagewire procedural neon',
    description: 'Procedural renderer with a dark background and glowing rings in the prompt colours.',
    defaultSteps: 20,
    defaultCFGScale: 8,
    style: 'neon',
  },
  {
    id: 'runware:100@1',
    name: 'Procedural stand-in for runware:100@1',
    description: 'Offline stand-in for runware:100@1 (few steps): the balanced procedural look, not the real model.',
    defaultSteps: 4,
    defaultCFGScale: 3.5,
    style: 'balanced',
  },
  {
    id: 'runware:101@1',
    name: 'Procedural stand-in for runware:101@1',
    description: 'Offline stand-in for runware:101@1: soft, photographic-looking gradients and bokeh, not the real model.',
    defaultSteps: 28,
    defaultCFGScale: 3.5,
    style: 'photographic',
  },
  {
    id: 'civitai:102438@133677',
    name: 'Procedural stand-in for civitai:102438@133677',
    description: 'Offline stand-in for civitai:102438@133677: rough, painterly texture, not the real model.',
    defaultSteps: 30,
    defaultCFGScale: 7,
    style: 'painterly',
  },
];

/** AIR sources whose unlisted ids still run (mapped onto a catalogue look). */
export const mappedSources: readonly string[] = ['runware', 'civitai', 'imagewire'];

const airPattern = /^([A-Za-z0-9_.-]+):[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$/;

/**
 * The model entry for an AIR id: the catalogue entry when listed; for an unlisted id from a mapped
 * source, a synthetic entry with a catalogue look chosen by hashing the id; otherwise undefined.
 */
export function resolveModel(model: string): CatalogueModel | undefined {
  const listed = catalogue.find((entry) => entry.id === model);
  if (listed !== undefined) return listed;
  const source = airPattern.exec(model)?.[1]?.toLowerCase();
  if (source === undefined || !mappedSources.includes(source)) return undefined;
  const base = catalogue[hashString(model) % catalogue.length];
  if (base === undefined) return undefined;
  return {
    id: model,
    name: `Procedural stand-in for ${model}`,
    description: `Unlisted model, rendered offline with the procedural ${base.style} look.`,
    defaultSteps: base.defaultSteps,
    defaultCFGScale: base.defaultCFGScale,
    style: base.style,
  };
}
