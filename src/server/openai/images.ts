// POST /v1/images/generations and /v1/images/edits: one task on the engine, answered as
// `{created, data:[{b64_json, url}]}` or as server-sent events in OpenAI's streaming image shapes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { previewSteps } from '../../protocol/index.js';
import { extensionOf, mediaTypeOf } from '../images/store.js';
import { abandonment, runImageJob, type JobFinal, type JobPreview } from '../core/image-job.js';
import { sendJson } from '../http/json-response.js';
import type { ServerLimits } from '../limits.js';
import { fromProtocolError } from './errors.js';
import { acceptsEventStream, parseImageRequest, type ImageOperation, type ImageRequest } from './image-params.js';
import { seedOffset } from './model-presets.js';
import { readRequestBody } from './request-body.js';
import { SseWriter } from './sse.js';
import type { TaskRouter } from '../core/task-router.js';

/** What the images face needs from the server. */
export interface OpenAiImagesDeps {
  readonly router: TaskRouter;
  readonly limits: ServerLimits;
  /** Base of image URLs, read at use. */
  publicUrl(): string;
}

/** One entry of `data` in the answer, keys in the documented order. */
export interface ImageDataEntry {
  /** A data URI, `data:image/png;base64,...`, as the API documents it; null with `response_format: "url"`. */
  b64_json: string | null;
  url: string;
}

/** Token usage in the completed events: this engine counts no tokens, so every count is 0. */
const noUsage = Object.freeze({ input_tokens: 0, input_tokens_details: Object.freeze({ image_tokens: 0, text_tokens: 0 }), output_tokens: 0, total_tokens: 0 });

const eventPrefix: Readonly<Record<ImageOperation, string>> = { generation: 'image_generation', edit: 'image_edit' };

function dataUri(mediaType: string, base64: string): string {
  return `data:${mediaType};base64,${base64}`;
}

function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The fields every streamed event of a request shares. */
function eventFields(request: ImageRequest): { size: string; quality: 'auto'; background: 'opaque' } {
  return { size: request.size, quality: 'auto', background: 'opaque' };
}

/** Answers one generations or edits request; every failure becomes an OpenAI-shaped error. */
export async function handleImageRequest(req: IncomingMessage, res: ServerResponse, owner: string, operation: ImageOperation, deps: OpenAiImagesDeps): Promise<void> {
  // Edits take the image as a file part, as openai-node sends it; generations take JSON only.
  const body = await readRequestBody(req, deps.limits, operation === 'edit' ? ['application/json', 'multipart/form-data'] : ['application/json']);
  const request = parseImageRequest(body, operation, { maxImageBytes: deps.limits.maxUploadBytes, acceptsEventStream: acceptsEventStream(req.headers.accept) });
  const created = Math.floor(Date.now() / 1000);
  // The client leaving (a closed connection before the answer ended) cancels the task.
  const gone = abandonment(res);

  const urlOf = (final: JobFinal): string => `${deps.publicUrl()}/images/${final.imageUUID}.${extensionOf(final.format)}`;
  const finals: JobFinal[] = [];
  const sse = request.stream ? new SseWriter(res) : undefined;
  const prefix = eventPrefix[operation];
  // The steps the engine encodes previews at (it is asked for this many); a preview's place among
  // them is its partial_image_index, which counts within one image.
  const partialSteps = previewSteps(request.steps, request.partialImages);

  const onPreview = (preview: JobPreview): void => {
    const partialIndex = partialSteps.indexOf(preview.step);
    if (sse === undefined || partialIndex === -1) return;
    const format = preview.format === 'WEBP' ? 'webp' : 'jpeg';
    sse.event(`${prefix}.partial_image`, {
      type: `${prefix}.partial_image`,
      b64_json: dataUri(mediaTypeOf(preview.format), preview.base64),
      created_at: Math.floor(Date.now() / 1000),
      ...eventFields(request),
      output_format: format,
      partial_image_index: partialIndex,
    });
  };
  const onFinal = (final: JobFinal): void => {
    if (sse === undefined) {
      finals.push(final);
      return;
    }
    sse.event(`${prefix}.completed`, {
      type: `${prefix}.completed`,
      b64_json: dataUri(mediaTypeOf(final.format), base64Of(final.image)),
      created_at: Math.floor(Date.now() / 1000),
      ...eventFields(request),
      output_format: extensionOf(final.format),
      usage: noUsage,
    });
  };

  const previews = sse !== undefined && partialSteps.length > 0 ? { side: Math.max(request.width, request.height), count: request.partialImages } : undefined;
  const failure = await runImageJob(
    deps.router,
    {
      owner,
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
    },
    { preview: onPreview, final: onFinal },
    gone,
  );
  if (gone.aborted) return;

  if (failure !== undefined) {
    const error = fromProtocolError(failure);
    if (sse?.started === true) {
      // Past the headers an error can only be an event; openai-node raises it from the stream.
      sse.event('error', { type: 'error', ...error.body() });
      sse.end();
      return;
    }
    throw error;
  }
  if (sse !== undefined) {
    sse.end();
    return;
  }
  finals.sort((a, b) => a.index - b.index);
  const data: ImageDataEntry[] = finals.map((final) => ({
    b64_json: request.responseFormat === 'b64_json' ? dataUri(mediaTypeOf(final.format), base64Of(final.image)) : null,
    url: urlOf(final),
  }));
  sendJson(res, 200, { created, data });
}
