// imageInference on the emulator: the documented result items and nothing else, one or several per
// frame, real image bytes behind every output type, validation of the documented parameters,
// conflictTaskUUID, imageUpload, and the "data": [] beside errors.
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { imageTask, isErrorOf, isErrors, isResultOf, json, resultItems, startFastEmulator } from './kit.js';
import type { RunwareEmulator } from './runware-emulator.js';

let emulator: RunwareEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function connected(options: Parameters<typeof startFastEmulator>[0] = {}): Promise<{ emu: RunwareEmulator; client: RawClient }> {
  emulator = await startFastEmulator(options);
  const { client } = await RawClient.authenticated(emulator.url, 'key-a');
  return { emu: emulator, client };
}

describe('results', () => {
  it('sends one documented item per frame, with fresh imageUUIDs, consecutive seeds and served URLs', async () => {
    const { emu, client } = await connected();
    const task = imageTask({ numberResults: 2, seed: 1000 });
    client.send([task]);
    const frames = await client.waitForCount(isResultOf(task.taskUUID), 2);
    for (const frame of frames) expect(Object.keys(json(frame))).toEqual(['data']);
    const items = resultItems(frames, task.taskUUID);
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(Object.keys(item)).toEqual(['taskType', 'taskUUID', 'imageUUID', 'imageURL', 'seed']);
      expect(item).toMatchObject({ taskType: 'imageInference', taskUUID: task.taskUUID });
    }
    expect(items.map((item) => item.seed)).toEqual([1000, 1001]);
    expect(new Set(items.map((item) => item.imageUUID)).size).toBe(2);
    const url = items[0]!.imageURL as string;
    expect(url).toBe(`${emu.httpUrl}/images/${items[0]!.imageUUID as string}.jpg`);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await response.arrayBuffer())).metadata()).format).toBe('jpeg');
    expect((await fetch(url.replace('.jpg', '.png'))).status).toBe(404);
    await client.expectNone(isResultOf(task.taskUUID), { from: client.frames.indexOf(frames[1]!) + 1 });
    expect(emu.stats()).toMatchObject({ resultFramesWritten: 2, resultsWritten: 2 });
    expect(emu.stats().inferencesAccepted.get(task.taskUUID)).toBe(1);
    await client.close();
  });

  it.each([
    ['base64Data', 'PNG', 'imageBase64Data', 'png'],
    ['dataURI', 'WEBP', 'imageDataURI', 'webp'],
    ['base64Data', 'jpg', 'imageBase64Data', 'jpeg'],
  ] as const)('outputType %s with outputFormat %s carries real %s bytes', async (outputType, outputFormat, field, format) => {
    const { client } = await connected();
    const task = imageTask({ outputType, outputFormat });
    client.send([task]);
    const [item] = resultItems([await client.waitFor(isResultOf(task.taskUUID))], task.taskUUID);
    expect(Object.keys(item!)).toEqual(['taskType', 'taskUUID', 'imageUUID', field, 'seed']);
    const value = item![field] as string;
    const base64 = field === 'imageDataURI' ? value.replace(/^data:image\/webp;base64,/, '') : value;
    if (field === 'imageDataURI') expect(value.startsWith('data:image/webp;base64,')).toBe(true);
    expect((await sharp(Buffer.from(base64, 'base64')).metadata()).format).toBe(format);
    await client.close();
  });

  it('adds cost with includeCost and NSFWContent with checkNSFW, and only then', async () => {
    const { client } = await connected({ costPerImage: 0.01 });
    const task = imageTask({ includeCost: true, checkNSFW: true });
    client.send([task]);
    const [item] = resultItems([await client.waitFor(isResultOf(task.taskUUID))], task.taskUUID);
    expect(item).toMatchObject({ cost: 0.01, NSFWContent: false });
    const plain = imageTask({ includeCost: false, checkNSFW: false });
    client.send([plain]);
    const [other] = resultItems([await client.waitFor(isResultOf(plain.taskUUID))], plain.taskUUID);
    expect(other).not.toHaveProperty('cost');
    expect(other).not.toHaveProperty('NSFWContent');
    await client.close();
  });

  it('batches items of the same task in one frame in batched mode', async () => {
    const { client } = await connected({ resultsPerFrame: 'batched', batchSize: 2 });
    const a = imageTask({ numberResults: 3 });
    const b = imageTask({ numberResults: 2 });
    client.send([a, b]);
    const framesA = await client.waitForCount(isResultOf(a.taskUUID), 2);
    const framesB = await client.waitForCount(isResultOf(b.taskUUID), 1);
    expect(framesA.map((f) => (f.kind === 'json' ? f.data.length : 0))).toEqual([2, 1]);
    expect(framesB.map((f) => (f.kind === 'json' ? f.data.length : 0))).toEqual([2]);
    // isResultOf requires every item of a frame to be of that task: tasks never share a frame.
    expect(client.frames.slice(1).filter((f) => f.kind === 'json' && f.data.length > 0 && !isResultOf(a.taskUUID)(f) && !isResultOf(b.taskUUID)(f))).toEqual([]);
    await client.close();
  });

  it('draws a random seed when none is given, the same one for the same emulator seed', async () => {
    const seeds: unknown[] = [];
    for (let round = 0; round < 2; round++) {
      const { client } = await connected({ seed: 7 });
      const task = imageTask({ numberResults: 2 });
      client.send([task]);
      const items = resultItems(await client.waitForCount(isResultOf(task.taskUUID), 2), task.taskUUID);
      expect(items[1]!.seed).toBe((items[0]!.seed as number) + 1);
      seeds.push(items[0]!.seed);
      await client.close();
      await emulator?.close();
    }
    expect(seeds[0]).toBe(seeds[1]);
  });
});

