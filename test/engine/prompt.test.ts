// The prompt steers the procedural picture: colour words set the palette, negative colours are pushed
// away, other words still change the picture, and __BLANK__ is neutral.
import { describe, expect, it } from 'vitest';
import { colourWords } from '../../src/engine/procedural/colour/colour-words.js';
import { readPrompt } from '../../src/engine/procedural/colour/prompt-palette.js';
import { meanAbsDiff, meanColour, meanSaturation, render, request } from './helpers.js';

type Channel = 0 | 1 | 2;

/** Colour words and the channels their pictures should be high (first) and low (second) in. */
const expectations: readonly [string, readonly Channel[], readonly Channel[]][] = [
  ['red', [0], [1, 2]],
  ['orange', [0], [2]],
  ['yellow', [0, 1], [2]],
  ['gold', [0, 1], [2]],
  ['brown', [0], [2]],
  ['green', [1], [0, 2]],
  ['teal', [1, 2], [0]],
  ['cyan', [1, 2], [0]],
  ['blue', [2], [0, 1]],
  ['navy', [2], [0, 1]],
  ['purple', [0, 2], [1]],
  ['magenta', [0, 2], [1]],
  ['pink', [0], [1]],
];

describe('prompt colours', () => {
  for (const [word, high, low] of expectations) {
    it(`a "${word}" prompt is dominated by ${word}`, async () => {
      const mean = meanColour((await render(request({ positivePrompt: `a ${word} landscape`, seed: 77 }))).data);
      for (const h of high) for (const l of low) expect(mean[h] - mean[l]).toBeGreaterThan(20);
    });
  }

  it('"white" is light and "black" is dark, both nearly grey', async () => {
    const white = meanColour((await render(request({ positivePrompt: 'white', seed: 3 }))).data);
    const black = meanColour((await render(request({ positivePrompt: 'black', seed: 3 }))).data);
    expect(Math.min(...white)).toBeGreaterThan(150);
    expect(Math.max(...black)).toBeLessThan(90);
    expect(Math.max(...white) - Math.min(...white)).toBeLessThan(25);
  });

  it('knows at least 12 colour words, each leading the palette of a prompt naming it', () => {
    const names = Object.keys(colourWords);
    expect(names.length).toBeGreaterThanOrEqual(12);
    for (const name of names) {
      const look = readPrompt(`a ${name} house`);
      expect(look.colours[0]?.rgb, name).toEqual(colourWords[name]);
    }
  });

  it('reads shade words and -ish forms', () => {
    expect(readPrompt('reddish sky').colours[0]?.rgb).toEqual(colourWords.red);
    const dark = readPrompt('dark blue').colours[0]?.rgb ?? [0, 0, 0];
    const plain = colourWords.blue ?? [0, 0, 0];
    expect(dark[2]).toBeLessThan(plain[2]);
  });

  it('different prompts give different pictures', async () => {
    const a = await render(request({ positivePrompt: 'a quiet village by the sea' }));
    const b = await render(request({ positivePrompt: 'a quiet village in the hills' }));
    expect(meanAbsDiff(a.data, b.data)).toBeGreaterThan(10);
  });

  it('pushes negative-prompt colours away', async () => {
    const prompt = 'red and green striped flag';
    const plain = meanColour((await render(request({ positivePrompt: prompt }))).data);
    const noGreen = meanColour((await render(request({ positivePrompt: prompt, negativePrompt: 'green, blurry' }))).data);
    expect(noGreen[1]).toBeLessThan(plain[1] - 15);
    expect(noGreen[0] - noGreen[1]).toBeGreaterThan(plain[0] - plain[1] + 20);
    // The palette drops the colour entirely.
    expect(readPrompt(prompt, 'green').colours.map((c) => c.rgb)).not.toContainEqual(colourWords.green);
  });

  it('keeps invented palettes away from negative colours', async () => {
    const mean = meanColour((await render(request({ positivePrompt: 'an old lighthouse', negativePrompt: 'blue', seed: 9 }))).data);
    expect(mean[2]).toBeLessThanOrEqual(Math.max(mean[0], mean[1]));
  });

  it('__BLANK__ gives a neutral, prompt-free picture that still depends on the seed', async () => {
    const blank = await render(request({ positivePrompt: '__BLANK__' }));
    expect(meanSaturation(blank.data)).toBeLessThan(0.08);
    const [r, g, b] = meanColour(blank.data);
    expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeLessThan(10);
    const otherSeed = await render(request({ positivePrompt: '__BLANK__', seed: 99 }));
    expect(meanAbsDiff(blank.data, otherSeed.data)).toBeGreaterThan(3);
    expect(readPrompt('__BLANK__').blank).toBe(true);
  });
});
