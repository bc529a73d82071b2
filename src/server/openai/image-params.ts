// The parameter rules of POST /v1/images/generations and /v1/images/edits: types, ranges, defaults,
// form fields coerced from text. Every rule failure is a 400 naming its parameter.
import { sniffImageFormat } from '../../internal/bytes.js';
import { invalidParam } from './errors.js';
import { defaultModelId, findPreset, lookModels, MAX_SEED_OFFSET, modelPresets, presetLooks, type ModelPreset, type PresetLook } from './model-presets.js';
import { describeValue, ParamReader } from './param-reader.js';
import { isUploadedFile, type ParsedBody } from './request-body.js';

/** Which endpoint a request is for. */
export type ImageOperation = 'generation' | 'edit';

/** The sizes the API offers. */
export const imageSizes = ['256x256', '512x512'] as const;

/** Bounds of the parameters, in one place for validation and docs. */
export const imageParamLimits = {
  /** Characters; the engine needs at least 2. */
  prompt: { min: 2, max: 1000 },
  negativePrompt: { min: 2, max: 2000 },
  n: { min: 1, max: 10, default: 1 },
  steps: { min: 1, max: 100 },
  guidance: { min: 0, max: 30 },
  strength: { min: 0, max: 1, default: 0.8 },
  /** Seeds stay exact: with the model's offset added they are still below 2^53. */
  seed: { min: 1, max: Number.MAX_SAFE_INTEGER - MAX_SEED_OFFSET },
  /** Partial images per image when streaming (OpenAI's range). */
  partialImages: { min: 0, max: 3, default: 3 },
} as const;

/** A validated request, defaults filled in. */
export interface ImageRequest {
  readonly operation: ImageOperation;
  readonly prompt: string;
  readonly negativePrompt: string | undefined;
  readonly preset: ModelPreset;
  /** The look rendered: `style` when given, else the preset's. */
  readonly look: PresetLook;
  /** The engine model id that renders `look`. */
  readonly air: string;
  readonly n: number;
  readonly responseFormat: 'url' | 'b64_json';
  /** Undefined: a random seed. */
  readonly seed: number | undefined;
  readonly size: (typeof imageSizes)[number];
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidance: number;
  readonly stream: boolean;
  readonly partialImages: number;
  /** Edits: the input image, encoded bytes (PNG, JPG or WEBP). */
  readonly image: Uint8Array | undefined;
  /** Edits: 0 keeps the input image, 1 ignores it. */
  readonly strength: number;
}

const common = ['prompt', 'guidance_scale', 'model', 'n', 'negative_prompt', 'response_format', 'seed', 'size', 'steps', 'stream', 'style', 'partial_images', 'user'];
const allowed: Readonly<Record<ImageOperation, ReadonlySet<string>>> = {
  generation: new Set(common),
  edit: new Set([...common, 'image', 'image[]', 'strength']),
};

/** Strips a data URI's header, checks the base64 alphabet, decodes. */
export function decodeBase64Image(text: string, param: string, maxBytes: number): Uint8Array {
  const match = /^data:([^;,]*)(;[^,]*)?,/i.exec(text);
  if (match !== null && !/;base64$/i.test(match[2] ?? '')) throw invalidParam(param, `'${param}' as a data URI must be base64-encoded`, 'invalid_image');
  const base64 = (match === null ? text : text.slice(match[0].length)).replace(/\s+/g, '');
  if (base64.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(base64)) throw invalidParam(param, `'${param}' must be a base64-encoded image or a data URI`, 'invalid_image');
  if (Math.floor((base64.length * 3) / 4) > maxBytes) throw invalidParam(param, `'${param}' must be at most ${maxBytes} bytes`, 'image_too_large');
  return Buffer.from(base64, 'base64');
}

