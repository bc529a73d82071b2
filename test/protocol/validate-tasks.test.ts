// Task types other than imageInference (authentication, ping, enableExtensions, imageUpload,
// getResponse, cancel),
// the checks every task shares (taskType, taskUUID, non-object entries) and validateTaskOf.
import { describe, it, expect } from 'vitest';
import { validateTask, validateTaskOf, type ImageInferenceTask } from '../../src/protocol/index.js';
import {
  baseRequest,
  errorsOf,
  expectOnlyError,
  expectValid,
  GIF_DATA_URI,
  HTTPS_IMAGE_URL,
  IMAGE_UUID,
  PNG_BASE64,
  PNG_DATA_URI,
  SESSION_UUID,
  TASK_UUID,
  UUID_V1,
} from './fixtures.js';

const auth = (fields: Record<string, unknown> = {}) => ({ taskType: 'authentication', apiKey: 'sk-test-0123456789', ...fields });

describe('authentication', () => {
  it('accepts the protocol example and a resume', () => {
    expectValid(auth());
    expectValid(auth({ connectionSessionUUID: SESSION_UUID }));
  });

  it('accepts a key of 4096 characters', () => {
    expectValid(auth({ apiKey: 'k'.repeat(4096) }));
  });

  it('requires apiKey, without a taskUUID on the item', () => {
    expectOnlyError({ taskType: 'authentication' }, { code: 'missingApiKey', parameter: 'apiKey', type: 'string', taskType: 'authentication', taskUUID: null, message: ['apiKey is required'] });
    expectOnlyError(auth({ apiKey: null }), { code: 'missingApiKey', parameter: 'apiKey', taskType: 'authentication', taskUUID: null });
  });

  it.each([
    ['empty', ''],
    ['too long (4097 characters)', 'SECRETKEY'.repeat(455) + 'SECR'],
    ['a number', 123456789],
    ['an object', { key: 'SECRETKEY' }],
  ])('refuses an apiKey that is %s, without echoing it', (_label, apiKey) => {
    const item = expectOnlyError(auth({ apiKey }), {
      code: 'invalidApiKey',
      parameter: 'apiKey',
      type: 'string',
      taskType: 'authentication',
      taskUUID: null,
      message: ['apiKey must be a non-empty string of at most 4096 characters'],
    });
    expect(item.message).not.toContain('SECRETKEY');
    expect(item.message).not.toContain('123456789');
  });

  it('never puts the key in any message, even beside other errors', () => {
    const key = 'sk-live-TOPSECRET-42';
    const errors = errorsOf({ taskType: 'authentication', apiKey: key, connectionSessionUUID: 'nope', extensions: ['zip'], ack: -1, extra: key });
    expect(errors.map((e) => e.code).sort()).toEqual(['invalidAck', 'invalidConnectionSessionUUID', 'invalidExtensions', 'unknownParameter']);
    expect(JSON.stringify(errors)).not.toContain('TOPSECRET');
    const tooLong = errorsOf(auth({ apiKey: `${key}${'x'.repeat(5000)}` }));
    expect(JSON.stringify(tooLong)).not.toContain('TOPSECRET');
  });

  it('accepts any well-formed UUID as connectionSessionUUID', () => {
    expectValid(auth({ connectionSessionUUID: UUID_V1 }));
    expectValid(auth({ connectionSessionUUID: SESSION_UUID.toUpperCase() }));
  });

  it.each([
    ['not-a-session', '"not-a-session"'],
    [42, '42'],
    [{ toString: 1 }, 'an object'],
  ] as const)('refuses connectionSessionUUID %j', (connectionSessionUUID, shown) => {
    expectOnlyError(auth({ connectionSessionUUID }), {
      code: 'invalidConnectionSessionUUID',
      parameter: 'connectionSessionUUID',
      taskType: 'authentication',
      taskUUID: null,
      message: ['connectionSessionUUID must be a UUID string', `got ${shown}`],
    });
  });

  it.each([[[]], [['ack']], [['binaryResults']], [['ack', 'binaryResults']]])('accepts extensions %j', (extensions) => {
    expectValid(auth({ extensions }));
  });

  it('refuses extensions that are not session extensions', () => {
    expectOnlyError(auth({ extensions: ['ack', 'previews'] }), {
      code: 'invalidExtensions',
      parameter: 'extensions[1]',
      taskType: 'authentication',
      taskUUID: null,
      message: ['extensions[1] must be one of ack, binaryResults', 'got "previews"'],
    });
    expectOnlyError(auth({ extensions: 'ack' }), { code: 'invalidExtensions', parameter: 'extensions', taskUUID: null, taskType: 'authentication', message: ['extensions must be an array', 'got "ack"'] });
    expectOnlyError(auth({ extensions: [1] }), { code: 'invalidExtensions', parameter: 'extensions[0]', taskUUID: null, taskType: 'authentication', message: ['got 1'] });
    expectOnlyError(auth({ extensions: ['ack', 'ack', 'ack', 'ack', 'ack'] }), { code: 'invalidExtensions', parameter: 'extensions', taskUUID: null, taskType: 'authentication', message: ['at most 4 entries', 'got 5'] });
  });

  it.each([0, 1, 41, Number.MAX_SAFE_INTEGER])('accepts ack %d', (ack) => expectValid(auth({ connectionSessionUUID: SESSION_UUID, extensions: ['ack'], ack })));
  it.each([
    [-1, '-1'],
    [1.5, '1.5'],
    ['41', '"41" (string of 2 characters)'],
    [2 ** 53, String(2 ** 53)],
  ] as const)('refuses ack %j', (ack, shown) => {
    expectOnlyError(auth({ ack }), { code: 'invalidAck', parameter: 'ack', type: 'integer', taskType: 'authentication', taskUUID: null, message: ['ack must be an integer from 0 to', `got ${shown}`] });
  });

  it('refuses unknown parameters', () => {
    expectOnlyError(auth({ token: 'x' }), { code: 'unknownParameter', parameter: 'token', taskType: 'authentication', taskUUID: null, message: ['token is not a parameter of authentication'] });
  });
});

