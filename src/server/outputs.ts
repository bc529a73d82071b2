// Turns an engine's final image into the protocol's result item: the output by outputType, seed,
// index, imageFormat, and the optional cost and NSFWContent; and PUTs it to uploadEndpoint under the
// outbound policy.
import type { ImageFormat, Seed } from '../engine/index.js';
import type { ResolvedImageInference, ServerDataItem } from '../protocol/index.js';
import { guardedRequest, originOf, OutboundFailure } from './guarded-http.js';
import { extensionOf, mediaTypeOf } from './image-store.js';
import type { Logger } from './logger.js';
import type { Outbound } from './outbound.js';
import type { OutboundPolicy } from './outbound-policy.js';
import type { StoredResult } from './task-registry.js';
import { TaskFailure } from './task-failure.js';

/**
 * The cost reported with `includeCost`, in USD per image: proportional to pixels × steps, with a
 * 512×512 image at 20 steps costing 0.0013 (the protocol's example). Deterministic, not a price.
 */
export function costOf(width: number, height: number, steps: number): number {
  return Math.round(((width * height) / (512 * 512)) * (steps / 20) * 1300) / 1e6;
}

/**
 * The words that make `checkNSFW` answer `NSFWContent: true`: whole words of the positive prompt,
 * any letter case. The procedural engine draws no people, so this is a stand-in for a classifier.
 */
export const nsfwWords: readonly string[] = ['nsfw', 'nude', 'nudes', 'naked', 'nudity', 'porn', 'porno', 'pornographic', 'explicit', 'sex', 'sexual', 'xxx', 'hentai', 'topless'];

const nsfwPattern = new RegExp(`\\b(?:${nsfwWords.join('|')})\\b`, 'i');

/** True when the prompt holds one of {@link nsfwWords}. */
export function isNsfwPrompt(prompt: string): boolean {
  return nsfwPattern.test(prompt);
}

/** What outputs.ts needs to know about one final image. */
export interface FinalImage {
  readonly index: number;
  /** A bigint above 2^53 - 1: the wire carries its exact digits. */
  readonly seed: Seed;
  readonly imageUUID: string;
  readonly image: Uint8Array;
  readonly format: ImageFormat;
}

/** The frame to send and the result to keep for getResponse. */
export interface BuiltFinal {
  readonly frame: Outbound;
  readonly stored: StoredResult;
}

/** Builds the result item of a final image as the task asked for it. */
export function buildFinal(task: ResolvedImageInference, image: FinalImage, publicUrl: string): BuiltFinal {
  const item: ServerDataItem = { taskType: 'imageInference', taskUUID: task.taskUUID, imageUUID: image.imageUUID };
  if (task.outputType === 'URL') item.imageURL = `${publicUrl}/images/${image.imageUUID}.${extensionOf(image.format)}`;
  item.seed = image.seed;
  if (task.checkNSFW) item.NSFWContent = isNsfwPrompt(task.positivePrompt);
  if (task.includeCost) item.cost = costOf(task.width, task.height, task.steps);
  item.index = image.index;
  item.imageFormat = image.format;
  if (task.previews !== undefined) item.final = true;
  if (task.outputType === 'URL') return { frame: { kind: 'data', items: [item] }, stored: { item } };
  const field = task.outputType === 'dataURI' ? 'imageDataURI' : 'imageBase64Data';
  const mediaType = mediaTypeOf(image.format);
  return {
    frame: { kind: 'image', item, field, mediaType, image: image.image },
    stored: { item, inline: { field, imageUUID: image.imageUUID, mediaType } },
  };
}

/** What {@link uploadResult} needs besides the image. */
export interface UploadOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Which URLs and addresses the server may PUT to. */
  readonly outbound: OutboundPolicy;
  /** Hears why an upload failed; the client is only told that it did. */
  readonly logger: Logger;
}

/**
 * PUTs the image bytes to uploadEndpoint under the outbound policy (no redirects). Any failure ends
 * the task with `uploadFailed` and one message whatever the cause, so the answer tells nothing about
 * what listens at the address; the cause is logged with the endpoint's origin only.
 */
export async function uploadResult(endpoint: string, image: Uint8Array, format: ImageFormat, options: UploadOptions): Promise<void> {
  try {
    await guardedRequest(endpoint, {
      kind: 'upload',
      method: 'PUT',
      policy: options.outbound,
      headers: { 'content-type': mediaTypeOf(format) },
      body: image,
      maxRedirects: 0,
      maxBodyBytes: 0,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
  } catch (error) {
    if (!(error instanceof OutboundFailure)) throw error;
    options.logger.warn('result not uploaded', { origin: originOf(endpoint), reason: error.message });
    throw new TaskFailure('uploadFailed', 'the image could not be uploaded to uploadEndpoint', { parameter: 'uploadEndpoint', type: 'string' });
  }
}
