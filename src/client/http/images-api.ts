// Typed calls for the OpenAI-style images API and the imagine endpoint over fetch alone (browser-safe);
// streams are async iterators of partial and completed image events.
import { bytesToBase64 } from '../../internal/bytes.js';
import type { ImageObject } from '../../protocol/index.js';
import { ApiError, AuthenticationError, ConnectionError, ImagewireError, ValidationError } from '../errors.js';
import type { ApiKeyProvider } from '../api-key.js';
import { resolveFetch } from './fetch.js';
import { ImageResult } from '../image-result.js';
import { readServerSentEvents } from './sse-parser.js';

/** The model ids of the images API (any other string is sent as is, and refused by the server). */
export type ImagesModelId =
  | 'absolute_reality'
  | 'anylora'
  | 'anylora_anime_mix'
  | 'dreamshaperv7'
  | 'dreamshaperv8'
  | 'neverending-dream'
  | 'realistic_vision_6'
  | 'segmind_vega_pix_detailed'
  | 'segmind_vega_pix_flat'
  | 'segmind_vega_fp16'
  | 'segmind_vega_rt'
  | 'sd_1.5'
  | 'sd_2.1'
  | 'sd_turbo_or'
  | 'waifu_diffusion'
  | '3D_animation';

/** Parameters of {@link ImagesClient.generateImages}; absent ones take the server's defaults. */
export interface GenerateImagesParams {
  /** What to draw, 2 to 1000 characters. */
  prompt: string;
  /** Prompt adherence, 0 to 30; the model's default when absent. */
  guidance_scale?: number;
  /** @default "dreamshaperv7" */
  model?: ImagesModelId | (string & {});
  /** Images, 1 to 10. @default 1 */
  n?: number;
  /** What to keep out of the picture, 2 to 2000 characters. */
  negative_prompt?: string;
  /** `b64_json` fills `b64_json` (a data URI) and `url`; `url` leaves `b64_json` null. @default "b64_json" */
  response_format?: 'url' | 'b64_json';
  /** An integer, as a number or a string of digits; random when absent. */
  seed?: number | string;
  /** @default "512x512" */
  size?: '256x256' | '512x512';
  /** Denoising steps, 1 to 100; the model's default when absent. */
  steps?: number;
  /** A look that overrides the model's: balanced, photographic, painterly, poster or neon. */
  style?: 'balanced' | 'photographic' | 'painterly' | 'poster' | 'neon';
  /** Partial images per image when streaming, 0 to 3. @default 3 */
  partial_images?: number;
}

/** Parameters of {@link ImagesClient.editImages}. */
export interface EditImagesParams extends GenerateImagesParams {
  /** The input image: encoded bytes, a Blob, or base64 / a data URI. */
  image: Uint8Array | Blob | string;
  /** 0 keeps the input image, 1 ignores it. @default 0.8 */
  strength?: number;
}

/** One generated image. */
export interface GeneratedImage {
  /** A data URI (`data:image/png;base64,...`); null when `response_format` was `url`. Decode with {@link decodeB64Json}. */
  b64_json: string | null;
  /** Where the server serves the image (for as long as it keeps it). */
  url: string;
}

/** The answer of generations and edits. */
export interface ImagesResponse {
  /** Unix seconds. */
  created: number;
  data: GeneratedImage[];
}

/** Fields every streamed image event has. */
interface StreamEventBase {
  /** A data URI of the image; decode with {@link decodeB64Json}. */
  b64_json: string;
  /** Unix seconds. */
  created_at: number;
  /** e.g. `512x512`. */
  size: string;
  quality: 'low' | 'medium' | 'high' | 'auto';
  background: 'transparent' | 'opaque' | 'auto';
  /** Partial images are JPEG, finals PNG. */
  output_format: 'png' | 'jpeg' | 'webp';
}

/** A partial image while an image forms. `partial_image_index` counts from 0 within each image. */
export interface PartialImageEvent extends StreamEventBase {
  type: 'image_generation.partial_image' | 'image_edit.partial_image';
  partial_image_index: number;
}

