// POST /v1/images/generations and /v1/images/edits: one task on the engine, answered as
// `{created, data:[{b64_json, url}]}` or as server-sent events in OpenAI's streaming image shapes.
import type { Caller } from '../auth/auth.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dataUri, imageMediaType, inlineImage } from '../../internal/bytes.js';
import { previewSteps } from '../../protocol/index.js';
import { extensionOf } from '../images/store.js';
import { abandonment, runImageJob, type ImageJob, type JobFinal, type JobPreview } from '../core/image-job.js';
import { sendJson } from '../http/json-response.js';
import type { ServerLimits } from '../limits.js';
import { fromProtocolError } from './errors.js';
import { acceptsEventStream, parseImageRequest, type ImageOperation, type ImageRequest } from './image-params.js';
import { seedOffset } from './model-presets.js';
import { readRequestBody } from './request-body.js';
import { SseWriter } from './sse.js';
import type { TaskCore } from '../core/task-core.js';
import type { Clock } from '../../internal/clock.js';

/**
 * Options of the OpenAI-style images API (`createServer({ openai })`).
 */
export interface OpenAiImagesOptions {
  /**
   * What `b64_json` holds. `'data-uri'` (`data:image/png;base64,...`) is what the hosted API this
   * face follows documents; OpenAI's own API, and so its clients and the usual
   * `Buffer.from(b64_json, 'base64')` recipe, expect bare base64: `'base64'` sends that, in the
   * JSON answer and in streamed events alike. @default 'data-uri'
   */
  b64Json?: B64JsonForm;
}

/** The two forms of `b64_json`. */
export type B64JsonForm = 'data-uri' | 'base64';

/** What the images face needs from the server. */
export interface OpenAiImagesDeps {
  /** The form of every `b64_json` this face sends. */
  readonly b64Json: B64JsonForm;
  readonly router: TaskCore;
  readonly limits: ServerLimits;
  /** Base of image URLs, read at use. */
  publicUrl(): string;
  /** Stamps `created` (seconds since the epoch). */
  readonly clock: Clock;
}

/** One entry of `data` in the answer, keys in the documented order. */
export interface ImageDataEntry {
  /** A data URI, `data:image/png;base64,...`, as the API documents it (bare base64 with `b64Json: 'base64'`); null with `response_format: "url"`. */
  b64_json: string | null;
  url: string;
}

/** Token usage in the completed events: this engine counts no tokens, so every count is 0. */
const noUsage = Object.freeze({ input_tokens: 0, input_tokens_details: Object.freeze({ image_tokens: 0, text_tokens: 0 }), output_tokens: 0, total_tokens: 0 });

const eventPrefix: Readonly<Record<ImageOperation, string>> = { generation: 'image_generation', edit: 'image_edit' };

/** A final image as `b64_json` holds it: a data URI, or bare base64. */
function finalB64Json(final: JobFinal, form: B64JsonForm): string {
  return inlineImage(final.image, imageMediaType(final.format), form === 'base64' ? 'base64' : 'dataURI');
}

/** The fields every streamed event of a request shares. */
function eventFields(request: ImageRequest): { size: string; quality: 'auto'; background: 'opaque' } {
  return { size: request.size, quality: 'auto', background: 'opaque' };
}

/** Answers one generations or edits request; every failure becomes an OpenAI-shaped error. */
export async function handleImageRequest(req: IncomingMessage, res: ServerResponse, caller: Caller, operation: ImageOperation, deps: OpenAiImagesDeps): Promise<void> {
  // Edits take the image as a file part, as openai-node sends it; generations take JSON only.
  const body = await readRequestBody(req, deps.limits, operation === 'edit' ? ['application/json', 'multipart/form-data'] : ['application/json']);
  const request = parseImageRequest(body, operation, { maxImageBytes: deps.limits.maxUploadBytes, acceptsEventStream: acceptsEventStream(req.headers.accept) });
  const created = Math.floor(deps.clock.now() / 1000);
  // The client leaving (a closed connection before the answer ended) cancels the task.
  const gone = abandonment(res);
  if (request.stream) await streamImages(res, caller, request, deps, gone);
  else await answerImages(res, caller, request, created, deps, gone);
}

