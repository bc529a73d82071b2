// Property tests with fast-check:
// (a) random valid imageInference requests across the whole parameter space validate;
// (b) one random mutation that breaks exactly one rule is reported on exactly that parameter;
// (c) frame decoders and validation never throw, whatever they are given;
// (d) normalizeImageInference fills every default within its range and is idempotent.
// The generators and the mutation table are written from the seed parameter tables, not from
// src/protocol/validate/rules.ts, so a wrong limit there shows up here.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  decodeAndValidate,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  isKnownErrorCode,
  normalizeImageInference,
  validateTask,
  type ImageInferenceTask,
  type ProtocolErrorItem,
} from '../../src/protocol/index.js';
import { errorsOf, IMAGE_UUID, PNG_DATA_URI, UUID_V1, type Task } from './fixtures.js';

// ---- Generators of valid values (from the seed tables) ------------------------------------------

const IP_ADAPTER_MODELS = ['runware:55@1', 'runware:55@2', 'runware:55@3', 'runware:55@4', 'runware:55@5', 'runware:55@6', 'runware:55@7', 'runware:55@8', 'runware:55@10'];

function codePointCount(text: string): number {
  return Array.from(text).length;
}

/** Drops keys whose value is undefined, so optional parameters are absent rather than undefined. */
function compact<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
}

const air = fc.oneof(
  fc.constantFrom('runware:101@1', 'civitai:102438@133677', 'runware:100@1', 'civitai:4201@130072'),
  fc
    .tuple(fc.constantFrom('runware', 'civitai', 'my-org', 'hf_hub'), fc.integer({ min: 1, max: 9_999_999 }), fc.integer({ min: 1, max: 9_999_999 }))
    .map(([source, id, version]) => `${source}:${id}@${version}`),
);

/** Multiples of 64 from 128 to 2048. */
const dimension = fc.integer({ min: 2, max: 32 }).map((n) => n * 64);

/** Text of min..max code points that is not only white space and does not use __BLANK__. */
function promptText(min: number, max: number): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 6, arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: 80 }) },
      { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: 80 }) },
      { weight: 1, arbitrary: fc.constantFrom('x'.repeat(max), '😀'.repeat(max), 'é'.repeat(max), `a${'🐱'.repeat(max - 1)}`, 'ab'.slice(0, min)) },
    )
    .filter((text) => text.trim().length > 0 && !text.includes('__BLANK__') && codePointCount(text) >= min && codePointCount(text) <= max);
}

const positivePrompt = fc.oneof({ weight: 9, arbitrary: promptText(2, 3000) }, { weight: 1, arbitrary: fc.constant('__BLANK__') });

const httpUrl = fc
  .tuple(fc.constantFrom('http', 'https', 'HTTPS'), fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), fc.array(fc.stringMatching(/^[a-zA-Z0-9._~-]{1,12}$/), { maxLength: 4 }))
  .map(([scheme, host, port, path]) => `${scheme}://${host}${port === undefined ? '' : `:${port}`}/${path.join('/')}`);

const base64Body = fc.base64String({ minLength: 16, maxLength: 96 }).filter((body) => body.length >= 16);

/** An input image in any accepted form: image UUID, data URI (png, jpeg, webp), raw base64, http(s) URL. */
const imageRef = fc.oneof(
  fc.uuid({ version: 4 }),
  fc.tuple(fc.constantFrom('png', 'jpeg', 'webp'), base64Body).map(([type, body]) => `data:image/${type};base64,${body}`),
  base64Body,
  httpUrl,
);

const unit = fc.double({ min: 0, max: 1, noNaN: true });
const loraWeight = fc.double({ min: -4, max: 4, noNaN: true });

const weightedEntry = fc.record({ model: air, weight: loraWeight }, { requiredKeys: ['model'] });

const ipAdapter = fc.record({ model: fc.constantFrom(...IP_ADAPTER_MODELS), guideImage: imageRef, weight: unit }, { requiredKeys: ['model', 'guideImage'] });

const previews = fc.oneof(
  fc.boolean(),
  fc.record({ maxSide: fc.integer({ min: 32, max: 512 }), format: fc.constantFrom('JPG', 'WEBP', 'jpg', 'webp') }, { requiredKeys: [] }),
);

const outpaintSides = fc
  .record(
    {
      top: fc.integer({ min: 0, max: 16 }).map((n) => n * 64),
      right: fc.integer({ min: 0, max: 16 }).map((n) => n * 64),
      bottom: fc.integer({ min: 0, max: 16 }).map((n) => n * 64),
      left: fc.integer({ min: 0, max: 16 }).map((n) => n * 64),
      blur: fc.integer({ min: 0, max: 32 }),
    },
    { requiredKeys: [] },
  )
  .filter((o) => [o.top, o.right, o.bottom, o.left].some((side) => side !== undefined && side > 0));

