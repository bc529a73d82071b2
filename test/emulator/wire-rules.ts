// The base protocol's rules: what a client frame must be, which fields each task type may carry
// (the documented ones only; see UnknownFieldMode) and the ranges of the documented imageInference
// parameters. Pure: a frame or a task in, a checked task or one error item out.
import { validate as isUuid, version as uuidVersion } from 'uuid';
import { codes, paramCode, taskError, type ErrorItem } from './error-items.js';
import type { UnknownFieldMode } from './options.js';

/** Output formats with their file extension and media type. */
export const outputFormats = {
  JPG: { ext: 'jpg', mime: 'image/jpeg' },
  PNG: { ext: 'png', mime: 'image/png' },
  WEBP: { ext: 'webp', mime: 'image/webp' },
} as const;
export type OutputFormat = keyof typeof outputFormats;
export type OutputType = 'URL' | 'base64Data' | 'dataURI';

/** What an imageInference task asks for, as far as the emulator's answer depends on it. */
export interface InferenceRequest {
  readonly numberResults: number;
  readonly outputType: OutputType;
  readonly outputFormat: OutputFormat;
  /** The first image's seed; undefined = random. */
  readonly seed: number | undefined;
  readonly includeCost: boolean;
  readonly checkNSFW: boolean;
  readonly deliveryMethod: 'sync' | 'async';
}

/** A task that passed the rules. */
export type CheckedTask =
  | { readonly taskType: 'authentication'; readonly apiKey: string; readonly connectionSessionUUID: string | undefined }
  | { readonly taskType: 'ping' }
  | { readonly taskType: 'imageInference'; readonly taskUUID: string; readonly request: InferenceRequest }
  | { readonly taskType: 'getResponse'; readonly taskUUID: string }
  | { readonly taskType: 'imageUpload'; readonly taskUUID: string; readonly image: string };

export type TaskCheck = { readonly ok: true; readonly task: CheckedTask } | { readonly ok: false; readonly error: ErrorItem };
export type FrameCheck = { readonly ok: true; readonly tasks: readonly unknown[] } | { readonly ok: false; readonly error: ErrorItem };

/** What the checks need besides the task. */
export interface RuleContext {
  readonly unknownFields: UnknownFieldMode;
  /** Known model AIRs, or undefined for any well-formed AIR. */
  readonly models: ReadonlySet<string> | undefined;
}

type Json = Readonly<Record<string, unknown>>;
type Ident = { readonly taskType: string; readonly taskUUID?: string | undefined };

/** `source:id@version`, e.g. `runware:101@1`, `civitai:102438@133677`. */
const AIR = /^[A-Za-z0-9_-]+:[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$/;
const DATA_URI = /^data:image\/(png|jpe?g|webp|gif|bmp);base64,[A-Za-z0-9+/]+={0,2}$/;
const RAW_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** The docs print 9223372036854776000: 2^63 as a double. */
const SEED_MAX = 2 ** 63;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isUuidV4(value: unknown): boolean {
  return typeof value === 'string' && isUuid(value) && uuidVersion(value) === 4;
}

/** Decodes and shapes a client frame: a non-empty JSON array of task objects (checked one by one later). */
export function checkFrame(text: string | undefined): FrameCheck {
  if (text === undefined) return { ok: false, error: taskError(codes.invalidRequest, 'Binary frames are not supported: send a JSON array of task objects as a text frame.', {}) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: taskError(codes.invalidJSON, 'The message is not valid JSON.', {}) };
  }
  if (!Array.isArray(value) || value.length === 0) {
    return { ok: false, error: taskError(codes.invalidRequest, 'The message must be a non-empty JSON array of task objects.', {}) };
  }
  return { ok: true, tasks: value };
}

const authFields = new Set(['taskType', 'apiKey', 'connectionSessionUUID']);
const pingFields = new Set(['taskType', 'ping']);
const getResponseFields = new Set(['taskType', 'taskUUID']);
const uploadFields = new Set(['taskType', 'taskUUID', 'image']);

