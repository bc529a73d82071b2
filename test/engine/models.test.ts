// The model catalogue: listed ids, unlisted ids of known AIR sources mapped onto a look, unknown sources refused.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/index.js';
import { resolveModel, styles } from '../../src/engine/procedural/models.js';
import { engine, final, meanColour, render, request } from './helpers.js';

describe('procedural engine models', () => {
  it('lists the catalogue with defaults and styles', () => {
    const ids = engine.models().map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['runware:100@1', 'runware:101@1', 'civitai:102438@133677', 'imagewire:1@1']));
    for (const model of engine.models()) {
      expect(engine.hasModel(model.id)).toBe(true);
      expect(Object.keys(styles)).toContain(model.style);
      expect(model.defaultSteps).toBeGreaterThanOrEqual(1);
      expect(model.name.length).toBeGreaterThan(0);
    }
    expect(engine.name).toBe('procedural');
  });

  it('accepts any AIR id from runware, civitai or imagewire, and nothing else', () => {
    for (const id of ['runware:999@2', 'civitai:4201@130072', 'imagewire:77@3', 'Runware:5@1']) expect(engine.hasModel(id), id).toBe(true);
    for (const id of ['nonexistent:999@999', 'openai:1@1', 'runware', 'runware:1', 'runware:1@', '', 'runware:1@1 ']) expect(engine.hasModel(id), id).toBe(false);
  });

  it('maps an unlisted id onto a catalogue look, the same one every time', async () => {
    const model = resolveModel('civitai:4201@130072');
    expect(model?.id).toBe('civitai:4201@130072');
    expect(resolveModel('civitai:4201@130072')?.style).toBe(model?.style);
    const a = await final(request({ model: 'civitai:4201@130072' }));
    const b = await final(request({ model: 'civitai:4201@130072' }));
    expect(Buffer.from(a.image)).toEqual(Buffer.from(b.image));
  });

  it('refuses an unknown model with unknownModel', async () => {
    const error: unknown = await final(request({ model: 'nonexistent:999@999' })).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'unknownModel', parameter: 'model' });
  });

  it('gives styles their look: poster has few flat levels, neon is dark', async () => {
    const poster = await render(request({ model: 'imagewire:2@1', positivePrompt: 'red and blue kite' }));
    const levels = new Set<number>();
    for (let i = 0; i < poster.data.length; i += 3) levels.add(poster.data[i] ?? 0);
    expect(levels.size).toBeLessThanOrEqual(5);

    const balanced = meanColour((await render(request({ model: 'imagewire:1@1' }))).data);
    const neon = meanColour((await render(request({ model: 'imagewire:3@1' }))).data);
    const brightness = (c: readonly number[]): number => c.reduce((sum, v) => sum + v, 0);
    expect(brightness(neon)).toBeLessThan(brightness(balanced) * 0.75);
  });
});