/** Text-to-image, image-to-image, inpainting or outpainting (with either name). */
const imageMode: fc.Arbitrary<Task> = fc.oneof(
  fc.constant({}),
  fc.record({ seedImage: imageRef, strength: unit }, { requiredKeys: ['seedImage'] }),
  fc.record({ seedImage: imageRef, maskImage: imageRef, maskMargin: fc.integer({ min: 32, max: 128 }), strength: unit }, { requiredKeys: ['seedImage', 'maskImage'] }),
  fc.tuple(imageRef, outpaintSides, fc.constantFrom('outpaint', 'outpainting'), fc.option(imageRef, { nil: undefined })).map(([seedImage, sides, name, maskImage]) =>
    compact({ seedImage, [name]: sides, maskImage }),
  ),
);

function refiner(steps: number): fc.Arbitrary<Task> {
  const options: fc.Arbitrary<Task>[] = [
    fc.record({ model: air }),
    fc.record({ model: air, startStepPercentage: fc.integer({ min: 1, max: 99 }) }),
  ];
  if (steps >= 2) options.push(fc.record({ model: air, startStep: fc.integer({ min: 2, max: steps }) }));
  return fc.oneof(...options);
}

/** A ControlNet step window valid for `steps`: by steps, by percentages, or open at one end. */
function controlNetWindow(steps: number): fc.Arbitrary<Task> {
  const options: fc.Arbitrary<Task>[] = [
    fc.constant({}),
    fc.integer({ min: 1, max: steps }).chain((start) =>
      start < steps
        ? fc.option(fc.integer({ min: start + 1, max: steps }), { nil: undefined }).map((end) => compact({ startStep: start, endStep: end }))
        : fc.constant({ startStep: start }),
    ),
    fc
      .integer({ min: 0, max: 99 })
      .chain((start) => fc.option(fc.integer({ min: start + 1, max: 100 }), { nil: undefined }).map((end) => compact({ startStepPercentage: start, endStepPercentage: end }))),
    fc.integer({ min: 1, max: 100 }).map((end) => ({ endStepPercentage: end })),
  ];
  if (steps >= 2) options.push(fc.integer({ min: 2, max: steps }).map((end) => ({ endStep: end })));
  return fc.oneof(...options);
}

function controlNet(steps: number): fc.Arbitrary<Task> {
  const fields = fc.record(
    { model: fc.oneof(air, fc.constant('runware:20@1')), guideImage: imageRef, weight: unit, controlMode: fc.constantFrom('prompt', 'controlnet', 'balanced') },
    { requiredKeys: ['model', 'guideImage'] },
  );
  return fc.tuple(fields, controlNetWindow(steps)).map(([entry, window]) => ({ ...entry, ...window }));
}

/** steps (or its absence, meaning 20) and everything bounded by it. */
const stepBound: fc.Arbitrary<Task> = fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }).chain((steps) => {
  const effective = steps ?? 20;
  return fc
    .record({
      refiner: fc.option(refiner(effective), { nil: undefined }),
      controlNet: fc.option(fc.array(controlNet(effective), { maxLength: 20 }), { nil: undefined, freq: 3 }),
    })
    .map((parts) => compact({ steps, ...parts }));
});

const output: fc.Arbitrary<Task> = fc.oneof(
  fc.constant({}),
  fc.record({ outputType: fc.constantFrom('base64Data', 'dataURI') }),
  fc.record({ outputType: fc.constant('URL'), ttl: fc.integer({ min: 60, max: 30 * 86_400 }) }, { requiredKeys: [] }),
);

const weighting: fc.Arbitrary<Task> = fc.oneof(
  fc.constant({}),
  fc.record({ promptWeighting: fc.constantFrom('compel', 'sdEmbeds') }),
  fc.record({ usePromptWeighting: fc.boolean() }),
);

const optional: fc.Arbitrary<Task> = fc.record(
  {
    negativePrompt: promptText(2, 2000),
    outputFormat: fc.constantFrom('JPG', 'PNG', 'WEBP', 'jpg', 'png', 'webp', 'Png'),
    outputQuality: fc.integer({ min: 20, max: 99 }),
    uploadEndpoint: httpUrl,
    checkNSFW: fc.boolean(),
    includeCost: fc.boolean(),
    vae: air,
    scheduler: fc.string({ minLength: 1, maxLength: 100 }),
    // Up to 2^63 - 20, so that any numberResults keeps the last result's seed at most 2^63 - 1.
    seed: fc.oneof(
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom(1, 2 ** 53, 2 ** 62),
      fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 20n }),
      fc.constant(2n ** 63n - 20n),
    ),
    CFGScale: fc.double({ min: 0, max: 30, noNaN: true }),
    clipSkip: fc.integer({ min: 0, max: 2 }),
    numberResults: fc.integer({ min: 1, max: 20 }),
    deliveryMethod: fc.constantFrom('sync', 'async'),
    webhookURL: httpUrl,
    previews,
    embeddings: fc.array(weightedEntry, { maxLength: 20 }),
    lora: fc.array(weightedEntry, { maxLength: 20 }),
    ipAdapters: fc.array(ipAdapter, { maxLength: 6 }),
  },
  { requiredKeys: [] },
);