describe('validation of the documented parameters', () => {
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    ['no positivePrompt', { positivePrompt: undefined }, 'missingPositivePrompt', 'positivePrompt'],
    ['a 1-character prompt', { positivePrompt: 'a' }, 'invalidPositivePrompt', 'positivePrompt'],
    ['a 3001-character prompt', { positivePrompt: 'a'.repeat(3001) }, 'invalidPositivePrompt', 'positivePrompt'],
    ['no model', { model: undefined }, 'missingModel', 'model'],
    ['a model that is not an AIR', { model: 'sdxl' }, 'invalidModel', 'model'],
    ['no width', { width: undefined }, 'missingWidth', 'width'],
    ['a width not divisible by 64', { width: 500 }, 'invalidWidth', 'width'],
    ['a height over 2048', { height: 2112 }, 'invalidHeight', 'height'],
    ['a height under 128', { height: 64 }, 'invalidHeight', 'height'],
    ['a string width', { width: '512' }, 'invalidWidth', 'width'],
    ['numberResults 0', { numberResults: 0 }, 'invalidNumberResults', 'numberResults'],
    ['numberResults 21', { numberResults: 21 }, 'invalidNumberResults', 'numberResults'],
    ['an unknown outputType', { outputType: 'binary' }, 'invalidOutputType', 'outputType'],
    ['an unknown outputFormat', { outputFormat: 'GIF' }, 'invalidOutputFormat', 'outputFormat'],
    ['steps 101', { steps: 101 }, 'invalidSteps', 'steps'],
    ['CFGScale 31', { CFGScale: 31 }, 'invalidCFGScale', 'CFGScale'],
    ['seed 0', { seed: 0 }, 'invalidSeed', 'seed'],
    ['a fractional seed', { seed: 1.5 }, 'invalidSeed', 'seed'],
    ['a non-boolean includeCost', { includeCost: 'yes' }, 'invalidIncludeCost', 'includeCost'],
    ['an unknown deliveryMethod', { deliveryMethod: 'later' }, 'invalidDeliveryMethod', 'deliveryMethod'],
    ['a seedImage that is no image form', { seedImage: 'not an image!' }, 'invalidSeedImage', 'seedImage'],
    ['a LoRA weight of 5', { lora: [{ model: 'runware:13090@1', weight: 5 }] }, 'invalidLora', 'lora[0].weight'],
    ['a controlNet without guideImage', { controlNet: [{ model: 'runware:20@1' }] }, 'invalidControlNet', 'controlNet[0].guideImage'],
  ];

  it.each(cases)('refuses %s', async (_name, overrides, code, parameter) => {
    const { emu, client } = await connected();
    const task = imageTask(overrides);
    client.send([task]);
    const answer = json(await client.waitFor(isErrorOf(task.taskUUID)));
    expect(answer.errors).toEqual([expect.objectContaining({ code, parameter, message: expect.any(String), taskType: 'imageInference', taskUUID: task.taskUUID })]);
    expect(emu.stats().inferencesAccepted.get(task.taskUUID)).toBeUndefined();
    await client.close();
  });

  it('gives the range of a numeric parameter', async () => {
    const { client } = await connected();
    const task = imageTask({ numberResults: 21 });
    client.send([task]);
    const answer = json(await client.waitFor(isErrorOf(task.taskUUID)));
    expect(answer.errors).toEqual([expect.objectContaining({ type: 'integer', min: 1, max: 20 })]);
    await client.close();
  });

  it('accepts the other documented parameters', async () => {
    const { client } = await connected();
    const task = imageTask({
      negativePrompt: 'blurry',
      steps: 4,
      CFGScale: 7.5,
      scheduler: 'Default',
      clipSkip: 1,
      promptWeighting: 'compel',
      outputQuality: 90,
      seedImage: 'https://example.com/seed.png',
      maskImage: 'iVBORw0KGgo=',
      strength: 0.5,
      maskMargin: 64,
      outpaint: { top: 64, bottom: 0, blur: 8 },
      vae: 'civitai:1@1',
      refiner: { model: 'civitai:101055@128080', startStep: 10 },
      lora: [{ model: 'runware:13090@1', weight: 1.5 }],
      embeddings: [{ model: 'civitai:1044536@1172007' }],
      controlNet: [{ model: 'runware:20@1', guideImage: 'data:image/png;base64,iVBORw0KGgo=', controlMode: 'balanced', startStepPercentage: 0, endStepPercentage: 80 }],
      ipAdapters: [{ model: 'runware:55@1', guideImage: 'https://example.com/ref.jpg', weight: 0.5 }],
      uploadEndpoint: 'https://example.com/put',
      ttl: 3600,
      deliveryMethod: 'sync',
    });
    client.send([task]);
    await client.waitFor(isResultOf(task.taskUUID));
    expect(client.frames.filter(isErrors)).toEqual([]);
    await client.close();
  });

  it('refuses a well-formed AIR outside the models option', async () => {
    const { client } = await connected({ models: ['runware:101@1'] });
    const known = imageTask();
    const unknown = imageTask({ model: 'nonexistent:999@999' });
    client.send([known, unknown]);
    await client.waitFor(isResultOf(known.taskUUID));
    const answer = json(await client.waitFor(isErrorOf(unknown.taskUUID)));
    expect(answer.errors).toEqual([expect.objectContaining({ code: 'invalidModel', parameter: 'model' })]);
    await client.close();
  });
});

