// Runs one image task of the OpenAI-style faces through the task core (TaskCore) (validation, limits,
// queue, shutdown) and hands its previews and finals to callbacks instead of frames.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ImageFormat } from '../../engine/index.js';
import type { ProtocolErrorItem, ServerDataItem } from '../../protocol/index.js';
import type { ServerFrame } from './server-frame.js';
import type { OutputTarget } from './output-target.js';
import type { TaskContext } from './task-router.js';
import type { TaskCore } from './task-core.js';
import type { TokenGrant } from '../usage/token-scope.js';

/** What to render. */
export interface ImageJob {
  /** Key digest that owns the task (ownerOf). */
  readonly owner: string;
  /** The id and scope of the session token that asked (none for an API key). */
  readonly grant?: TokenGrant | undefined;
  /** Engine model id. */
  readonly model: string;
  readonly prompt: string;
  readonly negativePrompt?: string | undefined;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidance: number;
  /** Undefined: the router picks a random seed. */
  readonly seed?: number | undefined;
  readonly count: number;
  /** Image-to-image: the input image (encoded bytes) and how far to move from it; undefined: none. */
  readonly image?: { readonly bytes: Uint8Array; readonly strength: number } | undefined;
  /** JPG previews of at most `side` pixels (32..512), `count` per image (see previewSteps); undefined: none. */
  readonly previews?: { readonly side: number; readonly count: number } | undefined;
  /** False keeps the finals out of the image store, so no `/images/` URL serves them. @default true */
  readonly storeFinals?: boolean | undefined;
}

/** A preview of result `index` after `step` of `steps`. */
export interface JobPreview {
  readonly index: number;
  readonly step: number;
  readonly steps: number;
  /** Base64 of the encoded preview. */
  readonly base64: string;
  readonly format: 'JPG' | 'WEBP';
}

/** A finished image. */
export interface JobFinal {
  readonly index: number;
  readonly seed: number;
  /** The image store's id of it: its URL is `/images/<imageUUID>.<ext>` (when the job stores its finals). */
  readonly imageUUID: string;
  readonly image: Uint8Array;
  readonly format: ImageFormat;
}

/** Where a job's outputs go, in the order the engine makes them. */
export interface JobHandlers {
  preview?(preview: JobPreview): void;
  final(final: JobFinal): void;
}

/** Collects a task's frames for one request. */
class JobTarget implements OutputTarget {
  readonly reattachable = false;
  reachable = true;
  readonly errors: ProtocolErrorItem[] = [];
  readonly #handlers: JobHandlers;

  constructor(handlers: JobHandlers) {
    this.#handlers = handlers;
  }

  deliver(frame: ServerFrame): void {
    if (frame.kind === 'errors') this.errors.push(...frame.errors);
    else if (frame.kind === 'image') this.#handlers.final(finalOf(frame.item, frame.image));
    // 'data' frames are acknowledgements (cancel answers): nothing to pass on.
  }

  deliverPreview(frame: ServerFrame): void {
    if (frame.kind !== 'data' || this.#handlers.preview === undefined) return;
    for (const item of frame.items) {
      if (item.preview !== true || typeof item.imageBase64Data !== 'string') continue;
      this.#handlers.preview({
        index: Number(item.index),
        step: Number(item.step),
        steps: Number(item.steps),
        base64: item.imageBase64Data,
        format: item.imageFormat === 'WEBP' ? 'WEBP' : 'JPG',
      });
    }
  }

  forgetTask(): void {
    // A request holds nothing to forget.
  }
}

function finalOf(item: ServerDataItem, image: Uint8Array): JobFinal {
  const format = item.imageFormat === 'JPG' || item.imageFormat === 'WEBP' ? item.imageFormat : 'PNG';
  // The images faces take seeds below 2^53 - 1 only, so a number holds every result's seed.
  return { index: Number(item.index), seed: Number(item.seed), imageUUID: typeof item.imageUUID === 'string' ? item.imageUUID : '', image, format };
}

/** Aborts when the client leaves: the response's connection closed before the answer ended. */
export function abandonment(res: ServerResponse): AbortSignal {
  const gone = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  return gone.signal;
}

/**
 * Runs `job` to its end. Resolves with the task's first error item, or undefined when every image
 * was delivered. When `signal` aborts (the client went away) the task is cancelled on the router,
 * which stops the engine. Never rejects.
 */
export async function runImageJob(router: TaskCore, job: ImageJob, handlers: JobHandlers, signal?: AbortSignal): Promise<ProtocolErrorItem | undefined> {
  const taskUUID = randomUUID();
  const target = new JobTarget(handlers);
  const ctx: TaskContext = { owner: job.owner, target, reply: (frame) => target.deliver(frame), connection: { inFlight: 0 }, previews: job.previews !== undefined, storeFinals: job.storeFinals !== false, grant: job.grant };
  const task: Record<string, unknown> = {
    taskType: 'imageInference',
    taskUUID,
    positivePrompt: job.prompt,
    model: job.model,
    width: job.width,
    height: job.height,
    steps: job.steps,
    CFGScale: job.guidance,
    numberResults: job.count,
    // Finals arrive as bytes; the image store keeps them for URLs unless storeFinals is false.
    outputType: 'base64Data',
    outputFormat: 'PNG',
  };
  if (job.negativePrompt !== undefined) task.negativePrompt = job.negativePrompt;
  if (job.seed !== undefined) task.seed = job.seed;
  // The input image goes beside the task as bytes: base64 in the task would only be decoded again.
  if (job.image !== undefined) task.strength = job.image.strength;
  // With a count the engine encodes only the previews that are wanted, not one per step.
  if (job.previews !== undefined) task.previews = { maxSide: job.previews.side, format: 'JPG', count: job.previews.count };
  const abandoned = (): boolean => signal?.aborted === true;
  const cancelled = { code: 'taskCancelled', message: 'the request was abandoned' };
  if (abandoned()) return cancelled;
  const cancel = (): void => router.cancel(taskUUID, ctx);
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    await router.dispatch(task, 0, ctx, job.image === undefined ? undefined : { seedImage: job.image.bytes });
  } finally {
    signal?.removeEventListener('abort', cancel);
    target.reachable = false;
  }
  // A cancelled task ends without an error item of its own.
  if (target.errors.length === 0 && abandoned()) return cancelled;
  return target.errors[0];
}
