// Core behaviour of the protocol module: rule edges, every problem at once, frames that never throw,
// and property tests over valid requests and single-rule mutations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeAndValidate,
  decodeBinaryResult,
  decodeServerFrame,
  encodeBinaryResult,
  newTaskUUID,
  normalizeImageInference,
  validateTask,
  type ImageInferenceTask,
  type ProtocolErrorItem,
} from '../../src/protocol/index.js';

const uuid = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';

function base(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { taskType: 'imageInference', taskUUID: uuid, positivePrompt: 'a cat', model: 'runware:101@1', width: 512, height: 512, ...overrides };
}

function errorsOf(task: unknown): ProtocolErrorItem[] {
  const result = validateTask(task);
  return result.ok ? [] : result.errors;
}

describe('imageInference rules', () => {
  const edges: [string, unknown, unknown, string][] = [
    ['width', 128, 127, 'invalidWidth'],
    ['width', 2048, 2112, 'invalidWidth'],
    ['height', 192, 500, 'invalidHeight'],
    ['steps', 100, 101, 'invalidSteps'],
    ['steps', 1, 0, 'invalidSteps'],
    ['CFGScale', 30, 30.1, 'invalidCFGScale'],
    ['CFGScale', 0, -0.1, 'invalidCFGScale'],
    ['clipSkip', 2, 3, 'invalidClipSkip'],
    ['numberResults', 20, 21, 'invalidNumberResults'],
    ['outputQuality', 20, 19, 'invalidOutputQuality'],
    ['outputQuality', 99, 100, 'invalidOutputQuality'],
    ['strength', 1, 1.01, 'invalidStrength'],
    ['seed', 2 ** 53, 0, 'invalidSeed'],
    ['outputFormat', 'webp', 'gif', 'invalidOutputFormat'],
    ['outputType', 'dataURI', 'file', 'invalidOutputType'],
    ['promptWeighting', 'sdEmbeds', 'weights', 'invalidPromptWeighting'],
    ['deliveryMethod', 'async', 'later', 'invalidDeliveryMethod'],
    ['positivePrompt', 'ab', 'a', 'invalidPositivePrompt'],
    ['positivePrompt', 'x'.repeat(3000), 'x'.repeat(3001), 'invalidPositivePrompt'],
    ['positivePrompt', '__BLANK__', 'a __BLANK__ cat', 'invalidPositivePrompt'],
    ['negativePrompt', 'x'.repeat(2000), 'x', 'invalidNegativePrompt'],
    ['model', 'civitai:102438@133677', 'dreamshaper', 'invalidModel'],
  ];

  it.each(edges)('%s accepts %j and refuses %j', (parameter, accepted, refused, code) => {
    expect(errorsOf(base({ [parameter]: accepted }))).toEqual([]);
    const [error, ...rest] = errorsOf(base({ [parameter]: refused }));
    expect(rest).toEqual([]);
    expect(error).toMatchObject({ code, parameter, taskType: 'imageInference', taskUUID: uuid });
    expect(error?.message).toContain(parameter);
    expect(error?.message).toContain('got');
  });

  it('names the rule and the value in the message', () => {
    expect(errorsOf(base({ width: 500 }))[0]?.message).toBe('width must be a multiple of 64 from 128 to 2048; got 500');
  });

  it('reports every problem of a task at once', () => {
    const errors = errorsOf(base({ width: 500, height: 4096, steps: 0, outputFormat: 'gif', bogus: 1 }));
    expect(errors.map((error) => error.parameter).sort()).toEqual(['bogus', 'height', 'outputFormat', 'steps', 'width']);
  });

  it('requires the required parameters', () => {
    const errors = errorsOf({ taskType: 'imageInference', taskUUID: uuid });
    expect(errors.map((error) => error.code).sort()).toEqual(['missingHeight', 'missingModel', 'missingPositivePrompt', 'missingWidth']);
  });

  it('bounds controlNet step windows by the task steps', () => {
    const guide = 'https://example.com/edge.png';
    expect(errorsOf(base({ steps: 30, controlNet: [{ model: 'runware:25@1', guideImage: guide, startStep: 5, endStep: 30 }] }))).toEqual([]);
    const [error] = errorsOf(base({ steps: 30, controlNet: [{ model: 'runware:25@1', guideImage: guide, startStep: 5, endStep: 5 }] }));
    expect(error).toMatchObject({ code: 'invalidControlNet', parameter: 'controlNet[0].endStep' });
  });

  it('needs a seed image for masks and outpainting, and a mask for maskMargin', () => {
    expect(errorsOf(base({ maskImage: uuid })).map((error) => error.code)).toEqual(['missingSeedImage']);
    expect(errorsOf(base({ outpaint: { top: 64 } })).map((error) => error.code)).toEqual(['missingSeedImage']);
    expect(errorsOf(base({ seedImage: uuid, maskMargin: 64 })).map((error) => error.code)).toEqual(['missingMaskImage']);
    expect(errorsOf(base({ seedImage: uuid, outpaint: { top: 63 } }))[0]).toMatchObject({ code: 'invalidOutpaint', parameter: 'outpaint.top' });
  });

  it('accepts the older names and folds them into the newer ones', () => {
    const task = base({ usePromptWeighting: true, outpainting: { left: 64 }, seedImage: uuid, outputFormat: 'png' });
    const result = validateTask(task);
    expect(result.ok).toBe(true);
    const resolved = normalizeImageInference(task as unknown as ImageInferenceTask);
    expect(resolved).toMatchObject({ promptWeighting: 'compel', outpaint: { left: 64, top: 0, blur: 0 }, outputFormat: 'PNG', steps: 20, CFGScale: 7 });
  });
});

