// Public request and result types of the task methods, shared by the WebSocket and HTTP clients.
// Request fields are the protocol's own (src/protocol/tasks.ts) plus a few per-task options.
import type { ImageInferenceParams, ServerDataItem, TaskStatus } from '../../protocol/index.js';
import type { ApiError } from '../errors.js';
import type { ImageResult } from '../image-result.js';

/** Options every task method accepts. */
export interface TaskOptions {
  /** Cancels the task: locally at once, and on the server where it supports `cancel`. */
  signal?: AbortSignal | undefined;
  /**
   * Deadline from submission to the task's end, in ms (`taskTimeout`).
   * @default the client's taskTimeoutMs (300000)
   */
  timeoutMs?: number | undefined;
  /**
   * The task's UUID v4. Give your own to make a submission idempotent: a taskUUID the server
   * already knows is recovered (getResponse), never run twice.
   * @default a new random UUID v4
   */
  taskUUID?: string | undefined;
}

/**
 * An imageInference request: the protocol's parameters plus {@link TaskOptions}.
 * `outputType` defaults to `"base64Data"` here (not the protocol's `"URL"`), so every image
 * arrives as bytes; `previews` are only asked for when you set them.
 */
export type ImageInferenceRequest = ImageInferenceParams & TaskOptions;

/** An imageUpload request: the image as a data URI, raw base64 or an http(s) URL. */
export interface ImageUploadRequest extends TaskOptions {
  image: string;
}

/** A getResponse request: the taskUUID of the task asked about. */
export interface GetResponseRequest {
  taskUUID: string;
  signal?: AbortSignal | undefined;
  /** @default the client's taskTimeoutMs */
  timeoutMs?: number | undefined;
}

/** Options of ping(). */
export interface PingOptions {
  signal?: AbortSignal | undefined;
  /** @default the client's taskTimeoutMs */
  timeoutMs?: number | undefined;
}

/** A step-by-step partial image (the previews extension). */
export interface PreviewEvent {
  readonly type: 'preview';
  readonly taskUUID: string;
  /** Result index (0-based). */
  readonly index: number;
  /** Step reached, 1-based, of `steps`. */
  readonly step: number;
  readonly steps: number;
  readonly image: ImageResult;
}

/** A final image; each index is delivered exactly once. */
export interface FinalEvent {
  readonly type: 'final';
  readonly taskUUID: string;
  readonly index: number;
  readonly image: ImageResult;
}

/** What an imageInference task stream yields. */
export type ImageInferenceEvent = PreviewEvent | FinalEvent;

/** The result of imageUpload. */
export interface UploadedImage {
  readonly taskUUID: string;
  /** Use as seedImage, maskImage or guideImage. */
  readonly imageUUID: string;
  readonly imageURL: string | undefined;
  /** The raw result item. */
  readonly item: ServerDataItem;
}

/** The answer to getResponse: what a task produced so far. */
export interface GetResponseResult {
  readonly taskUUID: string;
  /** `processing` while it runs, `success` when done, `error` when it failed. */
  readonly status: TaskStatus;
  /** Final images so far. */
  readonly images: readonly ImageResult[];
  /** Errors the task ended with (status `error`). */
  readonly errors: readonly ApiError[];
  /** Every item of the answer, as sent. */
  readonly items: readonly ServerDataItem[];
}

/** The result of ping(). */
export interface PingResult {
  /** Milliseconds from writing the ping to receiving a pong. */
  readonly roundTripMs: number;
}