/** Checks one task of a frame. */
export function checkTask(raw: unknown, context: RuleContext): TaskCheck {
  if (!isObject(raw)) return fail(taskError(codes.invalidRequest, 'Every element of the message must be a task object.', {}));
  const taskType = raw.taskType;
  const rawUUID = typeof raw.taskUUID === 'string' ? raw.taskUUID : undefined;
  if (taskType === undefined) return fail(taskError(codes.missingTaskType, 'Missing taskType parameter.', { taskUUID: rawUUID }, { parameter: 'taskType', type: 'string' }));
  if (typeof taskType !== 'string') return fail(taskError(paramCode('invalid', 'taskType'), 'Invalid value for taskType parameter: it must be a string.', { taskUUID: rawUUID }, { parameter: 'taskType', type: 'string' }));
  switch (taskType) {
    case 'authentication':
      return checkAuthentication(raw, context);
    case 'ping':
      return checkPing(raw, context);
    case 'imageInference':
      return withTaskUUID(raw, taskType, (ident) => checkImageInference(raw, ident, context));
    case 'getResponse':
      return withTaskUUID(raw, taskType, (ident) => unknownField(raw, getResponseFields, ident, context) ?? ok({ taskType, taskUUID: ident.taskUUID }));
    case 'imageUpload':
      return withTaskUUID(raw, taskType, (ident) => checkImageUpload(raw, ident, context));
    default:
      return fail(taskError(codes.unsupportedTaskType, `Unsupported taskType '${taskType.slice(0, 64)}'.`, { taskType, taskUUID: rawUUID }, { parameter: 'taskType', type: 'string' }));
  }
}

function ok(task: CheckedTask): TaskCheck {
  return { ok: true, task };
}

function fail(error: ErrorItem): TaskCheck {
  return { ok: false, error };
}

function withTaskUUID(raw: Json, taskType: string, next: (ident: { taskType: string; taskUUID: string }) => TaskCheck): TaskCheck {
  const taskUUID = raw.taskUUID;
  if (taskUUID === undefined) return fail(taskError(paramCode('missing', 'taskUUID'), 'Missing taskUUID parameter: every task needs a UUID v4.', { taskType }, { parameter: 'taskUUID', type: 'string' }));
  if (typeof taskUUID !== 'string' || !isUuidV4(taskUUID)) {
    return fail(taskError(paramCode('invalid', 'taskUUID'), 'Invalid value for taskUUID parameter: it must be a UUID v4 string.', { taskType, taskUUID: typeof taskUUID === 'string' ? taskUUID : undefined }, { parameter: 'taskUUID', type: 'string' }));
  }
  return next({ taskType, taskUUID });
}

/** The first field of `raw` outside `allowed`, answered per the unknown-field mode; undefined when none (or ignored). */
function unknownField(raw: Json, allowed: ReadonlySet<string>, ident: Ident, context: RuleContext, prefix = ''): TaskCheck | undefined {
  if (context.unknownFields === 'ignore') return undefined;
  const name = Object.keys(raw).find((key) => !allowed.has(key));
  if (name === undefined) return undefined;
  return fail(unknownFieldError(`${prefix}${name}`, ident, context.unknownFields));
}

function unknownFieldError(parameter: string, ident: Ident, mode: Exclude<UnknownFieldMode, 'ignore'>): ErrorItem {
  if (mode === 'rejectNamed') return taskError(codes.unknownParameter, `Unknown parameter '${parameter.slice(0, 128)}'.`, ident, { parameter });
  return taskError(codes.unsupportedParameter, 'The request contains unsupported parameters.', ident);
}