/** A finished image; the k-th completed event of a stream is image k. */
export interface CompletedImageEvent extends StreamEventBase {
  type: 'image_generation.completed' | 'image_edit.completed';
  /** Token counts; this server counts none, so all are 0. */
  usage: {
    input_tokens: number;
    input_tokens_details: { image_tokens: number; text_tokens: number };
    output_tokens: number;
    total_tokens: number;
  };
}

/** The server-sent events of a stream, in OpenAI's shapes. */
export type ImageStreamEvent = PartialImageEvent | CompletedImageEvent;

/**
 * A partial image of a stream, in the same shape as a WebSocket task's preview: `index` is the image
 * it belongs to, `image` its bytes (a JPEG), `event` the server-sent event as it came.
 */
export interface ImagesPreviewEvent {
  readonly type: 'preview';
  readonly index: number;
  /** Counts from 0 within each image. */
  readonly partialIndex: number;
  readonly image: ImageResult;
  readonly event: PartialImageEvent;
}

/** A finished image of a stream, in the same shape as a WebSocket task's final. */
export interface ImagesFinalEvent {
  readonly type: 'final';
  readonly index: number;
  readonly image: ImageResult;
  readonly event: CompletedImageEvent;
}

/** What {@link ImagesClient.streamImages} and {@link ImagesClient.streamEdits} yield. */
export type ImagesStreamEvent = ImagesPreviewEvent | ImagesFinalEvent;

/** Parameters of {@link ImagesClient.imagine}. */
export interface ImagineParams {
  /** A label for the image; not unique. */
  name: string;
  prompt: string;
  negative_prompt?: string;
  seed?: number;
}

export type { ImageObject };

/** One model of `GET /v1/models`. */
export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/** Per-call options. */
export interface ImagesRequestOptions {
  /** Aborts the request (and, for streams, the stream). */
  signal?: AbortSignal;
}

