// Shared fixtures for the protocol tests: a valid base request, image inputs in every form, and
// helpers that run validation and pick out error items. Expected rule texts in the tests are
// written from the seed documents, not read from src/protocol/validate/rules.ts.
import { expect } from 'vitest';
import { validateTask, type ProtocolErrorItem, type ValidationResult, type ClientTask } from '../../src/protocol/index.js';

export const TASK_UUID = '39d7207a-87ef-4c93-8082-1431f9c1dc97';
export const OTHER_TASK_UUID = 'a770f077-f413-47de-9dac-be0b26a35da6';
/** A UUID v1 (time based): well formed, but not a v4. */
export const UUID_V1 = 'f47ac10b-58cc-11cf-a447-00aa00bf778f';
export const IMAGE_UUID = 'b7db282d-2943-4f12-992f-77df3ad3ec71';
export const SESSION_UUID = 'f40c2aeb-f8a7-4af7-a1ab-7594c9bf778f';

/** The PNG signature and an IHDR start, as base64. */
export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk';
/** A JPEG start (FF D8 FF E0 ... JFIF), as base64. */
export const JPEG_BASE64 = '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDA==';
/** A WEBP start (RIFF....WEBPVP8), as base64. */
export const WEBP_BASE64 = 'UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAQAcJaQAA3AA/vuUAAA=';
/** A GIF start, as base64. */
export const GIF_BASE64 = 'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

export const PNG_DATA_URI = `data:image/png;base64,${PNG_BASE64}`;
export const JPEG_DATA_URI = `data:image/jpeg;base64,${JPEG_BASE64}`;
export const WEBP_DATA_URI = `data:image/webp;base64,${WEBP_BASE64}`;
export const GIF_DATA_URI = `data:image/gif;base64,${GIF_BASE64}`;
export const HTTPS_IMAGE_URL = 'https://example.com/images/seed.png';
export const HTTP_IMAGE_URL = 'http://images.example.org:8080/a/b.webp?x=1';

/** Every accepted form of an input image (seedImage, maskImage, guideImage). */
export const acceptedImageForms: ReadonlyArray<readonly [string, string]> = [
  ['an image UUID v4', IMAGE_UUID],
  ['an upper-case image UUID', IMAGE_UUID.toUpperCase()],
  ['a PNG data URI', PNG_DATA_URI],
  ['a JPEG data URI', JPEG_DATA_URI],
  ['a WEBP data URI', WEBP_DATA_URI],
  ['raw base64 (PNG)', PNG_BASE64],
  ['raw base64 (JPEG)', JPEG_BASE64],
  ['an https URL', HTTPS_IMAGE_URL],
  ['an http URL', HTTP_IMAGE_URL],
];

/** Refused forms, each with a piece of the reason the message must give. */
export const refusedImageForms: ReadonlyArray<readonly [string, string, string]> = [
  ['a GIF data URI', GIF_DATA_URI, 'a data URI must be data:image/png|jpeg|webp;base64,<data>'],
  ['a data URI without base64 data', 'data:image/png;base64,', 'the data URI does not hold base64 data'],
  ['a non-base64 data URI', 'data:image/png,rawbytes', 'a data URI must be data:image/png|jpeg|webp;base64,<data>'],
  ['a data URI with junk after the comma', 'data:image/jpeg;base64,<not base64!>', 'the data URI does not hold base64 data'],
  ['an ftp URL', 'ftp://example.com/seed.png', 'a URL must be http or https'],
  ['a file URL', 'file:///etc/passwd', 'a URL must be http or https'],
  ['short junk', 'abc', 'expected an image UUID, a data URI, base64 image data or an http(s) URL'],
  ['an empty string', '', 'expected an image UUID, a data URI, base64 image data or an http(s) URL'],
  ['text with spaces', 'this is not an image at all', 'expected an image UUID, a data URI, base64 image data or an http(s) URL'],
];

export type Task = Record<string, unknown>;

/** A minimal valid imageInference task, as in the protocol's example request. A fresh copy each call. */
export function baseRequest(overrides: Task = {}): Task {
  return {
    taskType: 'imageInference',
    taskUUID: TASK_UUID,
    positivePrompt: 'a cat',
    model: 'civitai:102438@133677',
    width: 512,
    height: 512,
    ...overrides,
  };
}

/** The base request without the named parameters. */
export function baseWithout(...keys: string[]): Task {
  const task = baseRequest();
  for (const key of keys) delete task[key];
  return task;
}