function checkAuthentication(raw: Json, context: RuleContext): TaskCheck {
  const ident = { taskType: 'authentication' };
  const unknown = unknownField(raw, authFields, ident, context);
  if (unknown !== undefined) return unknown;
  const apiKey = raw.apiKey;
  if (apiKey === undefined) return fail(taskError(codes.missingApiKey, 'Missing apiKey parameter.', ident, { parameter: 'apiKey', type: 'string' }));
  if (typeof apiKey !== 'string' || apiKey.length === 0) {
    return fail(taskError(codes.invalidApiKey, 'Invalid API key. Get one at https://my.runware.ai/signup', ident, { parameter: 'apiKey', type: 'string' }));
  }
  const session = raw.connectionSessionUUID;
  if (session !== undefined && typeof session !== 'string') {
    return fail(taskError(paramCode('invalid', 'connectionSessionUUID'), 'Invalid value for connectionSessionUUID parameter: it must be a string.', ident, { parameter: 'connectionSessionUUID', type: 'string' }));
  }
  return ok({ taskType: 'authentication', apiKey, connectionSessionUUID: session });
}

function checkPing(raw: Json, context: RuleContext): TaskCheck {
  const ident = { taskType: 'ping' };
  const unknown = unknownField(raw, pingFields, ident, context);
  if (unknown !== undefined) return unknown;
  if (raw.ping !== true) return fail(taskError(paramCode('invalid', 'ping'), 'Invalid value for ping parameter: it must be true.', ident, { parameter: 'ping', type: 'boolean' }));
  return ok({ taskType: 'ping' });
}

/** True for the documented image input forms: a UUID v4, a data URI, raw base64 or an http(s) URL. */
export function isImageRef(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0) return false;
  if (isUuidV4(value) || DATA_URI.test(value)) return true;
  if (/^https?:\/\//i.test(value)) return URL.canParse(value);
  return value.length % 4 === 0 && RAW_BASE64.test(value);
}

function checkImageUpload(raw: Json, ident: { taskType: string; taskUUID: string }, context: RuleContext): TaskCheck {
  const unknown = unknownField(raw, uploadFields, ident, context);
  if (unknown !== undefined) return unknown;
  const image = raw.image;
  if (image === undefined) return fail(taskError(paramCode('missing', 'image'), 'Missing image parameter.', ident, { parameter: 'image', type: 'string' }));
  if (!isImageRef(image) || isUuidV4(image)) {
    return fail(taskError(paramCode('invalid', 'image'), 'Invalid value for image parameter: use a data URI, a base64 string or a public URL.', ident, { parameter: 'image', type: 'string' }));
  }
  return ok({ taskType: 'imageUpload', taskUUID: ident.taskUUID, image });
}

// ---- imageInference ----

/** One field's rule: returns a problem description, or undefined when the value is fine. */
type Rule = (value: unknown, path: string, ctx: RuleContext) => Problem | undefined;
interface Problem {
  readonly message: string;
  readonly type: string;
  readonly min?: number;
  readonly max?: number;
  /** The path of the faulty field when it is deeper than the rule's own. */
  readonly path?: string;
  /** An unknown nested field (answered per the unknown-field mode). */
  readonly unknown?: true;
}

const str = (minLength: number, maxLength: number): Rule => (value) =>
  typeof value === 'string' && value.length >= minLength && value.length <= maxLength ? undefined : { message: `it must be a string of ${minLength} to ${maxLength} characters`, type: 'string', min: minLength, max: maxLength };
const int = (min: number, max: number, multipleOf = 1): Rule => (value) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max && value % multipleOf === 0
    ? undefined
    : { message: `it must be an integer from ${min} to ${max}${multipleOf > 1 ? `, divisible by ${multipleOf}` : ''}`, type: 'integer', min, max };
const num = (min: number, max: number): Rule => (value) =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? undefined : { message: `it must be a number from ${min} to ${max}`, type: 'float', min, max };
const bool: Rule = (value) => (typeof value === 'boolean' ? undefined : { message: 'it must be a boolean', type: 'boolean' });
const oneOf = (...values: readonly string[]): Rule => (value) =>
  typeof value === 'string' && values.includes(value) ? undefined : { message: `it must be one of ${values.join(', ')}`, type: 'string' };
