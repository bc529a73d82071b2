// The imagine endpoint: POST /v1/images/imagine (a 1024x1024 PNG as an Image object), GET, DELETE and
// publish of /v1/images/{id}, and the public URL that serves a published image to anyone until it expires.
import type { Caller } from '../auth/auth.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../internal/clock.js';
import type { ImageObject } from '../../protocol/index.js';
import { abandonment, runImageJob } from '../core/image-job.js';
import { sendJson } from '../http/json-response.js';
import type { ImagineStore, ImaginedImage } from './store.js';
import type { ServerLimits } from '../limits.js';
import { imaginePreset, lookModels } from '../openai/model-presets.js';
import { fromProtocolError, OpenAiError } from '../openai/errors.js';
import { ParamReader } from '../openai/param-reader.js';
import { readRequestBody } from '../openai/request-body.js';
import type { TaskCore } from '../core/task-core.js';

/** What the imagine endpoint needs from the server. */
export interface ImagineDeps {
  readonly router: TaskCore;
  readonly limits: ServerLimits;
  readonly store: ImagineStore;
  /** Stamps `created_at`. */
  readonly clock: Clock;
  /** Base of public URLs, read at use. */
  publicUrl(): string;
}

export type { ImageObject };

/** Side of every imagined image, as the endpoint documents it. */
export const IMAGINE_SIDE = 1024;

/** Bounds of the imagine parameters. */
export const imagineParamLimits = {
  name: { min: 1, max: 256 },
  prompt: { min: 2, max: 3000 },
  negativePrompt: { min: 2, max: 2000 },
  seed: { min: 1, max: Number.MAX_SAFE_INTEGER },
} as const;

const known = new Set(['name', 'prompt', 'negative_prompt', 'seed']);

/** The path a published image is served at. */
export const publicImagePath = /^\/public\/images\/(image_[0-9a-f]{32})\.png$/;

/** The public URL of a published image. */
export function publicUrlOf(image: ImaginedImage, base: string): string {
  return `${base}/public/images/${image.id}.png`;
}

/** The Image object of a stored image. */
export function imageObject(image: ImaginedImage, base: string): ImageObject {
  return {
    id: image.id,
    name: image.name,
    url: image.published ? publicUrlOf(image, base) : null,
    width: image.width,
    height: image.height,
    format: image.format,
    size: image.bytes.byteLength,
    created_at: image.createdAt.toISOString(),
  };
}

function notFound(id: string): OpenAiError {
  return new OpenAiError(404, `no image ${id} is known for this API key`, { param: 'id', code: 'image_not_found' });
}

/** POST /v1/images/imagine. */
export async function handleImagine(req: IncomingMessage, res: ServerResponse, caller: Caller, deps: ImagineDeps): Promise<void> {
  const { owner } = caller;
  const reader = new ParamReader(await readRequestBody(req, deps.limits));
  reader.onlyKnown(known);
  const name = reader.text('name', imagineParamLimits.name, true) ?? '';
  const prompt = reader.text('prompt', imagineParamLimits.prompt, true) ?? '';
  const negativePrompt = reader.text('negative_prompt', imagineParamLimits.negativePrompt, false);
  const seed = reader.seed('seed', imagineParamLimits.seed);
  const gone = abandonment(res);
  let bytes: Uint8Array | undefined;
  const failure = await runImageJob(
    deps.router,
    {
      owner,
      grant: caller.grant,
      model: lookModels[imaginePreset.look],
      prompt,
      negativePrompt,
      width: IMAGINE_SIDE,
      height: IMAGINE_SIDE,
      steps: imaginePreset.steps,
      guidance: imaginePreset.guidance,
      seed,
      count: 1,
      // The image store serves anyone who has the URL: an unpublished image must stay out of it.
      storeFinals: false,
    },
    { final: (final) => void (bytes = final.image) },
    gone,
  );
  if (gone.aborted) return;
  if (failure !== undefined) throw fromProtocolError(failure);
  if (bytes === undefined) throw new OpenAiError(500, 'the engine produced no image', { code: 'internal_server_error' });
  const image = await deps.store.add({ owner, name, bytes, width: IMAGINE_SIDE, height: IMAGINE_SIDE, format: 'png', createdAt: new Date(deps.clock.now()) });
  sendJson(res, 201, imageObject(image, deps.publicUrl()));
}

/** GET /v1/images/{id}. */
export async function handleGetImage(res: ServerResponse, id: string, owner: string, deps: ImagineDeps): Promise<void> {
  const image = await deps.store.get(id, owner);
  if (image === undefined) throw notFound(id);
  sendJson(res, 200, imageObject(image, deps.publicUrl()));
}

/** POST /v1/images/{id}/publish: fills `url`. Publishing twice is harmless. */
export async function handlePublish(res: ServerResponse, id: string, owner: string, deps: ImagineDeps): Promise<void> {
  const result = await deps.store.publish(id, owner);
  if (!result.ok && result.reason === 'notFound') throw notFound(id);
  if (!result.ok) {
    const { maxPublished, maxPublishedPerKey } = deps.store.limits;
    const lifetime = `published images are kept for ${durationText(deps.store.limits.publishedLifetimeMs)}; delete one (DELETE /v1/images/{id}) or wait for one to expire`;
    const message =
      result.reason === 'shareFull'
        ? `this API key may keep at most ${maxPublishedPerKey} published images at once (its share, limits.maxPublishedImagesPerKey) and holds that many; ${lifetime}`
        : `this server keeps at most ${maxPublished} published images at once (limits.maxPublishedImages) and holds that many; ${lifetime}`;
    throw new OpenAiError(507, message, { code: 'publish_limit_reached' });
  }
  sendJson(res, 200, imageObject(result.image, deps.publicUrl()));
}

/** DELETE /v1/images/{id}: the owner removes an image, published or not; its public URL then 404s. */
export async function handleDeleteImage(res: ServerResponse, id: string, owner: string, deps: ImagineDeps): Promise<void> {
  if (!(await deps.store.delete(id, owner))) throw notFound(id);
  sendJson(res, 200, { id, object: 'image', deleted: true });
}

/** A lifetime in words, for error messages. */
function durationText(ms: number): string {
  if (!Number.isFinite(ms)) return 'as long as the server runs';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 1_000 === 0) return `${ms / 1_000} s`;
  return `${ms} ms`;
}

/** GET or HEAD of a public image path: the PNG for anyone, 404 when unknown or not published. `now` is epoch ms. */
export async function servePublishedImage(pathname: string, req: IncomingMessage, res: ServerResponse, store: ImagineStore, now: number): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const id = publicImagePath.exec(pathname)?.[1];
  const image = id === undefined ? undefined : await store.getPublished(id);
  if (image === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('image not found\n');
    return;
  }
  // An id always names the same bytes; caches keep them no longer than the server does (a restart
  // may forget them sooner, so never more than a day).
  const maxAge = Math.max(0, Math.min(86_400, Math.floor((image.expiresAt - now) / 1000)));
  res.writeHead(200, {
    'content-type': 'image/png',
    'content-length': String(image.bytes.byteLength),
    'cache-control': `public, max-age=${maxAge}, immutable`,
  });
  if (req.method === 'HEAD') res.end();
  else res.end(image.bytes);
}