function readImage(reader: ParamReader, maxBytes: number): Uint8Array {
  // openai-node sends an array of files as repeated `image[]` parts.
  const direct = reader.raw('image');
  const listed = reader.raw('image[]');
  if (direct !== undefined && listed !== undefined) throw invalidParam('image', "give either 'image' or 'image[]', not both");
  const given = direct ?? listed;
  if (given === undefined) throw invalidParam('image', "'image' is required", 'missing_required_parameter');
  if (Array.isArray(given)) throw invalidParam('image', 'this API edits one image per request; got several');
  let bytes: Uint8Array;
  if (isUploadedFile(given)) {
    if (given.bytes.byteLength > maxBytes) throw invalidParam('image', `'image' must be at most ${maxBytes} bytes`, 'image_too_large');
    bytes = given.bytes;
  } else if (typeof given === 'string') {
    bytes = decodeBase64Image(given, 'image', maxBytes);
  } else {
    throw invalidParam('image', `'image' must be a base64-encoded image, a data URI or a file; got ${describeValue(given)}`, 'invalid_type');
  }
  if (sniffImageFormat(bytes) === undefined) throw invalidParam('image', "'image' must be a PNG, JPEG or WEBP image", 'invalid_image');
  return bytes;
}

/** What the request's transport says, beside its body. */
export interface RequestContext {
  /** Bounds the input image of an edit, decoded bytes. */
  readonly maxImageBytes: number;
  /** False when the `Accept` header rules out `text/event-stream` (e.g. only `application/json`). */
  readonly acceptsEventStream: boolean;
}

/** True unless `accept` lists media types and none of them covers `text/event-stream`. */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const type = part.split(';')[0]?.trim().toLowerCase();
    return type === 'text/event-stream' || type === 'text/*' || type === '*/*';
  });
}

/**
 * Validates a generations or edits body and fills in defaults. Throws OpenAiError (400) at the
 * first problem.
 */
export function parseImageRequest(body: ParsedBody, operation: ImageOperation, context: RequestContext): ImageRequest {
  const reader = new ParamReader(body);
  reader.onlyKnown(allowed[operation]);
  const prompt = reader.text('prompt', imageParamLimits.prompt, true) ?? '';
  const modelId = reader.string('model') ?? defaultModelId;
  const preset = findPreset(modelId);
  if (preset === undefined) {
    throw invalidParam('model', `model '${modelId}' does not exist; the models are ${modelPresets.map((p) => p.id).join(', ')}`, 'model_not_found');
  }
  const style = reader.oneOf('style', presetLooks);
  const look = style ?? preset.look;
  const size = reader.oneOf('size', imageSizes) ?? '512x512';
  const side = size === '256x256' ? 256 : 512;
  const image = operation === 'edit' ? readImage(reader, context.maxImageBytes) : undefined;
  const request: ImageRequest = {
    operation,
    prompt,
    negativePrompt: reader.text('negative_prompt', imageParamLimits.negativePrompt, false),
    preset,
    look,
    air: lookModels[look],
    n: reader.number('n', imageParamLimits.n, true) ?? imageParamLimits.n.default,
    responseFormat: reader.oneOf('response_format', ['url', 'b64_json'] as const) ?? 'b64_json',
    seed: reader.seed('seed', imageParamLimits.seed),
    size,
    width: side,
    height: side,
    steps: reader.number('steps', imageParamLimits.steps, true) ?? preset.steps,
    guidance: reader.number('guidance_scale', imageParamLimits.guidance, false) ?? preset.guidance,
    // The API documents streaming as off for generations and on for edits. A client that accepts
    // only JSON (openai-node's non-streaming calls send `Accept: application/json` and no `stream`)
    // gets JSON: the default never hands it a body it did not ask for.
    stream: reader.boolean('stream') ?? (operation === 'edit' && context.acceptsEventStream),
    partialImages: reader.number('partial_images', imageParamLimits.partialImages, true) ?? imageParamLimits.partialImages.default,
    image,
    strength: operation === 'edit' ? (reader.number('strength', imageParamLimits.strength, false) ?? imageParamLimits.strength.default) : 1,
  };
  // Accepted for OpenAI compatibility (an end-user id for abuse tracking); only its type is checked.
  reader.string('user');
  return request;
}