/** The job a request asks for; `previews` only when partial images are streamed. */
function jobOf(request: ImageRequest, caller: Caller, previews: ImageJob['previews']): ImageJob {
  return {
    owner: caller.owner,
    grant: caller.grant,
    model: request.air,
    prompt: request.prompt,
    negativePrompt: request.negativePrompt,
    width: request.width,
    height: request.height,
    steps: request.steps,
    guidance: request.guidance,
    seed: request.seed === undefined ? undefined : request.seed + seedOffset(request.preset.id),
    count: request.n,
    image: request.image === undefined ? undefined : { bytes: request.image, strength: request.strength },
    previews,
  };
}

/** The JSON answer: every final, in index order, once all are done. */
async function answerImages(res: ServerResponse, caller: Caller, request: ImageRequest, created: number, deps: OpenAiImagesDeps, gone: AbortSignal): Promise<void> {
  const finals: JobFinal[] = [];
  const failure = await runImageJob(deps.router, jobOf(request, caller, undefined), { final: (final) => void finals.push(final) }, gone);
  if (gone.aborted) return;
  if (failure !== undefined) throw fromProtocolError(failure);
  finals.sort((a, b) => a.index - b.index);
  const data: ImageDataEntry[] = finals.map((final) => ({
    b64_json: request.responseFormat === 'b64_json' ? finalB64Json(final, deps.b64Json) : null,
    url: `${deps.publicUrl()}/images/${final.imageUUID}.${extensionOf(final.format)}`,
  }));
  sendJson(res, 200, { created, data });
}

/** The streamed answer: partial images and each final as events, as they come. */
async function streamImages(res: ServerResponse, caller: Caller, request: ImageRequest, deps: OpenAiImagesDeps, gone: AbortSignal): Promise<void> {
  const sse = new SseWriter(res);
  const prefix = eventPrefix[request.operation];
  // The steps the engine encodes previews at (it is asked for this many); a preview's place among
  // them is its partial_image_index, which counts within one image.
  const partialSteps = previewSteps(request.steps, request.partialImages);
  const previews = partialSteps.length > 0 ? { side: Math.max(request.width, request.height), count: request.partialImages } : undefined;
  const handlers = {
    preview: (preview: JobPreview): void => partialImageEvent(sse, prefix, request, partialSteps.indexOf(preview.step), preview, deps),
    final: (final: JobFinal): void => completedEvent(sse, prefix, request, final, deps),
  };
  const failure = await runImageJob(deps.router, jobOf(request, caller, previews), handlers, gone);
  if (gone.aborted) return;
  if (failure !== undefined) {
    const error = fromProtocolError(failure);
    if (!sse.started) throw error;
    // Past the headers an error can only be an event; openai-node raises it from the stream.
    sse.event('error', { type: 'error', ...error.body() });
  }
  sse.end();
}

/** `<prefix>.partial_image`, for a preview at one of the steps asked for (`partialIndex` -1: not one of them). */
function partialImageEvent(sse: SseWriter, prefix: string, request: ImageRequest, partialIndex: number, preview: JobPreview, deps: OpenAiImagesDeps): void {
  if (partialIndex === -1) return;
  sse.event(`${prefix}.partial_image`, {
    type: `${prefix}.partial_image`,
    b64_json: deps.b64Json === 'base64' ? preview.base64 : dataUri(imageMediaType(preview.format), preview.base64),
    created_at: Math.floor(deps.clock.now() / 1000),
    ...eventFields(request),
    output_format: preview.format === 'WEBP' ? 'webp' : 'jpeg',
    partial_image_index: partialIndex,
  });
}

/** `<prefix>.completed`, for a final. */
function completedEvent(sse: SseWriter, prefix: string, request: ImageRequest, final: JobFinal, deps: OpenAiImagesDeps): void {
  sse.event(`${prefix}.completed`, {
    type: `${prefix}.completed`,
    b64_json: finalB64Json(final, deps.b64Json),
    created_at: Math.floor(deps.clock.now() / 1000),
    ...eventFields(request),
    output_format: extensionOf(final.format),
    usage: noUsage,
  });
}