describe('taskUUID reuse', () => {
  it('answers conflictTaskUUID for a known task of the same key, and runs it for another key', async () => {
    const { emu, client } = await connected();
    const task = imageTask();
    client.send([task]);
    await client.waitFor(isResultOf(task.taskUUID));
    client.send([task]);
    const answer = json(await client.waitFor(isErrorOf(task.taskUUID)));
    expect(answer.errors).toEqual([{ code: 'conflictTaskUUID', message: expect.any(String), parameter: 'taskUUID', type: 'string', taskType: 'imageInference', taskUUID: task.taskUUID }]);
    // Twice in one frame: the second is the conflict.
    const twin = imageTask();
    client.send([twin, twin]);
    await client.waitFor(isErrorOf(twin.taskUUID));
    expect(emu.stats().inferencesAccepted.get(twin.taskUUID)).toBe(1);
    expect(emu.stats().tasksReceived.get(twin.taskUUID)).toBe(2);

    const other = await RawClient.authenticated(emu.url, 'key-b');
    other.client.send([task]);
    await other.client.waitFor(isResultOf(task.taskUUID));
    expect(emu.stats().inferencesAccepted.get(task.taskUUID)).toBe(2);
    await other.client.close();
    await client.close();
  });

  it('forgets a finished task after retentionMs', async () => {
    const { emu, client } = await connected({ retentionMs: 50 });
    const task = imageTask();
    client.send([task]);
    await client.waitFor(isResultOf(task.taskUUID));
    await new Promise((resolve) => setTimeout(resolve, 120));
    const from = client.frames.length;
    client.send([task]);
    await client.waitFor(isResultOf(task.taskUUID), { from });
    expect(emu.stats().inferencesAccepted.get(task.taskUUID)).toBe(2);
    await client.close();
  });
});