describe('ping', () => {
  it('accepts the protocol example, a ping with ack, and a ping without the flag', () => {
    expectValid({ taskType: 'ping', ping: true });
    expectValid({ taskType: 'ping', ping: true, ack: 17 });
    expectValid({ taskType: 'ping' });
  });

  it.each([
    [false, 'false'],
    ['true', '"true"'],
    [1, '1'],
  ] as const)('refuses ping %j', (ping, shown) => {
    const item = expectOnlyError({ taskType: 'ping', ping }, { code: 'invalidPing', parameter: 'ping', type: 'boolean', taskType: 'ping', taskUUID: null });
    expect(item.message).toBe(`ping must be true; got ${shown}`);
  });

  it('refuses a bad ack and unknown parameters', () => {
    expectOnlyError({ taskType: 'ping', ping: true, ack: -5 }, { code: 'invalidAck', parameter: 'ack', taskType: 'ping', taskUUID: null, message: ['got -5'] });
    expectOnlyError({ taskType: 'ping', ping: true, pong: true }, { code: 'unknownParameter', parameter: 'pong', taskType: 'ping', taskUUID: null });
  });
});

describe('enableExtensions', () => {
  const enable = (fields: Record<string, unknown> = {}) => ({ taskType: 'enableExtensions', extensions: ['ack'], ...fields });

  it.each([[[]], [['ack']], [['binaryResults']], [['binaryResults', 'ack']]])('accepts extensions %j', (extensions) => {
    expectValid(enable({ extensions }));
  });

  it.each([0, 17, Number.MAX_SAFE_INTEGER])('accepts ack %d, also beside an empty list', (ack) => {
    expectValid(enable({ ack }));
    expectValid(enable({ extensions: [], ack }));
  });

  it('requires extensions, without a taskUUID on the item', () => {
    expectOnlyError({ taskType: 'enableExtensions' }, { code: 'missingExtensions', parameter: 'extensions', type: 'array', taskType: 'enableExtensions', taskUUID: null, message: ['extensions is required'] });
    expectOnlyError(enable({ extensions: null, ack: 3 }), { code: 'missingExtensions', parameter: 'extensions', taskType: 'enableExtensions', taskUUID: null });
  });

  it('refuses names that are not session extensions, and values that are not lists of names', () => {
    expectOnlyError(enable({ extensions: ['ack', 'previews'] }), {
      code: 'invalidExtensions',
      parameter: 'extensions[1]',
      taskType: 'enableExtensions',
      taskUUID: null,
      message: ['extensions[1] must be one of ack, binaryResults', 'got "previews"'],
    });
    expectOnlyError(enable({ extensions: ['zip'] }), { code: 'invalidExtensions', parameter: 'extensions[0]', taskType: 'enableExtensions', taskUUID: null, message: ['got "zip"'] });
    expectOnlyError(enable({ extensions: 'ack' }), { code: 'invalidExtensions', parameter: 'extensions', type: 'array', taskType: 'enableExtensions', taskUUID: null, message: ['extensions must be an array', 'got "ack"'] });
    expectOnlyError(enable({ extensions: { ack: true } }), { code: 'invalidExtensions', parameter: 'extensions', taskType: 'enableExtensions', taskUUID: null });
    expectOnlyError(enable({ extensions: [true] }), { code: 'invalidExtensions', parameter: 'extensions[0]', taskType: 'enableExtensions', taskUUID: null, message: ['got true'] });
    expectOnlyError(enable({ extensions: ['ack', 'ack', 'ack', 'ack', 'ack'] }), { code: 'invalidExtensions', parameter: 'extensions', taskType: 'enableExtensions', taskUUID: null, message: ['at most 4 entries', 'got 5'] });
  });

  it.each([
    [-1, '-1'],
    [2.5, '2.5'],
    ['17', '"17" (string of 2 characters)'],
    [2 ** 53, String(2 ** 53)],
  ] as const)('refuses ack %j', (ack, shown) => {
    expectOnlyError(enable({ ack }), { code: 'invalidAck', parameter: 'ack', type: 'integer', taskType: 'enableExtensions', taskUUID: null, message: ['ack must be an integer from 0 to', `got ${shown}`] });
  });

  it('refuses unknown parameters, a taskUUID among them, and reports every problem at once', () => {
    expectOnlyError(enable({ taskUUID: TASK_UUID }), { code: 'unknownParameter', parameter: 'taskUUID', taskType: 'enableExtensions', taskUUID: null, message: ['taskUUID is not a parameter of enableExtensions'] });
    expectOnlyError(enable({ apiKey: 'k' }), { code: 'unknownParameter', parameter: 'apiKey', taskType: 'enableExtensions', taskUUID: null });
    const errors = errorsOf({ taskType: 'enableExtensions', extensions: ['zip'], ack: -1, previews: true });
    expect(errors.map((e) => e.code).sort()).toEqual(['invalidAck', 'invalidExtensions', 'unknownParameter']);
  });
});