const httpUrl: Rule = (value) =>
  typeof value === 'string' && /^https?:\/\//i.test(value) && URL.canParse(value) ? undefined : { message: 'it must be an http(s) URL', type: 'string' };
const imageRef: Rule = (value) => (isImageRef(value) ? undefined : { message: 'use an image UUID, a data URI, a base64 string or a public URL', type: 'string' });
const air: Rule = (value, _path, ctx) => {
  if (typeof value !== 'string' || !AIR.test(value)) return { message: 'it must be an AIR identifier like runware:101@1', type: 'string' };
  if (ctx.models !== undefined && !ctx.models.has(value)) return { message: `the model ${value.slice(0, 128)} does not exist`, type: 'string' };
  return undefined;
};
const anyObject: Rule = (value) => (isObject(value) ? undefined : { message: 'it must be an object', type: 'object' });
const anyArray: Rule = (value) => (Array.isArray(value) ? undefined : { message: 'it must be an array', type: 'array' });
const anyValue: Rule = (value) => (value === null ? { message: 'it must not be null', type: 'any' } : undefined);
const outputFormat: Rule = (value) =>
  typeof value === 'string' && value.toUpperCase() in outputFormats ? undefined : { message: 'it must be one of JPG, PNG, WEBP', type: 'string' };

/** An object with documented fields: `required` must be present, every field obeys its rule, other fields are unknown. */
function shape(fields: Readonly<Record<string, Rule>>, required: readonly string[] = []): Rule {
  return (value, path, ctx) => {
    if (!isObject(value)) return { message: 'it must be an object', type: 'object' };
    if (ctx.unknownFields !== 'ignore') {
      const name = Object.keys(value).find((key) => !(key in fields));
      if (name !== undefined) return { message: 'unknown parameter', type: 'any', path: `${path}.${name}`, unknown: true };
    }
    for (const name of required) {
      if (value[name] === undefined) return { message: `${path}.${name} is required`, type: 'object', path: `${path}.${name}` };
    }
    for (const [name, rule] of Object.entries(fields)) {
      const field = value[name];
      if (field === undefined) continue;
      const problem = rule(field, `${path}.${name}`, ctx);
      if (problem !== undefined) return { ...problem, path: problem.path ?? `${path}.${name}` };
    }
    return undefined;
  };
}

/** An array (at least one element) of `element`. */
function listOf(element: Rule): Rule {
  return (value, path, ctx) => {
    if (!Array.isArray(value) || value.length === 0) return { message: 'it must be a non-empty array', type: 'array' };
    for (const [index, item] of value.entries()) {
      const problem = element(item, `${path}[${index}]`, ctx);
      if (problem !== undefined) return { ...problem, path: problem.path ?? `${path}[${index}]` };
    }
    return undefined;
  };
}

const multipleOf64 = int(0, 2048, 64);
const weight4 = num(-4, 4);
const modelWeight = shape({ model: air, weight: weight4 }, ['model']);