/** A random valid imageInference request. */
const validRequest: fc.Arbitrary<Task> = fc
  .tuple(
    fc.record({ taskUUID: fc.uuid({ version: 4 }), positivePrompt, model: air, width: dimension, height: dimension }),
    optional,
    output,
    weighting,
    imageMode,
    stepBound,
  )
  .map(([core, ...parts]) => Object.assign({ taskType: 'imageInference' }, core, ...parts) as Task);

function describeErrors(errors: readonly ProtocolErrorItem[]): string {
  return JSON.stringify(errors, null, 2);
}

// ---- (a) valid requests -----------------------------------------------------------------------

describe('(a) random valid imageInference requests', () => {
  it('validate', () => {
    fc.assert(
      fc.property(validRequest, (task) => {
        const result = validateTask(task);
        if (!result.ok) expect.fail(`valid request refused: ${describeErrors(result.errors)}\n${encodeClientFrame([task]).slice(0, 2000)}`);
      }),
      { numRuns: 400 },
    );
  });

  it('also validate after a JSON round trip, as a server receives them', () => {
    fc.assert(
      fc.property(fc.array(validRequest, { minLength: 1, maxLength: 4 }), (tasks) => {
        const { frameError, results } = decodeAndValidate(encodeClientFrame(tasks));
        expect(frameError).toBeUndefined();
        expect(results.every((result) => result.ok)).toBe(true);
        // Seeds arrive as the digits sent: a bigint's own, a number's as JavaScript prints it
        // (2 ** 62 prints as 4611686018427388000); above 2^53 - 1 they come back as bigints.
        const seedOf = (task: unknown): bigint | undefined => {
          const seed = (task as { seed?: number | bigint }).seed;
          return seed === undefined ? undefined : BigInt(`${seed}`);
        };
        expect(results.map((result) => (result.ok ? seedOf(result.task) : 'refused'))).toEqual(tasks.map(seedOf));
      }),
      { numRuns: 100 },
    );
  });
});

// ---- (b) single mutations ---------------------------------------------------------------------

interface Mutation {
  name: string;
  code: string;
  /** Breaks one rule of `task` (a private copy) and returns the parameter path that must be named. */
  apply: (task: Task, pick: number) => string;
}

function pickFrom<T>(values: readonly T[], pick: number): T {
  return values[pick % values.length] as T;
}

/** Sets `name` to one of `values`, each outside the parameter's rule. */
function setTo(name: string, code: string, values: readonly unknown[], prepare?: (task: Task) => void): Mutation {
  return {
    name: `${name} = ${values.map((v) => (typeof v === 'bigint' ? `${v}n` : JSON.stringify(v))?.slice(0, 20)).join(' | ')}`,
    code,
    apply(task, pick) {
      prepare?.(task);
      task[name] = pickFrom(values, pick);
      return name;
    },
  };
}

function remove(name: string, code: string): Mutation {
  return {
    name: `without ${name}`,
    code,
    apply(task) {
      delete task[name];
      return name;
    },
  };
}

const stepsOf = (task: Task): number => (typeof task.steps === 'number' ? task.steps : 20);

function ensureSeedImage(task: Task): void {
  if (task.seedImage === undefined) task.seedImage = IMAGE_UUID;
}

/** Replaces one entry of a list parameter (or makes a one-entry list) and returns its path. */
function replaceEntry(task: Task, name: string, pick: number, entry: unknown): string {
  const list = Array.isArray(task[name]) ? (task[name] as unknown[]) : [];
  const index = list.length === 0 ? 0 : pick % list.length;
  const copy = [...list];
  copy[index] = entry;
  task[name] = copy;
  return `${name}[${index}]`;
}

function entryMutation(name: string, code: string, label: string, build: (task: Task) => { entry: unknown; path: string }): Mutation {
  return {
    name: `${name}: ${label}`,
    code,
    apply(task, pick) {
      const { entry, path } = build(task);
      const at = replaceEntry(task, name, pick, entry);
      return path === '' ? at : `${at}.${path}`;
    },
  };
}

