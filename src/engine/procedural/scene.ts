// Turns what the prompt asks for, a style, a seed and the guidance knobs (steps, CFGScale) into a
// concrete scene: palette ramp, noise octaves, gradient, shapes and tone. Rendering it is render.ts.

import { isAchromatic, luminance, mixRgb, scaleRgb, type Rgb } from './colour/colour.js';
import type { StyleParams } from './models.js';
import { createOctave, type NoiseOctave } from './noise.js';
import type { Layout, PromptLook } from './colour/prompt-palette.js';
import { between, hashParts, integerBetween, mulberry32, pickWeighted, type Random } from './random.js';

/** A soft disc, ellipse or glowing ring in picture units (the longer side is 1). */
export interface Shape {
  readonly cx: number;
  readonly cy: number;
  readonly rx: number;
  readonly ry: number;
  readonly colour: Rgb;
  readonly opacity: number;
  /** Fraction of the radius over which a disc fades out. */
  readonly softness: number;
  /** Ring band width as a fraction of the radius; 0 draws a disc. */
  readonly ring: number;
}

/** Colour adjustments applied to every pixel after painting. */
export interface Tone {
  /** Chroma multiplier (CFGScale and style). */
  readonly saturation: number;
  /** Multiplier of the distance from mid-grey (CFGScale, steps, mood). */
  readonly contrast: number;
  /** Overall multiplier (mood). */
  readonly brightness: number;
  readonly vignette: number;
  /** Levels per channel; 0 for none. */
  readonly posterize: number;
  /** Unit chroma directions of negative-prompt colours, three numbers each. */
  readonly avoidChroma: readonly Rgb[];
  readonly avoidWhite: boolean;
  readonly avoidBlack: boolean;
}

/** Everything needed to paint one picture at its size. */
export interface Scene {
  readonly width: number;
  readonly height: number;
  /** 256 RGB entries: the palette as a ramp indexed by the background field. */
  readonly ramp: Float32Array;
  /** Background field = offset + gx·(u − centre) + gy·(v − centre) + noise. */
  readonly gradient: { readonly gx: number; readonly gy: number; readonly offset: number };
  /** Coarse octaves that shape the composition. */
  readonly low: readonly NoiseOctave[];
  /** Fine octaves: more of them, and stronger, with more steps. */
  readonly high: readonly NoiseOctave[];
  /** 0..1 from steps: how strongly fine detail shows. */
  readonly sharpness: number;
  /** A horizon line at this height (units), or none. */
  readonly horizon: number | undefined;
  readonly backgroundBrightness: number;
  readonly shapes: readonly Shape[];
  readonly tone: Tone;
}

/** Inputs of a scene besides the prompt and style. */
export interface SceneInputs {
  readonly width: number;
  readonly height: number;
  /** 32-bit seed mixed from the request seed, prompt and model. */
  readonly seed: number;
  readonly steps: number;
  readonly CFGScale: number;
}

/** Noise octaves used for a step count: more steps, more octaves of detail (2 at 1 step, 7 from 32). */
export function octavesForSteps(steps: number): number {
  return Math.min(7, 2 + Math.floor(Math.log2(Math.max(1, steps))));
}

/** How strongly fine detail shows after `steps` steps, 0..1. */
export function sharpnessForSteps(steps: number): number {
  return 1 - Math.exp(-steps / 8);
}

/** Saturation multiplier for a CFG scale: grey-ish at 0, rising and levelling off toward 30. */
export function saturationForCFG(CFGScale: number): number {
  return 0.35 + 1.45 * (1 - Math.exp(-CFGScale / 5));
}

/** Contrast multiplier for a CFG scale. */
export function contrastForCFG(CFGScale: number): number {
  return 0.75 + 0.45 * (1 - Math.exp(-CFGScale / 6));
}

