// Reads a prompt into what the procedural renderer can paint: a weighted palette, colours to avoid,
// a mood (brightness, contrast) and a layout family.

import { colourAliases, colourWords, sceneColourHints, shadeWords } from './colour-words.js';
import { hslToRgb, hueOf, isAchromatic, mixRgb, scaleRgb, type Rgb } from './colour.js';
import { hashString } from '../random.js';

/** The prompt token that means "no prompt guidance". */
export const blankPrompt = '__BLANK__';

/** A palette colour and how much of the picture it should claim. */
export interface WeightedColour {
  readonly rgb: Rgb;
  readonly weight: number;
}

/** Overall composition family. */
export type Layout = 'horizon' | 'subject' | 'pattern' | 'free';

/** Everything the renderer takes from the prompts. */
export interface PromptLook {
  /** True for `__BLANK__` or an empty prompt: neutral greys, layout from the seed only. */
  readonly blank: boolean;
  /** At least one colour, heaviest first. */
  readonly colours: readonly WeightedColour[];
  /** Colours named in the negative prompt; the renderer pushes pixels away from them. */
  readonly avoid: readonly Rgb[];
  /** Multiplies brightness (night < 1 < sunny). */
  readonly brightness: number;
  /** Multiplies contrast (fog < 1). */
  readonly contrast: number;
  readonly layout: Layout;
}

const colourWeight = 1;
const hintWeight = 0.3;
const maxColours = 4;
/** Palette colours closer than this to a negative colour are dropped. */
const avoidRadius = 110;

const moods: Readonly<Record<string, { brightness?: number; contrast?: number }>> = {
  night: { brightness: 0.6 },
  midnight: { brightness: 0.5 },
  dark: { brightness: 0.75 },
  moody: { brightness: 0.8, contrast: 1.15 },
  dusk: { brightness: 0.75 },
  shadow: { brightness: 0.8 },
  sunny: { brightness: 1.15 },
  bright: { brightness: 1.1 },
  daylight: { brightness: 1.1 },
  fog: { contrast: 0.6 },
  foggy: { contrast: 0.6 },
  mist: { contrast: 0.65 },
  misty: { contrast: 0.65 },
  haze: { contrast: 0.7 },
  dramatic: { contrast: 1.3 },
  vivid: { contrast: 1.15 },
};

const layouts: Readonly<Record<string, Layout>> = {
  landscape: 'horizon',
  horizon: 'horizon',
  mountain: 'horizon',
  mountains: 'horizon',
  sea: 'horizon',
  ocean: 'horizon',
  field: 'horizon',
  desert: 'horizon',
  beach: 'horizon',
  sunset: 'horizon',
  sunrise: 'horizon',
  portrait: 'subject',
  face: 'subject',
  person: 'subject',
  woman: 'subject',
  man: 'subject',
  cat: 'subject',
  dog: 'subject',
  character: 'subject',
  flower: 'subject',
  planet: 'subject',
  moon: 'subject',
  pattern: 'pattern',
  abstract: 'pattern',
  texture: 'pattern',
  bubbles: 'pattern',
  stars: 'pattern',
  mosaic: 'pattern',
};

/** Splits a prompt into lower-case words. */
export function promptWords(prompt: string): string[] {
  return prompt.toLowerCase().match(/[a-z]+/g) ?? [];
}

/** The colour a single word names, if any ("reddish" and "golden" count). */
export function colourOfWord(word: string): Rgb | undefined {
  const direct = colourWords[word] ?? colourWords[colourAliases[word] ?? ''];
  if (direct !== undefined) return direct;
  if (word.endsWith('ish')) {
    const stem = word.slice(0, -3);
    // "reddish" doubles its final consonant.
    const undoubled = stem.length > 2 && stem.at(-1) === stem.at(-2) ? stem.slice(0, -1) : stem;
    return colourWords[stem] ?? colourWords[undoubled];
  }
  return undefined;
}

/** Colours named in a text with their shade words applied, in order of appearance. */
export function coloursIn(text: string): Rgb[] {
  const words = promptWords(text);
  const found: Rgb[] = [];
  words.forEach((word, i) => {
    const colour = colourOfWord(word);
    if (colour === undefined) return;
    const shade = shadeWords[words[i - 1] ?? ''];
    found.push(shade === undefined ? colour : mixRgb(scaleRgb(colour, shade[0]), [255, 255, 255], shade[1]));
  });
  return found;
}

/** Reads the positive and negative prompts. */
export function readPrompt(positivePrompt: string, negativePrompt = ''): PromptLook {
  const avoid = coloursIn(negativePrompt);
  const trimmed = positivePrompt.trim();
  if (trimmed === '' || trimmed === blankPrompt) {
    return {
      blank: true,
      colours: [
        { rgb: [124, 122, 118], weight: 1 },
        { rgb: [70, 70, 74], weight: 0.6 },
        { rgb: [196, 194, 188], weight: 0.6 },
      ],
      avoid,
      brightness: 1,
      contrast: 1,
      layout: 'free',
    };
  }

  const words = promptWords(trimmed);
  const weights = new Map<string, WeightedColour>();
  const add = (rgb: Rgb, weight: number): void => {
    const key = rgb.map((v) => Math.round(v)).join(',');
    const known = weights.get(key);
    weights.set(key, { rgb, weight: (known?.weight ?? 0) + weight });
  };
  for (const colour of coloursIn(trimmed)) add(colour, colourWeight);
  for (const word of words) {
    if (colourOfWord(word) !== undefined) continue;
    for (const name of sceneColourHints[word] ?? []) {
      const hint = colourWords[name];
      if (hint !== undefined) add(hint, hintWeight);
    }
  }

  let brightness = 1;
  let contrast = 1;
  let layout: Layout = 'free';
  for (const word of words) {
    const mood = moods[word];
    if (mood !== undefined) {
      brightness *= mood.brightness ?? 1;
      contrast *= mood.contrast ?? 1;
    }
    if (layout === 'free') layout = layouts[word] ?? 'free';
  }

  const promptHash = hashString(words.join(' '));
  const kept = [...weights.values()].filter((c) => !avoid.some((a) => nearColour(c.rgb, a)));
  const colours = kept.length > 0 ? kept : invented(promptHash, avoid);
  colours.sort((a, b) => b.weight - a.weight);
  return { blank: false, colours: colours.slice(0, maxColours), avoid, brightness, contrast, layout };
}

function nearColour(a: Rgb, b: Rgb): boolean {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) < avoidRadius;
}

/** A harmonious palette from the prompt hash, for prompts that name no colour, turned away from avoided hues. */
function invented(promptHash: number, avoid: readonly Rgb[]): WeightedColour[] {
  let hue = promptHash % 360;
  for (const colour of avoid) {
    if (isAchromatic(colour)) continue;
    const gap = Math.abs(((hue - hueOf(colour) + 540) % 360) - 180);
    if (gap < 60) hue = (hueOf(colour) + 180) % 360;
  }
  const saturation = 0.45 + ((promptHash >>> 9) % 30) / 100;
  return [
    { rgb: hslToRgb(hue, saturation, 0.5), weight: 1 },
    { rgb: hslToRgb(hue + 35, saturation, 0.35), weight: 0.7 },
    { rgb: hslToRgb(hue - 30, saturation * 0.8, 0.7), weight: 0.5 },
  ];
}