const CN = { model: 'runware:20@1', guideImage: PNG_DATA_URI };

const mutations: Mutation[] = [
  // Required parameters
  remove('taskUUID', 'missingTaskUUID'),
  setTo('taskUUID', 'invalidTaskUUID', [UUID_V1, 'task-1', '39d7207a87ef4c9380821431f9c1dc97', 12]),
  remove('positivePrompt', 'missingPositivePrompt'),
  setTo('positivePrompt', 'invalidPositivePrompt', ['a', '😀', '', 'p'.repeat(3001), '🐱'.repeat(3001), '   ', '__BLANK__, a cat', 7]),
  remove('model', 'missingModel'),
  setTo('model', 'invalidModel', ['sd15', 'runware:101', 'runware@1', '', 5]),
  remove('width', 'missingWidth'),
  setTo('width', 'invalidWidth', [127, 2049, 2112, 500, 64, 0, 512.5, '512']),
  remove('height', 'missingHeight'),
  setTo('height', 'invalidHeight', [127, 2049, 2112, 500, 1000, -512, 256.1, '256']),
  // Generation
  setTo('negativePrompt', 'invalidNegativePrompt', ['n', 'n'.repeat(2001), '  ', 0]),
  setTo('steps', 'invalidSteps', [0, 101, 1.5, -20, '20'], (task) => {
    // Step windows fall back to 20 steps when steps is invalid; remove them so only steps is wrong.
    delete task.refiner;
    delete task.controlNet;
  }),
  setTo('seed', 'invalidSeed', [0, -1, 1.5, 2 ** 63, 2 ** 64, 1e30, '42', 0n, 2n ** 63n]),
  setTo('CFGScale', 'invalidCFGScale', [-0.1, 30.1, 100, '7']),
  setTo('clipSkip', 'invalidClipSkip', [-1, 3, 1.5]),
  setTo('numberResults', 'invalidNumberResults', [0, 21, 1.5]),
  setTo('scheduler', 'invalidScheduler', ['', 's'.repeat(101), 3]),
  setTo('vae', 'invalidVae', ['vae.pt', 'runware:1']),
  setTo('promptWeighting', 'invalidPromptWeighting', ['weighted', 'Compel', true], (task) => delete task.usePromptWeighting),
  setTo('usePromptWeighting', 'invalidPromptWeighting', ['yes', 1], (task) => delete task.promptWeighting),
  setTo('usePromptWeighting', 'conflictingParameters', [true, false], (task) => {
    task.promptWeighting = 'compel';
  }),
  // Output
  setTo('outputType', 'invalidOutputType', ['url', 'jpeg', 'binary'], (task) => delete task.ttl),
  setTo('outputFormat', 'invalidOutputFormat', ['GIF', 'JPEG', 'tiff']),
  setTo('outputQuality', 'invalidOutputQuality', [19, 100, 0, 50.5]),
  setTo('uploadEndpoint', 'invalidUploadEndpoint', ['ftp://example.com/up', 'bucket/upload', 'https://']),
  setTo('webhookURL', 'invalidWebhookURL', ['ftp://example.com/hook', 'hook', 'mailto:a@example.com']),
  setTo('checkNSFW', 'invalidCheckNSFW', ['true', 1]),
  setTo('includeCost', 'invalidIncludeCost', ['false', 0]),
  setTo('deliveryMethod', 'invalidDeliveryMethod', ['push', 'Sync']),
  setTo('ttl', 'invalidTtl', [59, 0, 60.5], (task) => {
    task.outputType = 'URL';
  }),
  setTo('ttl', 'invalidTtl', [60, 3600], (task) => {
    task.outputType = 'base64Data';
  }),
  setTo('previews', 'invalidPreviews', ['yes', 1, []]),
  {
    name: 'previews.maxSide out of 32..512',
    code: 'invalidPreviews',
    apply(task, pick) {
      task.previews = { maxSide: pickFrom([31, 513, 0], pick) };
      return 'previews.maxSide';
    },
  },
  {
    name: 'previews.format not JPG or WEBP',
    code: 'invalidPreviews',
    apply(task, pick) {
      task.previews = { format: pickFrom(['PNG', 'gif'], pick) };
      return 'previews.format';
    },
  },
  // Input images
  setTo('seedImage', 'invalidSeedImage', ['data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP', 'ftp://example.com/a.png', 'abc', 42]),
  setTo('maskImage', 'invalidMaskImage', ['data:image/bmp;base64,Qk02AAAAAAAAADYAAAAoAAAA', 'file:///mask.png', 'mask'], ensureSeedImage),
  {
    name: 'maskImage without seedImage',
    code: 'missingSeedImage',
    apply(task) {
      delete task.seedImage;
      delete task.outpaint;
      delete task.outpainting;
      task.maskImage = PNG_DATA_URI;
      return 'seedImage';
    },
  },
  setTo('maskMargin', 'invalidMaskMargin', [31, 129, 0, 64.5], (task) => {
    ensureSeedImage(task);
    if (task.maskImage === undefined) task.maskImage = PNG_DATA_URI;
  }),
  {
    name: 'maskMargin without maskImage',
    code: 'missingMaskImage',
    apply(task) {
      delete task.maskImage;
      task.maskMargin = 64;
      return 'maskImage';
    },
  },
  setTo('strength', 'invalidStrength', [-0.01, 1.01, '0.5']),
  ...(['top', 'right', 'bottom', 'left'] as const).map(
    (side): Mutation => ({
      name: `outpaint.${side} not a multiple of 64 from 0`,
      code: 'invalidOutpaint',
      apply(task, pick) {
        ensureSeedImage(task);
        delete task.outpainting;
        task.outpaint = { top: 64, [side]: pickFrom([63, -64, 100, 64.5], pick) };
        return `outpaint.${side}`;
      },
    }),
  ),
  {
    name: 'outpaint.blur out of 0..32',
    code: 'invalidOutpaint',
    apply(task, pick) {
      ensureSeedImage(task);
      delete task.outpainting;
      task.outpaint = { left: 64, blur: pickFrom([33, -1, 2.5], pick) };
      return 'outpaint.blur';
    },
  },
  {
    name: 'outpaint extends nothing',
    code: 'invalidOutpaint',
    apply(task, pick) {
      ensureSeedImage(task);
      delete task.outpainting;
      task.outpaint = pickFrom([{}, { top: 0, right: 0, bottom: 0, left: 0 }, { blur: 10 }], pick);
      return 'outpaint';
    },
  },
  {
    name: 'outpainting (older name) with a bad side',
    code: 'invalidOutpaint',
    apply(task) {
      ensureSeedImage(task);
      delete task.outpaint;
      task.outpainting = { bottom: 65 };
      return 'outpainting.bottom';
    },
  },
  {
    name: 'outpaint with an unknown key',
    code: 'unknownParameter',
    apply(task) {
      ensureSeedImage(task);
      delete task.outpainting;
      task.outpaint = { top: 64, width: 64 };
      return 'outpaint.width';
    },
  },
  {
    name: 'outpaint without seedImage',
    code: 'missingSeedImage',
    apply(task) {
      delete task.seedImage;
      delete task.maskImage;
      delete task.maskMargin;
      delete task.outpainting;
      task.outpaint = { right: 128 };
      return 'seedImage';
    },
  },
  {
    name: 'outpaint and outpainting together',
    code: 'conflictingParameters',
    apply(task) {
      ensureSeedImage(task);
      task.outpaint = { top: 64 };
      task.outpainting = { top: 64 };
      return 'outpainting';
    },
  },
  // Refiner
  {
    name: 'refiner without model',
    code: 'invalidRefiner',
    apply(task) {
      task.refiner = { startStepPercentage: 50 };
      return 'refiner.model';
    },
  },
  {
    name: 'refiner.startStep 1 or steps + 1',
    code: 'invalidRefiner',
    apply(task, pick) {
      task.refiner = { model: 'runware:101@1', startStep: pickFrom([1, stepsOf(task) + 1, 0], pick) };
      return 'refiner.startStep';
    },
  },
  {
    name: 'refiner.startStepPercentage 0 or 100',
    code: 'invalidRefiner',
    apply(task, pick) {
      task.refiner = { model: 'runware:101@1', startStepPercentage: pickFrom([0, 100, 12.5], pick) };
      return 'refiner.startStepPercentage';
    },
  },
  {
    name: 'refiner with both startStep and startStepPercentage',
    code: 'conflictingParameters',
    apply(task) {
      if (stepsOf(task) < 2) task.steps = 100;
      task.refiner = { model: 'runware:101@1', startStep: 2, startStepPercentage: 50 };
      return 'refiner.startStepPercentage';
    },
  },
  // Embeddings and LoRA
  ...(
    [
      ['embeddings', 'invalidEmbeddings'],
      ['lora', 'invalidLora'],
    ] as const
  ).flatMap(([name, code]): Mutation[] => [
    entryMutation(name, code, 'weight outside -4..4', () => ({ entry: { model: 'runware:1@1', weight: 4.01 }, path: 'weight' })),
    entryMutation(name, code, 'weight below -4', () => ({ entry: { model: 'runware:1@1', weight: -4.5 }, path: 'weight' })),
    entryMutation(name, code, 'no model', () => ({ entry: { weight: 1 }, path: 'model' })),
    entryMutation(name, code, 'model not AIR', () => ({ entry: { model: 'file.safetensors' }, path: 'model' })),
    entryMutation(name, code, 'a non-object entry', () => ({ entry: 'runware:1@1', path: '' })),
    entryMutation(name, 'unknownParameter', 'an unknown key', () => ({ entry: { model: 'runware:1@1', alpha: 1 }, path: 'alpha' })),
    {
      name: `${name}: 21 entries`,
      code,
      apply(task) {
        task[name] = Array.from({ length: 21 }, () => ({ model: 'runware:1@1' }));
        return name;
      },
    },
  ]),
  // ControlNet
  entryMutation('controlNet', 'invalidControlNet', 'weight above 1', () => ({ entry: { ...CN, weight: 1.01 }, path: 'weight' })),
  entryMutation('controlNet', 'invalidControlNet', 'weight below 0', () => ({ entry: { ...CN, weight: -0.01 }, path: 'weight' })),
  entryMutation('controlNet', 'invalidControlNet', 'no model', () => ({ entry: { guideImage: IMAGE_UUID }, path: 'model' })),
  entryMutation('controlNet', 'invalidControlNet', 'no guideImage', () => ({ entry: { model: 'runware:20@1' }, path: 'guideImage' })),
  entryMutation('controlNet', 'invalidControlNet', 'guideImage as ftp', () => ({ entry: { ...CN, guideImage: 'ftp://example.com/g.png' }, path: 'guideImage' })),
  entryMutation('controlNet', 'invalidControlNet', 'startStep 0', () => ({ entry: { ...CN, startStep: 0 }, path: 'startStep' })),
  entryMutation('controlNet', 'invalidControlNet', 'startStep steps + 1', (task) => ({ entry: { ...CN, startStep: stepsOf(task) + 1 }, path: 'startStep' })),
  entryMutation('controlNet', 'invalidControlNet', 'startStepPercentage 100', () => ({ entry: { ...CN, startStepPercentage: 100 }, path: 'startStepPercentage' })),
  entryMutation('controlNet', 'invalidControlNet', 'endStep equal to startStep', (task) => {
    const start = Math.max(1, Math.floor(stepsOf(task) / 2));
    return { entry: { ...CN, startStep: start, endStep: start }, path: 'endStep' };
  }),
  entryMutation('controlNet', 'invalidControlNet', 'endStep steps + 1', (task) => ({ entry: { ...CN, endStep: stepsOf(task) + 1 }, path: 'endStep' })),
  entryMutation('controlNet', 'invalidControlNet', 'endStepPercentage 101', () => ({ entry: { ...CN, endStepPercentage: 101 }, path: 'endStepPercentage' })),
  entryMutation('controlNet', 'invalidControlNet', 'endStepPercentage equal to startStepPercentage', () => ({
    entry: { ...CN, startStepPercentage: 40, endStepPercentage: 40 },
    path: 'endStepPercentage',
  })),
  entryMutation('controlNet', 'invalidControlNet', 'controlMode outside its list', () => ({ entry: { ...CN, controlMode: 'both' }, path: 'controlMode' })),
  entryMutation('controlNet', 'conflictingParameters', 'startStep with startStepPercentage', () => ({
    entry: { ...CN, startStep: 1, startStepPercentage: 10 },
    path: 'startStepPercentage',
  })),
  entryMutation('controlNet', 'conflictingParameters', 'endStep with endStepPercentage', (task) => ({
    entry: { ...CN, endStep: stepsOf(task), endStepPercentage: 100 },
    path: 'endStepPercentage',
  })),
  entryMutation('controlNet', 'unknownParameter', 'an unknown key', () => ({ entry: { ...CN, preprocessor: 'canny' }, path: 'preprocessor' })),
  {
    name: 'controlNet: 21 entries',
    code: 'invalidControlNet',
    apply(task) {
      task.controlNet = Array.from({ length: 21 }, () => ({ ...CN }));
      return 'controlNet';
    },
  },
  // IP-Adapters
  entryMutation('ipAdapters', 'invalidIpAdapters', 'an unlisted model', () => ({ entry: { model: 'runware:55@9', guideImage: IMAGE_UUID }, path: 'model' })),
  entryMutation('ipAdapters', 'invalidIpAdapters', 'weight above 1', () => ({ entry: { model: 'runware:55@10', guideImage: IMAGE_UUID, weight: 1.5 }, path: 'weight' })),
  entryMutation('ipAdapters', 'invalidIpAdapters', 'no guideImage', () => ({ entry: { model: 'runware:55@1' }, path: 'guideImage' })),
  // Unknown parameters
  setTo('guidance_scale', 'unknownParameter', [7]),
  setTo('image', 'unknownParameter', [IMAGE_UUID]),
];