/** Options of {@link createImagesClient}. */
export interface ImagesClientOptions {
  /** The API key, or a function returning it (called for every request). */
  apiKey: ApiKeyProvider;
  /** The server, e.g. `http://127.0.0.1:8080` or `http://127.0.0.1:8080/v1`; a bare origin gets `/v1`. */
  baseUrl: string;
  /**
   * The fetch implementation.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
}

/**
 * The bytes of a `b64_json` value: a data URI (as this API sends it) or bare base64.
 * @throws ImagewireError `invalidResponse` when it is neither.
 */
export function decodeB64Json(value: string): Uint8Array {
  const comma = value.startsWith('data:') ? value.indexOf(',') : -1;
  const base64 = comma === -1 ? value : value.slice(comma + 1);
  let binary: string;
  try {
    binary = atob(base64);
  } catch (error) {
    throw new ImagewireError('invalidResponse', 'b64_json is neither a base64 data URI nor base64', { cause: error });
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A response's body parsed as JSON; undefined when it is not JSON. */
async function jsonBody(response: Response): Promise<{ value: unknown } | undefined> {
  const text = await response.text();
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** The API base: a bare origin gets `/v1`; no trailing slash. */
function apiBase(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/v1';
  return parsed.toString().replace(/\/+$/, '');
}

function invalid(parameter: string, message: string): ValidationError {
  return new ValidationError([{ code: 'invalid_value', message, parameter }]);
}

/** Checks that cost nothing to make here and save a round trip; the server checks everything. */
function checkImageParams(params: GenerateImagesParams): void {
  if (typeof params.prompt !== 'string' || params.prompt.trim() === '') throw invalid('prompt', 'prompt is required');
  if ([...params.prompt].length > 1000) throw invalid('prompt', 'prompt must be at most 1000 characters');
  if (params.n !== undefined && (!Number.isInteger(params.n) || params.n < 1 || params.n > 10)) throw invalid('n', `n must be an integer from 1 to 10; got ${params.n}`);
}

function checkId(id: string): void {
  if (typeof id !== 'string' || id.length === 0) throw invalid('id', 'an image id is required');
}

/** The OpenAI error body `{error:{message,type,param,code}}`, or undefined. */
function errorOf(body: unknown): { message: string; type: string | undefined; param: string | undefined; code: string | undefined } | undefined {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) return undefined;
  const fields = error as Record<string, unknown>;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return { message: text(fields.message) ?? 'the server refused the request', type: text(fields.type), param: text(fields.param), code: text(fields.code) };
}

/** The typed error for an error body and HTTP status. */
function errorFromBody(status: number, body: unknown): ImagewireError {
  const error = errorOf(body);
  if (error === undefined) return new ImagewireError('httpError', `the server answered HTTP ${status} without an error body the client can read`);
  const item = { code: error.code ?? error.type ?? `http${status}`, message: error.message, ...(error.param === undefined ? {} : { parameter: error.param }), ...(error.type === undefined ? {} : { type: error.type }) };
  return status === 401 ? new AuthenticationError(item) : new ApiError(item);
}

/** The calls of the images API and the imagine endpoint. Create it with {@link createImagesClient}. */
export class ImagesClient {
  readonly #apiKey: ApiKeyProvider;
  readonly #base: string;
  readonly #fetch: typeof fetch;

  constructor(options: ImagesClientOptions) {
    this.#apiKey = options.apiKey;
    this.#base = apiBase(options.baseUrl);
    this.#fetch = resolveFetch(options.fetch);
  }

  /** Generates images; resolves with every one of them. */
  async generateImages(params: GenerateImagesParams, options: ImagesRequestOptions = {}): Promise<ImagesResponse> {
    checkImageParams(params);
    return this.#json<ImagesResponse>('POST', '/images/generations', { ...params, stream: false }, options);
  }

  /** Makes images from an input image and a prompt; resolves with every one of them. */
  async editImages(params: EditImagesParams, options: ImagesRequestOptions = {}): Promise<ImagesResponse> {
    checkImageParams(params);
    return this.#json<ImagesResponse>('POST', '/images/edits', { ...params, image: await imageField(params.image), stream: false }, options);
  }

  /**
   * Generates images as a stream: partial images of image 0 as it forms, its completed event, then
   * image 1, and so on. Leaving the loop early closes the connection, which cancels the work.
   */
  streamImages(params: GenerateImagesParams, options: ImagesRequestOptions = {}): AsyncGenerator<ImagesStreamEvent, void, undefined> {
    return this.#stream(
      '/images/generations',
      () => {
        checkImageParams(params);
        return Promise.resolve({ ...params, stream: true });
      },
      options,
    );
  }

  /** {@link streamImages} for edits. */
  streamEdits(params: EditImagesParams, options: ImagesRequestOptions = {}): AsyncGenerator<ImagesStreamEvent, void, undefined> {
    return this.#stream(
      '/images/edits',
      async () => {
        checkImageParams(params);
        return { ...params, image: await imageField(params.image), stream: true };
      },
      options,
    );
  }

  /** Creates a 1024x1024 PNG with the imagine endpoint; its `url` is null until published. */
  async imagine(params: ImagineParams, options: ImagesRequestOptions = {}): Promise<ImageObject> {
    if (typeof params.name !== 'string' || params.name.trim() === '') throw invalid('name', 'name is required');
    if (typeof params.prompt !== 'string' || params.prompt.trim() === '') throw invalid('prompt', 'prompt is required');
    return this.#json<ImageObject>('POST', '/images/imagine', params, options);
  }

  /** Makes an imagined image public; resolves with its object, `url` filled. */
  async publishImage(id: string, options: ImagesRequestOptions = {}): Promise<ImageObject> {
    checkId(id);
    return this.#json<ImageObject>('POST', `/images/${encodeURIComponent(id)}/publish`, undefined, options);
  }

  /** An imagined image of this key. */
  async getImage(id: string, options: ImagesRequestOptions = {}): Promise<ImageObject> {
    checkId(id);
    return this.#json<ImageObject>('GET', `/images/${encodeURIComponent(id)}`, undefined, options);
  }

  /** The model ids `model` accepts. */
  async listModels(options: ImagesRequestOptions = {}): Promise<ModelObject[]> {
    return (await this.#json<{ object: 'list'; data: ModelObject[] }>('GET', '/models', undefined, options)).data;
  }

  async #send(method: 'GET' | 'POST', path: string, body: unknown, options: ImagesRequestOptions, accept: string): Promise<Response> {
    const apiKey = typeof this.#apiKey === 'function' ? await this.#apiKey() : this.#apiKey;
    const headers: Record<string, string> = { authorization: `Bearer ${apiKey}`, accept };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = `${this.#base}${path}`;
    try {
      return await this.#fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(options.signal === undefined ? {} : { signal: options.signal }) });
    } catch (error) {
      if (options.signal?.aborted === true) throw options.signal.reason;
      throw new ConnectionError('connectionFailed', `${method} ${url} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  async #json<T>(method: 'GET' | 'POST', path: string, body: unknown, options: ImagesRequestOptions): Promise<T> {
    const response = await this.#send(method, path, body, options, 'application/json');
    const parsed = await jsonBody(response);
    if (parsed === undefined) {
      throw new ImagewireError(response.ok ? 'invalidResponse' : 'httpError', `${method} ${path} answered HTTP ${response.status} with a body that is not JSON`);
    }
    if (!response.ok) throw errorFromBody(response.status, parsed.value);
    return parsed.value as T;
  }

  async *#stream(path: string, body: () => Promise<unknown>, options: ImagesRequestOptions): AsyncGenerator<ImagesStreamEvent, void, undefined> {
    const response = await this.#send('POST', path, await body(), options, 'text/event-stream');
    if (!response.ok) throw errorFromBody(response.status, (await jsonBody(response))?.value);
    if (response.body === null || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      throw new ImagewireError('invalidResponse', `POST ${path} did not answer with an event stream`);
    }
    let completed = 0;
    for await (const sse of readServerSentEvents(response.body)) {
      let data: unknown;
      try {
        data = JSON.parse(sse.data);
      } catch {
        throw new ImagewireError('invalidResponse', `an event of POST ${path} is not JSON`);
      }
      if (sse.event === 'error') throw errorFromBody(500, data);
      const event = data as ImageStreamEvent;
      // Images stream one after another, so the image a partial belongs to is the count of completed ones.
      const index = completed;
      // This server sends data URIs (as its seed shows); OpenAI's own API sends bare base64.
      const content = event.b64_json.startsWith('data:') ? { imageDataURI: event.b64_json } : { imageBase64Data: event.b64_json };
      const image = new ImageResult({ taskType: 'imageInference', taskUUID: '', imageUUID: '', index, ...content }, index);
      if (event.type.endsWith('.completed')) {
        completed++;
        yield { type: 'final', index, image, event: event as CompletedImageEvent };
      } else {
        yield { type: 'preview', index, partialIndex: (event as PartialImageEvent).partial_image_index, image, event: event as PartialImageEvent };
      }
    }
  }
}

/** An image parameter as the JSON body carries it: base64 (strings are sent as given). */
async function imageField(image: Uint8Array | Blob | string): Promise<string> {
  if (typeof image === 'string') return image;
  if (image instanceof Uint8Array) return bytesToBase64(image);
  return bytesToBase64(new Uint8Array(await image.arrayBuffer()));
}

/**
 * Creates a client for the images API and the imagine endpoint.
 * @example
 * const images = createImagesClient({ apiKey: 'my-key', baseUrl: 'http://127.0.0.1:8080' });
 * const { data } = await images.generateImages({ prompt: 'a red fox', model: 'waifu_diffusion' });
 * const png = decodeB64Json(data[0].b64_json ?? '');
 */
export function createImagesClient(options: ImagesClientOptions): ImagesClient {
  return new ImagesClient(options);
}
