// Turns an engine's final image into the protocol's result item: the output by outputType, seed,
// index, imageFormat, and the optional cost and NSFWContent.
import type { ImageFormat, Seed } from '../../engine/index.js';
import type { ResolvedImageInference, ServerDataItem } from '../../protocol/index.js';
import { imageMediaType } from '../../internal/bytes.js';
import { extensionOf } from '../images/store.js';
import type { ServerFrame } from './server-frame.js';
import type { StoredResult } from './task-registry.js';
import { TaskFailure } from '../task-failure.js';

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
  /** The encoded image; undefined when the engine gave `remoteURL` instead (URL outputs only). */
  readonly image: Uint8Array | undefined;
  /** Where the engine's image lives (an upstream service's URL), passed on unchanged. */
  readonly remoteURL?: string | undefined;
  readonly format: ImageFormat;
  /** The engine's reported cost in USD; the server's estimate ({@link costOf}) stands in when absent. */
  readonly cost?: number | undefined;
  /** The engine's NSFW verdict; the prompt check ({@link isNsfwPrompt}) stands in when absent. */
  readonly NSFWContent?: boolean | undefined;
}

/** The frame to send and the result to keep for getResponse. */
export interface BuiltFinal {
  readonly frame: ServerFrame;
  readonly stored: StoredResult;
}

/** Builds the result item of a final image as the task asked for it. */
export function buildFinal(task: ResolvedImageInference, image: FinalImage, publicUrl: string): BuiltFinal {
  const item: ServerDataItem = { taskType: 'imageInference', taskUUID: task.taskUUID, imageUUID: image.imageUUID };
  if (task.outputType === 'URL') item.imageURL = image.remoteURL ?? `${publicUrl}/images/${image.imageUUID}.${extensionOf(image.format)}`;
  item.seed = image.seed;
  if (task.checkNSFW) item.NSFWContent = image.NSFWContent ?? isNsfwPrompt(task.positivePrompt);
  if (task.includeCost) item.cost = image.cost ?? costOf(task.width, task.height, task.steps);
  item.index = image.index;
  item.imageFormat = image.format;
  if (task.previews !== undefined) item.final = true;
  if (task.outputType === 'URL') return { frame: { kind: 'data', items: [item] }, stored: { item } };
  if (image.image === undefined) throw new TaskFailure('internalServerError', `the engine gave a URL where the ${task.outputType} output needs the image's bytes`);
  const field = task.outputType === 'dataURI' ? 'imageDataURI' : 'imageBase64Data';
  const mediaType = imageMediaType(image.format);
  return {
    frame: { kind: 'image', item, field, mediaType, image: image.image },
    stored: { item, inline: { field, imageUUID: image.imageUUID, mediaType } },
  };
}