describe('(b) a single mutation breaking one rule', () => {
  it('has a mutation for every rule family', () => {
    const codes = new Set(mutations.map((m) => m.code));
    for (const code of ['missingWidth', 'invalidWidth', 'invalidSeed', 'invalidOutpaint', 'invalidRefiner', 'invalidControlNet', 'invalidIpAdapters', 'invalidLora', 'invalidEmbeddings', 'invalidTtl', 'invalidPreviews', 'conflictingParameters', 'unknownParameter', 'missingSeedImage', 'missingMaskImage']) {
      expect(codes.has(code), code).toBe(true);
    }
    for (const mutation of mutations) expect(isKnownErrorCode(mutation.code), mutation.name).toBe(true);
  });

  it('fails validation with that code on exactly that parameter', () => {
    fc.assert(
      fc.property(validRequest, fc.constantFrom(...mutations), fc.nat(), (valid, mutation, pick) => {
        const task = structuredClone(valid);
        const parameter = mutation.apply(task, pick);
        const errors = errorsOf(task);
        const context = `${mutation.name} → expected ${mutation.code} on ${parameter}, got ${describeErrors(errors)}`;
        expect(errors.length, context).toBeGreaterThan(0);
        expect(
          errors.every((error) => error.parameter === parameter),
          context,
        ).toBe(true);
        expect(
          errors.some((error) => error.code === mutation.code),
          context,
        ).toBe(true);
        for (const error of errors) {
          expect(error.taskType).toBe('imageInference');
          if (typeof task.taskUUID === 'string') expect(error.taskUUID).toBe(task.taskUUID);
          expect(error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('runs each mutation at least once against the base of a random request', () => {
    const sample = fc.sample(validRequest, { numRuns: mutations.length, seed: 42 });
    mutations.forEach((mutation, index) => {
      const task = structuredClone(sample[index] as Task);
      const parameter = mutation.apply(task, index);
      const errors = errorsOf(task);
      expect(
        errors.some((error) => error.code === mutation.code && error.parameter === parameter),
        `${mutation.name}: ${describeErrors(errors)}`,
      ).toBe(true);
    });
  });
});

// ---- (c) decoders and validation never throw --------------------------------------------------

describe('(c) never throwing', () => {
  const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', ',', ':', '1', 'n', 'u', 'l', '\\', ' ') }));
  const anyJson = fc.jsonValue({ maxDepth: 4 });
  const anyValue = fc.anything({ maxDepth: 3, withNullPrototype: true, withBoxedValues: true, withSparseArray: true, withObjectString: true });

  it('decodeClientFrame and decodeServerFrame never throw on arbitrary strings', () => {
    fc.assert(
      fc.property(anyString, (text) => {
        const client = decodeClientFrame(text, { maxFrameBytes: 200, maxTasksPerFrame: 3 });
        expect(typeof client.ok).toBe('boolean');
        const server = decodeServerFrame(text);
        expect(typeof server.ok).toBe('boolean');
        const both = decodeAndValidate(text);
        expect(Array.isArray(both.results)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('decodeClientFrame and decodeServerFrame never throw on arbitrary JSON values', () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        const text = JSON.stringify(value);
        const client = decodeAndValidate(text);
        for (const result of client.results) {
          if (!result.ok) for (const error of result.errors) expect(isKnownErrorCode(error.code), error.code).toBe(true);
        }
        if (client.frameError !== undefined) expect(isKnownErrorCode(client.frameError.code)).toBe(true);
        expect(typeof decodeServerFrame(text).ok).toBe('boolean');
        expect(typeof decodeServerFrame(new TextEncoder().encode(text)).ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('decodeServerFrame never throws on frames shaped like server frames with arbitrary contents', () => {
    const frame = fc.record({ data: anyJson, errors: anyJson, error: anyJson, seq: anyJson }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof(frame, fc.array(frame, { maxLength: 3 })), (value) => {
        const decoded = decodeServerFrame(JSON.stringify(value));
        if (decoded.ok) {
          for (const item of decoded.data) expect(typeof item.taskType).toBe('string');
          for (const error of decoded.errors) {
            expect(typeof error.code).toBe('string');
            expect(typeof error.message).toBe('string');
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  const parameterNames = [
    'taskUUID', 'positivePrompt', 'negativePrompt', 'model', 'width', 'height', 'outputType', 'outputFormat', 'outputQuality', 'uploadEndpoint', 'checkNSFW',
    'includeCost', 'seedImage', 'maskImage', 'maskMargin', 'strength', 'outpaint', 'outpainting', 'vae', 'steps', 'scheduler', 'seed', 'CFGScale', 'clipSkip',
    'promptWeighting', 'usePromptWeighting', 'numberResults', 'refiner', 'embeddings', 'controlNet', 'lora', 'ipAdapters', 'deliveryMethod', 'webhookURL', 'ttl',
    'previews', 'apiKey', 'connectionSessionUUID', 'extensions', 'ack', 'ping', 'image', 'toString', '__proto__',
  ];
  const taskType = fc.oneof(fc.constantFrom('authentication', 'ping', 'imageInference', 'imageUpload', 'getResponse', 'cancel'), anyValue);

  it('validateTask never throws on tasks of known types with arbitrary parameter values', () => {
    fc.assert(
      fc.property(taskType, fc.dictionary(fc.constantFrom(...parameterNames), fc.oneof(anyValue, anyJson), { maxKeys: 8 }), (type, fields) => {
        const result = validateTask({ ...fields, taskType: type });
        if (!result.ok) {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const error of result.errors) {
            expect(isKnownErrorCode(error.code), error.code).toBe(true);
            expect(typeof error.message).toBe('string');
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('validateTask never throws on arbitrary nested values inside a valid request', () => {
    const nestedNames = ['outpaint', 'refiner', 'embeddings', 'lora', 'controlNet', 'ipAdapters', 'previews'];
    const nested = fc.oneof(anyJson, fc.array(fc.dictionary(fc.constantFrom('model', 'guideImage', 'weight', 'startStep', 'startStepPercentage', 'endStep', 'endStepPercentage', 'controlMode', 'top', 'blur', 'maxSide', 'format'), anyJson, { maxKeys: 5 }), { maxLength: 3 }));
    fc.assert(
      fc.property(validRequest, fc.constantFrom(...nestedNames), nested, (task, name, value) => {
        const result = validateTask({ ...task, [name]: value });
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });

  it('validateTask never throws on arbitrary values', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        expect(typeof validateTask(value).ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });
});

// ---- (d) normalization ------------------------------------------------------------------------

describe('(d) normalizeImageInference of valid requests', () => {
  it('fills every default within its range, keeps given values, and is idempotent', () => {
    fc.assert(
      fc.property(validRequest, (task) => {
        const before = structuredClone(task);
        const result = validateTask(task);
        if (!result.ok) return expect.fail(describeErrors(result.errors));
        const once = normalizeImageInference(result.task as ImageInferenceTask);
        expect(task).toEqual(before);

        expect(['base64Data', 'dataURI', 'URL']).toContain(once.outputType);
        expect(['JPG', 'PNG', 'WEBP']).toContain(once.outputFormat);
        expect(Number.isInteger(once.outputQuality) && once.outputQuality >= 20 && once.outputQuality <= 99).toBe(true);
        expect(Number.isInteger(once.steps) && once.steps >= 1 && once.steps <= 100).toBe(true);
        expect(once.CFGScale >= 0 && once.CFGScale <= 30).toBe(true);
        expect(Number.isInteger(once.numberResults) && once.numberResults >= 1 && once.numberResults <= 20).toBe(true);
        expect(once.strength >= 0 && once.strength <= 1).toBe(true);
        expect(['sync', 'async']).toContain(once.deliveryMethod);
        expect(typeof once.checkNSFW).toBe('boolean');
        expect(typeof once.includeCost).toBe('boolean');
        for (const list of [once.embeddings, once.controlNet, once.lora, once.ipAdapters]) expect(Array.isArray(list)).toBe(true);
        expect(once).not.toHaveProperty('usePromptWeighting');
        expect(once).not.toHaveProperty('outpainting');
        if (once.outpaint !== undefined) {
          for (const side of [once.outpaint.top, once.outpaint.right, once.outpaint.bottom, once.outpaint.left]) expect(side % 64 === 0 && side >= 0).toBe(true);
          expect(once.outpaint.blur >= 0 && once.outpaint.blur <= 32).toBe(true);
        }
        if (once.previews !== undefined) {
          expect(once.previews.maxSide >= 32 && once.previews.maxSide <= 512).toBe(true);
          expect(['JPG', 'WEBP']).toContain(once.previews.format);
        }
        if (task.usePromptWeighting === true) expect(once.promptWeighting).toBe('compel');
        for (const key of ['positivePrompt', 'model', 'width', 'height', 'taskUUID', 'seed', 'steps', 'CFGScale', 'numberResults', 'refiner', 'controlNet', 'lora', 'seedImage']) {
          if (task[key] !== undefined) expect(once).toHaveProperty([key], task[key]);
        }

        // The resolved task is itself a valid task, and resolving it again changes nothing.
        const again = validateTask(once);
        if (!again.ok) return expect.fail(`normalized task refused: ${describeErrors(again.errors)}`);
        expect(normalizeImageInference(again.task as ImageInferenceTask)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });
});