/** A full-featured valid request touching most parameters. */
export function richRequest(): Task {
  return baseRequest({
    negativePrompt: 'blurry, low quality',
    outputType: 'URL',
    outputFormat: 'WEBP',
    outputQuality: 80,
    uploadEndpoint: 'https://bucket.example.com/upload/img.webp',
    checkNSFW: true,
    includeCost: true,
    seedImage: IMAGE_UUID,
    maskImage: PNG_DATA_URI,
    maskMargin: 64,
    strength: 0.5,
    vae: 'runware:100@1',
    steps: 30,
    scheduler: 'DPM++ 2M Karras',
    seed: 42,
    CFGScale: 7.5,
    clipSkip: 1,
    promptWeighting: 'compel',
    numberResults: 4,
    refiner: { model: 'civitai:101055@128080', startStep: 25 },
    embeddings: [{ model: 'civitai:1044536@1172007', weight: 1.5 }],
    controlNet: [
      { model: 'civitai:38784@44716', guideImage: JPEG_DATA_URI, weight: 0.7, startStep: 1, endStep: 20, controlMode: 'balanced' },
      { model: 'runware:20@1', guideImage: HTTPS_IMAGE_URL, startStepPercentage: 0, endStepPercentage: 100 },
    ],
    lora: [
      { model: 'runware:13090@1', weight: 1.5 },
      { model: 'runware:6638@1', weight: -0.8 },
    ],
    ipAdapters: [{ model: 'runware:55@1', guideImage: WEBP_DATA_URI, weight: 0.6 }],
    deliveryMethod: 'sync',
    webhookURL: 'http://hooks.example.com/runware',
    ttl: 3600,
    previews: { maxSide: 256, format: 'WEBP' },
  });
}

/** Validates and returns the error items (an empty list when valid). */
export function errorsOf(raw: unknown): ProtocolErrorItem[] {
  const result = validateTask(raw);
  return result.ok ? [] : result.errors;
}

/** Validates a task that must be valid and returns it, showing the error items when it is not. */
export function validTask(raw: unknown): ClientTask {
  const result: ValidationResult<ClientTask> = validateTask(raw);
  if (!result.ok) return expect.fail(`expected a valid task, got errors: ${JSON.stringify(result.errors, null, 2)}`);
  return result.task;
}

/** Asserts the task validates, showing the error items when it does not. */
export function expectValid(raw: unknown): void {
  validTask(raw);
}

export interface ExpectedError {
  code: string;
  parameter?: string;
  /** Default 'imageInference'; pass null when the item must carry no taskType. */
  taskType?: string | null;
  /** Default TASK_UUID; pass null when the item must carry no taskUUID. */
  taskUUID?: string | null;
  /** Pieces the message must contain: the rule and the value received. */
  message?: readonly string[];
  /** The JSON type the parameter should have. */
  type?: string;
}

function checkItem(item: ProtocolErrorItem, expected: ExpectedError): void {
  expect(item.code).toBe(expected.code);
  if (expected.parameter !== undefined) expect(item.parameter).toBe(expected.parameter);
  const taskType = expected.taskType === undefined ? 'imageInference' : expected.taskType;
  if (taskType === null) expect(item).not.toHaveProperty('taskType');
  else expect(item.taskType).toBe(taskType);
  const taskUUID = expected.taskUUID === undefined ? TASK_UUID : expected.taskUUID;
  if (taskUUID === null) expect(item).not.toHaveProperty('taskUUID');
  else expect(item.taskUUID).toBe(taskUUID);
  if (expected.type !== undefined) expect(item.type).toBe(expected.type);
  expect(typeof item.message).toBe('string');
  for (const piece of expected.message ?? []) expect(item.message).toContain(piece);
}

/** Asserts the task fails with exactly one error item, matching `expected`. Returns it. */
export function expectOnlyError(raw: unknown, expected: ExpectedError): ProtocolErrorItem {
  const errors = errorsOf(raw);
  if (errors.length !== 1) expect.fail(`expected exactly one ${expected.code} error, got ${JSON.stringify(errors, null, 2)}`);
  const item = errors[0] as ProtocolErrorItem;
  checkItem(item, expected);
  return item;
}

/** Asserts one of the task's error items matches `expected` (other errors may be present). Returns it. */
export function expectSomeError(raw: unknown, expected: ExpectedError): ProtocolErrorItem {
  const errors = errorsOf(raw);
  const item = errors.find((error) => error.code === expected.code && (expected.parameter === undefined || error.parameter === expected.parameter));
  if (item === undefined) expect.fail(`expected a ${expected.code} error on ${expected.parameter ?? '?'}, got ${JSON.stringify(errors, null, 2)}`);
  checkItem(item, expected);
  return item;
}

/** A string of `count` code points, each `unit` (which may be an astral character). */
export function codePoints(unit: string, count: number): string {
  return unit.repeat(count);
}