/** The documented imageInference fields and their rules (newer seed; older names kept where the SDKs still send them). */
const inferenceRules: Readonly<Record<string, Rule>> = {
  taskType: anyValue,
  taskUUID: anyValue,
  positivePrompt: str(2, 3000),
  negativePrompt: str(2, 2000),
  model: air,
  width: int(128, 2048, 64),
  height: int(128, 2048, 64),
  numberResults: int(1, 20),
  steps: int(1, 100),
  CFGScale: num(0, 30),
  seed: int(1, SEED_MAX),
  scheduler: str(1, 256),
  clipSkip: int(0, 2),
  promptWeighting: oneOf('compel', 'sdEmbeds'),
  usePromptWeighting: bool,
  outputType: oneOf('URL', 'base64Data', 'dataURI'),
  outputFormat,
  outputQuality: int(20, 99),
  uploadEndpoint: httpUrl,
  webhookURL: httpUrl,
  checkNSFW: bool,
  includeCost: bool,
  deliveryMethod: oneOf('sync', 'async'),
  ttl: int(60, 2_592_000),
  seedImage: imageRef,
  maskImage: imageRef,
  maskMargin: int(32, 128),
  strength: num(0, 1),
  outpaint: shape({ top: multipleOf64, right: multipleOf64, bottom: multipleOf64, left: multipleOf64, blur: int(0, 32) }),
  vae: air,
  refiner: shape({ model: air, startStep: int(2, 100), startStepPercentage: int(1, 99) }, ['model']),
  embeddings: listOf(modelWeight),
  lora: listOf(modelWeight),
  controlNet: listOf(
    shape(
      {
        model: str(1, 256),
        guideImage: imageRef,
        weight: num(0, 1),
        startStep: int(1, 100),
        startStepPercentage: int(0, 99),
        endStep: int(2, 100),
        endStepPercentage: int(1, 100),
        controlMode: oneOf('prompt', 'controlnet', 'balanced'),
      },
      ['model', 'guideImage'],
    ),
  ),
  ipAdapters: listOf(shape({ model: air, guideImage: imageRef, weight: num(0, 1) }, ['model', 'guideImage'])),
  // Documented for some models or by the SDKs' request types; accepted with a type check only.
  safety: anyObject,
  acceleratorOptions: anyObject,
  acceleration: anyValue,
  advancedFeatures: anyObject,
  referenceImages: anyArray,
  providerSettings: anyObject,
  inputs: anyObject,
  settings: anyObject,
  puLID: anyObject,
  acePlusPlus: anyObject,
  instantID: anyObject,
  photoMaker: anyObject,
  ultralytics: anyObject,
  lycoris: anyArray,
  useCache: bool,
  resolution: anyValue,
  upscaleFactor: anyValue,
  watermark: anyValue,
};
const inferenceRequired = ['positivePrompt', 'model', 'width', 'height'] as const;
/** Every field an imageInference task may carry. */
export const inferenceFields: ReadonlySet<string> = new Set(Object.keys(inferenceRules));

function checkImageInference(raw: Json, ident: { taskType: string; taskUUID: string }, context: RuleContext): TaskCheck {
  const unknown = unknownField(raw, inferenceFields, ident, context);
  if (unknown !== undefined) return unknown;
  for (const name of inferenceRequired) {
    if (raw[name] === undefined) return fail(taskError(paramCode('missing', name), `Missing ${name} parameter.`, ident, { parameter: name }));
  }
  for (const [name, rule] of Object.entries(inferenceRules)) {
    const value = raw[name];
    if (value === undefined) continue;
    const problem = rule(value, name, context);
    if (problem === undefined) continue;
    const parameter = problem.path ?? name;
    if (problem.unknown === true) {
      if (context.unknownFields !== 'ignore') return fail(unknownFieldError(parameter, ident, context.unknownFields));
      continue;
    }
    return fail(
      taskError(paramCode('invalid', name), `Invalid value for ${parameter} parameter: ${problem.message}.`, ident, {
        parameter,
        type: problem.type,
        ...(problem.min === undefined ? {} : { min: problem.min }),
        ...(problem.max === undefined ? {} : { max: problem.max }),
      }),
    );
  }
  return ok({
    taskType: 'imageInference',
    taskUUID: ident.taskUUID,
    request: {
      numberResults: typeof raw.numberResults === 'number' ? raw.numberResults : 1,
      outputType: (raw.outputType as OutputType | undefined) ?? 'URL',
      outputFormat: (typeof raw.outputFormat === 'string' ? raw.outputFormat.toUpperCase() : 'JPG') as OutputFormat,
      seed: typeof raw.seed === 'number' ? raw.seed : undefined,
      includeCost: raw.includeCost === true,
      checkNSFW: raw.checkNSFW === true,
      deliveryMethod: raw.deliveryMethod === 'async' ? 'async' : 'sync',
    },
  });
}