describe('imageUpload', () => {
  it('stores a data URI and answers imageUUID and a served imageURL', async () => {
    const { client } = await connected();
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
    const taskUUID = crypto.randomUUID();
    client.send([{ taskType: 'imageUpload', taskUUID, image: `data:image/png;base64,${png.toString('base64')}` }]);
    const frame = await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === taskUUID);
    const item = (json(frame).data as Record<string, unknown>[])[0]!;
    expect(Object.keys(item)).toEqual(['taskType', 'taskUUID', 'imageUUID', 'imageURL']);
    const served = Buffer.from(await (await fetch(item.imageURL as string)).arrayBuffer());
    expect(served.equals(png)).toBe(true);
    await client.close();
  });

  it('refuses bytes that are not an image, and a missing image', async () => {
    const { client } = await connected();
    const bad = crypto.randomUUID();
    const missing = crypto.randomUUID();
    client.send([
      { taskType: 'imageUpload', taskUUID: bad, image: Buffer.from('hello world!').toString('base64') },
      { taskType: 'imageUpload', taskUUID: missing },
    ]);
    expect(json(await client.waitFor(isErrorOf(bad))).errors).toEqual([expect.objectContaining({ code: 'invalidImage', parameter: 'image' })]);
    expect(json(await client.waitFor(isErrorOf(missing))).errors).toEqual([expect.objectContaining({ code: 'missingImage', parameter: 'image' })]);
    await client.close();
  });
});

describe('"data": [] beside errors', () => {
  async function errorFrames(options: Parameters<typeof startFastEmulator>[0]): Promise<string[]> {
    const { client } = await connected(options);
    for (let i = 0; i < 12; i++) client.send([imageTask({ width: 1 })]);
    const frames = await client.waitForCount(isErrors, 12);
    await client.close();
    await emulator?.close();
    return frames.map((f) => (f.kind === 'json' ? f.text : ''));
  }

  it('never, always, or on a seeded coin that repeats with the seed', async () => {
    expect((await errorFrames({ emptyDataWithErrors: 'never' })).every((text) => text.startsWith('{"errors":'))).toBe(true);
    expect((await errorFrames({ emptyDataWithErrors: 'always' })).every((text) => text.startsWith('{"data":[],"errors":'))).toBe(true);
    const first = await errorFrames({ emptyDataWithErrors: 'seeded', seed: 3 });
    const second = await errorFrames({ emptyDataWithErrors: 'seeded', seed: 3 });
    const pattern = (texts: string[]): boolean[] => texts.map((text) => text.startsWith('{"data":[]'));
    expect(pattern(first)).toEqual(pattern(second));
    expect(new Set(pattern(first)).size).toBe(2);
  });
});

describe('async delivery', () => {
  it('acknowledges with {taskType, taskUUID} only and pushes no result', async () => {
    const { client } = await connected();
    const task = imageTask({ deliveryMethod: 'async', numberResults: 2 });
    client.send([task]);
    const ack = await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === task.taskUUID);
    expect(ack.kind === 'json' && ack.text).toBe(JSON.stringify({ data: [{ taskType: 'imageInference', taskUUID: task.taskUUID }] }));
    await client.expectNone(isResultOf(task.taskUUID), { windowMs: 100 });
    await client.close();
  });
});