describe('imageUpload', () => {
  const upload = (fields: Record<string, unknown> = {}) => ({ taskType: 'imageUpload', taskUUID: TASK_UUID, image: PNG_DATA_URI, ...fields });

  it.each([
    ['a data URI', PNG_DATA_URI],
    ['raw base64', PNG_BASE64],
    ['an https URL', HTTPS_IMAGE_URL],
  ])('accepts %s', (_label, image) => expectValid(upload({ image })));

  it('requires image', () => {
    expectOnlyError(upload({ image: undefined }), { code: 'missingImage', parameter: 'image', taskType: 'imageUpload', message: ['image is required'] });
  });

  it('refuses an image UUID as the image', () => {
    expectOnlyError(upload({ image: IMAGE_UUID }), {
      code: 'invalidImage',
      parameter: 'image',
      taskType: 'imageUpload',
      message: ['image must be the image itself (data URI, base64 or URL), not an image UUID'],
    });
  });

  it.each([
    ['a GIF data URI', GIF_DATA_URI],
    ['an ftp URL', 'ftp://example.com/a.png'],
    ['short junk', 'xyz'],
    ['a number', 5],
  ])('refuses %s', (_label, image) => {
    expectOnlyError(upload({ image }), { code: 'invalidImage', parameter: 'image', taskType: 'imageUpload' });
  });

  it('requires a UUID v4 taskUUID and refuses unknown parameters', () => {
    expectOnlyError(upload({ taskUUID: undefined }), { code: 'missingTaskUUID', parameter: 'taskUUID', taskType: 'imageUpload', taskUUID: null });
    expectOnlyError(upload({ taskUUID: UUID_V1 }), { code: 'invalidTaskUUID', parameter: 'taskUUID', taskType: 'imageUpload', taskUUID: UUID_V1 });
    expectOnlyError(upload({ imageName: 'a.png' }), { code: 'unknownParameter', parameter: 'imageName', taskType: 'imageUpload' });
  });
});