/** Builds the scene; everything random comes from `inputs.seed`. */
export function buildScene(look: PromptLook, style: StyleParams, inputs: SceneInputs): Scene {
  const random = mulberry32(inputs.seed);
  const { width, height } = inputs;
  const side = Math.max(width, height);
  const extentX = width / side;
  const extentY = height / side;

  // Each octave has its own stream, so the step count changes only the detail, never the layout.
  const octaves: NoiseOctave[] = [];
  for (let i = 0; i < octavesForSteps(inputs.steps); i++) {
    const stream = mulberry32(hashParts(inputs.seed, 'octave', i));
    octaves.push(createOctave(stream, style.baseCells * 2 ** i, style.gain ** i, extentX, extentY));
  }

  const layout: Layout = look.layout === 'free' ? (['free', 'free', 'horizon', 'subject'] as const)[integerBetween(random, 0, 3)] ?? 'free' : look.layout;
  const angle = layout === 'horizon' ? Math.PI / 2 + between(random, -0.25, 0.25) : between(random, 0, Math.PI * 2);
  const span = between(random, 0.5, 0.9);

  return {
    width,
    height,
    ramp: buildRamp(look),
    gradient: { gx: Math.cos(angle) * span, gy: Math.sin(angle) * span, offset: between(random, 0.4, 0.6) },
    low: octaves.slice(0, 2),
    high: octaves.slice(2),
    sharpness: sharpnessForSteps(inputs.steps),
    horizon: layout === 'horizon' ? extentY * between(random, 0.45, 0.7) : undefined,
    backgroundBrightness: style.brightness,
    shapes: buildShapes(random, look, style, layout, extentX, extentY),
    tone: {
      saturation: saturationForCFG(inputs.CFGScale) * style.saturation,
      contrast: contrastForCFG(inputs.CFGScale) * look.contrast * (0.85 + 0.15 * sharpnessForSteps(inputs.steps)),
      brightness: look.brightness,
      vignette: style.vignette,
      posterize: style.posterize,
      avoidChroma: look.avoid.filter((c) => !isAchromatic(c)).map(chromaDirection),
      avoidWhite: look.avoid.some((c) => isAchromatic(c) && luminance(c) > 170),
      avoidBlack: look.avoid.some((c) => isAchromatic(c) && luminance(c) < 85),
    },
  };
}

/**
 * The palette as a dark-to-light ramp: a shade of the darkest colour, the colours by luminance
 * each centred in a stretch as long as its weight, then a tint of the lightest.
 */
function buildRamp(look: PromptLook): Float32Array {
  const colours = [...look.colours].sort((a, b) => luminance(a.rgb) - luminance(b.rgb));
  const total = colours.reduce((sum, c) => sum + c.weight, 0);
  const first = colours[0]?.rgb ?? [128, 128, 128];
  const last = colours.at(-1)?.rgb ?? first;
  const stops: { at: number; rgb: Rgb }[] = [{ at: 0, rgb: scaleRgb(first, 0.45) }];
  let start = 0;
  for (const colour of colours) {
    stops.push({ at: 0.08 + (0.84 * (start + colour.weight / 2)) / total, rgb: colour.rgb });
    start += colour.weight;
  }
  stops.push({ at: 1, rgb: mixRgb(last, [255, 255, 255], 0.3) });

  const ramp = new Float32Array(256 * 3);
  let segment = 0;
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    while (segment < stops.length - 2 && t > (stops[segment + 1]?.at ?? 1)) segment++;
    const a = stops[segment] ?? stops[0];
    const b = stops[segment + 1] ?? a;
    if (a === undefined || b === undefined) break;
    const f = b.at > a.at ? Math.min(1, Math.max(0, (t - a.at) / (b.at - a.at))) : 0;
    const rgb = mixRgb(a.rgb, b.rgb, f);
    ramp[i * 3] = rgb[0];
    ramp[i * 3 + 1] = rgb[1];
    ramp[i * 3 + 2] = rgb[2];
  }
  return ramp;
}

function buildShapes(random: Random, look: PromptLook, style: StyleParams, layout: Layout, extentX: number, extentY: number): Shape[] {
  const shapes: Shape[] = [];
  const colourOf = (): Rgb => scaleRgb(pickWeighted(random, look.colours, (c) => c.weight).rgb, between(random, 0.8, 1.2));
  const ring = (): number => (style.rings ? between(random, 0.08, 0.2) : 0);

  if (layout === 'subject') {
    const top = look.colours[0]?.rgb ?? [128, 128, 128];
    const radius = between(random, 0.2, 0.3);
    shapes.push({
      cx: extentX * between(random, 0.42, 0.58),
      cy: extentY * between(random, 0.42, 0.6),
      rx: radius,
      ry: radius * between(random, 1, 1.3),
      colour: top,
      opacity: 0.9,
      softness: style.softness,
      ring: ring(),
    });
  }
  const pattern = layout === 'pattern';
  const count = pattern ? integerBetween(random, 10, 20) : integerBetween(random, style.shapes[0], style.shapes[1]);
  for (let i = 0; i < count; i++) {
    const radius = pattern ? between(random, 0.03, 0.08) : between(random, 0.05, 0.2);
    shapes.push({
      cx: between(random, 0, extentX),
      cy: between(random, 0, extentY),
      rx: radius,
      ry: radius * between(random, 0.7, 1.4),
      colour: colourOf(),
      opacity: between(random, 0.45, 0.85),
      softness: style.softness,
      ring: ring(),
    });
  }
  return shapes;
}

/** The unit direction from a colour's grey to the colour, along which negative prompts push pixels away. */
function chromaDirection(colour: Rgb): Rgb {
  const mean = (colour[0] + colour[1] + colour[2]) / 3;
  const d: Rgb = [colour[0] - mean, colour[1] - mean, colour[2] - mean];
  const length = Math.hypot(d[0], d[1], d[2]) || 1;
  return [d[0] / length, d[1] / length, d[2] / length];
}