describe('tasks', () => {
  it('refuses a taskUUID that is not a UUID v4', () => {
    expect(errorsOf(base({ taskUUID: '6f1c2a3b-4d5e-1f60-8a7b-9c0d1e2f3a4b' }))[0]).toMatchObject({ code: 'invalidTaskUUID', parameter: 'taskUUID' });
    expect(errorsOf(base({ taskUUID: undefined }))[0]).toMatchObject({ code: 'missingTaskUUID' });
  });

  it('refuses unknown task types and never echoes an API key', () => {
    expect(errorsOf({ taskType: 'test', taskUUID: uuid })[0]).toMatchObject({ code: 'unknownTaskType', taskUUID: uuid });
    const key = 'k'.repeat(5000);
    const [error] = errorsOf({ taskType: 'authentication', apiKey: key });
    expect(error).toMatchObject({ code: 'invalidApiKey', parameter: 'apiKey', taskType: 'authentication' });
    expect(error?.message).not.toContain(key);
  });

  it('validates authentication, ping, imageUpload, getResponse and cancel', () => {
    expect(errorsOf({ taskType: 'authentication', apiKey: 'key', connectionSessionUUID: uuid, extensions: ['ack'], ack: 3 })).toEqual([]);
    expect(errorsOf({ taskType: 'ping', ping: true })).toEqual([]);
    expect(errorsOf({ taskType: 'ping', ping: false })[0]).toMatchObject({ code: 'invalidPing' });
    expect(errorsOf({ taskType: 'imageUpload', taskUUID: uuid, image: uuid })[0]).toMatchObject({ code: 'invalidImage' });
    expect(errorsOf({ taskType: 'getResponse', taskUUID: uuid })).toEqual([]);
    expect(errorsOf({ taskType: 'cancel', taskUUID: 'nope' })[0]).toMatchObject({ code: 'invalidTaskUUID' });
  });
});