describe.each(['getResponse', 'cancel'])('%s', (taskType) => {
  it('accepts a UUID v4 taskUUID', () => {
    expectValid({ taskType, taskUUID: TASK_UUID });
  });

  it('requires a taskUUID', () => {
    expectOnlyError({ taskType }, { code: 'missingTaskUUID', parameter: 'taskUUID', taskType, taskUUID: null, message: ['taskUUID is required'] });
  });

  it.each([UUID_V1, 'abc', ''])('refuses the taskUUID %j', (taskUUID) => {
    expectOnlyError({ taskType, taskUUID }, {
      code: 'invalidTaskUUID',
      parameter: 'taskUUID',
      taskType,
      taskUUID,
      message: ['taskUUID must be a UUID v4 string', `got ${JSON.stringify(taskUUID)}`],
    });
  });

  it('refuses unknown parameters', () => {
    expectOnlyError({ taskType, taskUUID: TASK_UUID, force: true }, { code: 'unknownParameter', parameter: 'force', taskType, message: [`force is not a parameter of ${taskType}`] });
  });
});

describe('entries that are not task objects', () => {
  it.each([
    [null, 'null'],
    [5, 'number'],
    ['task', 'string'],
    [true, 'boolean'],
    [[baseRequest()], 'an array'],
  ])('refuses %j as invalidTask', (entry, got) => {
    const result = validateTask(entry, 3);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([{ code: 'invalidTask', message: `task [3] must be an object; got ${got}`, parameter: '[3]', type: 'object' }]);
  });

  it('leaves out the parameter when no index is given', () => {
    const result = validateTask(undefined);
    expect(result).toEqual({ ok: false, errors: [{ code: 'invalidTask', message: 'a task must be an object; got undefined', type: 'object' }] });
  });

  it('reports a missing or unknown taskType with the taskUUID when present', () => {
    expectOnlyError({ taskUUID: TASK_UUID, positivePrompt: 'a cat' }, { code: 'missingTaskType', parameter: 'taskType', taskType: null, taskUUID: TASK_UUID });
    expectOnlyError({ taskType: 'imageUpscale', taskUUID: TASK_UUID }, { code: 'unknownTaskType', parameter: 'taskType', taskType: 'imageUpscale', taskUUID: TASK_UUID, message: ['got "imageUpscale"'] });
    expectOnlyError({ taskType: null }, { code: 'missingTaskType', parameter: 'taskType', taskType: null, taskUUID: null });
  });
});

describe('values that cannot become strings', () => {
  // JSON.parse makes {"toString":1}; String() of it throws. Validation must still answer.
  const odd = JSON.parse('{"toString":1,"valueOf":2}') as unknown;

  it('answers an object taskType with unknownTaskType', () => {
    expectOnlyError({ taskType: odd }, { code: 'unknownTaskType', parameter: 'taskType', taskType: null, taskUUID: null, message: ['got an object'] });
  });

  it('answers an object taskUUID with invalidTaskUUID', () => {
    expectOnlyError({ taskType: 'cancel', taskUUID: odd }, { code: 'invalidTaskUUID', parameter: 'taskUUID', taskType: 'cancel', taskUUID: null, message: ['got an object'] });
    expectOnlyError(baseRequest({ taskUUID: odd }), { code: 'invalidTaskUUID', parameter: 'taskUUID', taskUUID: null, message: ['got an object'] });
  });

  it('answers an object connectionSessionUUID with invalidConnectionSessionUUID', () => {
    expectOnlyError(auth({ connectionSessionUUID: odd }), { code: 'invalidConnectionSessionUUID', parameter: 'connectionSessionUUID', taskType: 'authentication', taskUUID: null, message: ['got an object'] });
  });

  it('answers such values anywhere in an imageInference task', () => {
    const errors = errorsOf(baseRequest({ width: odd, outputType: odd, seedImage: odd, controlNet: [odd], refiner: odd, previews: odd, outpaint: odd }));
    expect(errors.length).toBeGreaterThanOrEqual(7);
  });
});

describe('validateTaskOf', () => {
  it('returns the typed task when the type matches', () => {
    const result = validateTaskOf<ImageInferenceTask>('imageInference', baseRequest());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.task.positivePrompt).toBe('a cat');
  });

  it('refuses a valid task of another type', () => {
    const result = validateTaskOf('imageInference', { taskType: 'ping', ping: true });
    expect(result).toEqual({
      ok: false,
      errors: [{ code: 'unknownTaskType', message: 'expected taskType imageInference; got ping', parameter: 'taskType', type: 'string' }],
    });
  });

  it('passes through the validation errors of an invalid task', () => {
    const result = validateTaskOf('imageInference', baseRequest({ width: 1 }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.code)).toEqual(['invalidWidth']);
  });
});