describe('frames', () => {
  it('turns bad frames into error items', () => {
    expect(decodeAndValidate('{oops').frameError?.code).toBe('invalidJSON');
    expect(decodeAndValidate('{"taskType":"ping"}').frameError?.code).toBe('invalidFrame');
    expect(decodeAndValidate('[]').frameError?.code).toBe('invalidFrame');
    expect(decodeAndValidate('[1,2]', { maxTasksPerFrame: 1 }).frameError?.code).toBe('tooManyTasks');
    expect(decodeAndValidate(`["${'é'.repeat(600)}"]`, { maxFrameBytes: 1000 }).frameError?.code).toBe('frameTooLarge');
    const { results } = decodeAndValidate('[{"taskType":"ping","ping":true}, 3]');
    expect(results[0]?.ok).toBe(true);
    expect(results[1]).toMatchObject({ ok: false, errors: [{ code: 'invalidTask', parameter: '[1]' }] });
  });

  it('reads server frames leniently', () => {
    expect(decodeServerFrame('{"data":{"taskType":"ping","pong":true}}')).toMatchObject({ ok: true, data: [{ pong: true }] });
    expect(decodeServerFrame('[{"error":{"code":"x","message":"m"}}]')).toMatchObject({ ok: true, errors: [{ code: 'x' }] });
    expect(decodeServerFrame('{"seq":4,"errors":[{"code":"y","message":"m","taskUUID":"t"}]}')).toMatchObject({ seq: 4 });
    expect(decodeServerFrame('nope').ok).toBe(false);
  });

  it('round-trips binary result frames without copying the image', () => {
    const image = new Uint8Array([1, 2, 3, 4]);
    const frame = encodeBinaryResult({ taskType: 'imageInference', taskUUID: uuid, seq: 2 }, image);
    const decoded = decodeBinaryResult(frame);
    expect(decoded.ok && [...decoded.image]).toEqual([1, 2, 3, 4]);
    expect(decoded.ok && decoded.image.buffer).toBe(frame.buffer);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        decodeAndValidate(text);
        decodeServerFrame(text);
      }),
      { numRuns: 300 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => void decodeBinaryResult(bytes)), { numRuns: 300 });
  });
});

describe('properties', () => {
  const validRequest = fc.record({
    positivePrompt: fc.string({ minLength: 2, maxLength: 60 }).filter((s) => s.trim().length > 0 && !s.includes('__BLANK__')),
    width: fc.integer({ min: 2, max: 32 }).map((n) => n * 64),
    height: fc.integer({ min: 2, max: 32 }).map((n) => n * 64),
    steps: fc.integer({ min: 1, max: 100 }),
    CFGScale: fc.double({ min: 0, max: 30, noNaN: true }),
    numberResults: fc.integer({ min: 1, max: 20 }),
    seed: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    strength: fc.double({ min: 0, max: 1, noNaN: true }),
    outputFormat: fc.constantFrom('JPG', 'PNG', 'WEBP', 'png'),
  });

  it('accepts random valid requests', () => {
    fc.assert(
      fc.property(validRequest, (request) => {
        expect(errorsOf(base({ ...request, taskUUID: newTaskUUID() }))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  // Each mutation breaks exactly one rule of the seed tables, written here independently of rules.ts.
  const mutations: [string, unknown, string][] = [
    ['width', 130, 'invalidWidth'],
    ['height', 2112, 'invalidHeight'],
    ['steps', 101, 'invalidSteps'],
    ['CFGScale', 31, 'invalidCFGScale'],
    ['numberResults', 0, 'invalidNumberResults'],
    ['seed', 1.5, 'invalidSeed'],
    ['strength', -1, 'invalidStrength'],
    ['outputQuality', 100, 'invalidOutputQuality'],
    ['clipSkip', -1, 'invalidClipSkip'],
    ['checkNSFW', 'yes', 'invalidCheckNSFW'],
  ];

  it('reports a single broken rule with the right parameter', () => {
    fc.assert(
      fc.property(validRequest, fc.constantFrom(...mutations), (request, [parameter, value, code]) => {
        const errors = errorsOf(base({ ...request, [parameter]: value }));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatchObject({ parameter, code });
      }),
      { numRuns: 300 },
    );
  });
});
