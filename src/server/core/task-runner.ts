// Runs one task's work: imageInference (inputs resolved in an input slot, then the engine in an
// engine slot, previews, finals with outputs and uploads) and imageUpload (fetch and check in an
// input slot, store). Outputs go out through the registry, so a cancelled task sends nothing more
// and a re-attached one follows its new target.
import { randomInt } from 'node:crypto';
import { imageUUID as newImageUUID } from '../images/image-uuid.js';
import { EngineError, requestSeed, type Engine, type EngineEvent, type EngineRequest, type FinalEvent } from '../../engine/index.js';
import { loadSharp } from '../../engine/sharp.js';
import { previewSteps, protocolError, type ImageUploadTask, type ParameterType, type ResolvedImageInference } from '../../protocol/index.js';
import { bytesToBase64, sniffImageFormat } from '../../internal/bytes.js';
import { extensionOf, type ImageStore } from '../images/store.js';
import { checkImageBytes, resolveImageInput, type ImageInputOptions } from '../images/inputs.js';
import type { WebhookSender } from '../outbound/webhooks.js';
import type { ServerLimits } from '../limits.js';
import type { Logger } from '../logger.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { dataFrame, encodeServerFrame } from './server-frame.js';
import { buildFinal, costOf, type FinalImage } from './results.js';
import type { ReleaseSlot } from './fair-slots.js';
import { FinalUploads } from './final-uploads.js';
import { TaskFailure } from '../task-failure.js';
import { keepResult, type TaskRecord, type TaskRegistry } from './task-registry.js';
import type { Clock } from '../../internal/clock.js';

/** Where the runner sends a task's outputs: the registry's output methods (a cluster worker's writes them to Redis). */
export type TaskOutputs = Pick<TaskRegistry, 'emit' | 'emitPreview'>;

/** What the runner needs from the server. */
export interface RunnerDeps {
  readonly engine: Engine;
  readonly registry: TaskOutputs;
  /** Finals are put here; input images named by imageUUID are read here. */
  readonly images: Pick<ImageStore, 'put' | 'get'>;
  readonly limits: ServerLimits;
  readonly logger: Logger;
  /** Which URLs and addresses fetches and uploads may reach. */
  readonly outbound: OutboundPolicy;
  /** Base of image URLs, read at use (it is known only once the server listens). */
  publicUrl(): string;
  readonly webhooks: Pick<WebhookSender, 'send'>;
  /** Times input fetches and result uploads. */
  readonly clock: Clock;
  /** Counts each delivered final's cost in usage; none: nothing is counted. */
  readonly finals?: FinalCounter | undefined;
}

/** Where the runner counts a delivered final's cost (USD: the engine's, else the server's estimate). */
export interface FinalCounter {
  count(record: TaskRecord, index: number, cost: number): void;
}

/** A random seed for a task that gave none: 1 to 2^31 - 1, as diffusion front-ends pick them. */
export function randomSeed(): number {
  return randomInt(1, 2 ** 31);
}

function inputOptions(deps: RunnerDeps, signal: AbortSignal): ImageInputOptions {
  const { limits } = deps;
  return { images: deps.images, maxBytes: limits.maxUploadBytes, maxPixels: limits.maxInputPixels, fetchTimeoutMs: limits.fetchTimeoutMs, clock: deps.clock, outbound: deps.outbound, logger: deps.logger, signal };
}

/** How a task gets an engine slot: at once when one is free, else a promise that settles in its turn (rejected with the abort when the task is cancelled meanwhile). */
export type SlotRequest = (record: TaskRecord) => ReleaseSlot | Promise<ReleaseSlot>;

/**
 * Input images an in-process face hands over as bytes, beside the task, so they are never
 * base64-encoded into it and decoded back; the task then names no such image itself.
 */
export interface TaskInputs {
  /** The encoded seed image (PNG, JPG or WEBP), bounded like a decoded data URI. */
  readonly seedImage?: Uint8Array | undefined;
}

/** How one imageInference task runs. */
export interface InferenceOptions {
  /** The transport can deliver previews. */
  readonly previews: boolean;
  /** Finals go into the image store (URLs, getResponse, reuse by imageUUID); the imagine endpoint keeps its image itself. */
  readonly storeFinals: boolean;
  /** An engine slot. */
  readonly slot: SlotRequest;
  /** A slot to resolve input images in and hold them until the engine slot (tasks without inputs take none). */
  readonly inputSlot: SlotRequest;
  /** Input images given as bytes. */
  readonly inputs?: TaskInputs | undefined;
}

/**
 * Generates the images of an imageInference task, in three phases: its input images are resolved
 * (in an input slot) before it asks for an engine slot, the engine slot is held only while the
 * engine works, and finals for an uploadEndpoint are uploaded beside the engine and after it,
 * outside the slot.
 */
export async function runImageInference(deps: RunnerDeps, record: TaskRecord, task: ResolvedImageInference, options: InferenceOptions): Promise<void> {
  if (task.uploadEndpoint !== undefined) refuseEarly(deps, task.uploadEndpoint);
  const request = engineRequestOf(deps, record, task, options.previews);
  // No await when a slot is free now: an instant engine's task should not pay a turn of the event loop.
  const lease = takeSlots(deps, record, task, request, options);
  const release = typeof lease === 'function' ? lease : await lease;
  if (release === undefined) return;
  const uploads = task.uploadEndpoint === undefined ? undefined : new FinalUploads(task.uploadEndpoint, record.controller.signal, { timeoutMs: deps.limits.uploadTimeoutMs, clock: deps.clock, outbound: deps.outbound, logger: deps.logger });
  try {
    // The engine's loop is here, not in a function of its own: one async frame less per task.
    if (record.state === 'running') {
      for await (const event of deps.engine.generate(request, engineOptions(record, uploads))) {
        if (record.state !== 'running') break;
        if (uploads?.stopped.aborted === true) throw uploads.stopped.reason;
        if (event.kind === 'preview') emitPreview(deps, record, task, event);
        else takeFinal(deps, record, task, event, uploads, options.storeFinals);
      }
    }
  } catch (error) {
    uploads?.stop(error);
    throw error;
  } finally {
    // The slot goes to the next task as soon as the engine is done, uploads or not.
    release();
  }
  if (uploads !== undefined) await uploads.done();
  if (record.state === 'running' && record.results.length < task.numberResults) {
    throw new TaskFailure('internalServerError', `the engine produced ${record.results.length} of ${task.numberResults} images`);
  }
}

/**
 * Refuses a task whose uploadEndpoint the outbound rules refuse from its text alone (a private
 * address literal, say), before any engine work: an upstream engine would otherwise be paid for
 * images that can never be delivered. The same code as a failed upload.
 */
function refuseEarly(deps: RunnerDeps, uploadEndpoint: string): void {
  let refusal: string | undefined;
  try {
    refusal = deps.outbound.earlyRefusal('upload', new URL(uploadEndpoint));
  } catch {
    refusal = 'not a URL';
  }
  if (refusal === undefined) return;
  deps.logger.info('uploadEndpoint refused before the task ran', { reason: refusal });
  throw new TaskFailure('uploadFailed', 'the image could not be uploaded to uploadEndpoint', { parameter: 'uploadEndpoint', type: 'string' });
}

/** The engine's request for a task; previews only when `previews` (the transport can deliver them) and someone asked. */
function engineRequestOf(deps: RunnerDeps, record: TaskRecord, task: ResolvedImageInference, previews: boolean): EngineRequest {
  const request: EngineRequest = {
    taskUUID: task.taskUUID,
    model: task.model,
    positivePrompt: task.positivePrompt,
    width: task.width,
    height: task.height,
    steps: task.steps,
    CFGScale: task.CFGScale,
    // A bigint exactly when a result's seed would pass 2^53 - 1, so engines adding numbers stay exact.
    seed: requestSeed(task.seed ?? randomSeed(), task.numberResults),
    numberResults: task.numberResults,
    strength: task.strength,
    outputFormat: task.outputFormat,
    outputQuality: task.outputQuality,
    maxInputPixels: deps.limits.maxInputPixels,
  };
  if (task.negativePrompt !== undefined) request.negativePrompt = task.negativePrompt;
  if (task.scheduler !== undefined) request.scheduler = task.scheduler;
  if (task.maskMargin !== undefined) request.maskMargin = task.maskMargin;
  if (task.outpaint !== undefined) request.outpaint = task.outpaint;
  // A URL the engine already has serves the client as well as ours, unless an upload needs the bytes.
  if (task.outputType === 'URL' && task.uploadEndpoint === undefined) request.acceptsURL = true;
  // Previews cost encoding work: ask the engine only when they can reach someone who asked.
  if (previews && !record.async && task.previews !== undefined) {
    const { format, maxSide, count } = task.previews;
    request.previews = count === undefined ? { format, maxSide } : { format, maxSide, steps: previewSteps(task.steps, count) };
  }
  return request;
}

/**
 * The task's engine slot: at once (no promise) when it has no input images and a slot is free;
 * with input images, after they are resolved into `request` in an input slot. Undefined: the task
 * ended while its inputs were resolved, and holds no slot.
 */
function takeSlots(deps: RunnerDeps, record: TaskRecord, task: ResolvedImageInference, request: EngineRequest, options: InferenceOptions): ReleaseSlot | Promise<ReleaseSlot | undefined> {
  const seedBytes = options.inputs?.seedImage;
  const hasInputs = task.seedImage !== undefined || seedBytes !== undefined || task.maskImage !== undefined || task.controlNet.length > 0 || task.ipAdapters.length > 0;
  return hasInputs ? slotAfterInputs(deps, record, task, request, options) : options.slot(record);
}

/** Resolves the input images in an input slot, which is held until the engine slot is had: inputs wait in bounded numbers. */
async function slotAfterInputs(deps: RunnerDeps, record: TaskRecord, task: ResolvedImageInference, request: EngineRequest, options: InferenceOptions): Promise<ReleaseSlot | undefined> {
  const releaseInputs = await options.inputSlot(record);
  try {
    await resolveInputs(deps, record, task, request, options.inputs?.seedImage);
    if (record.state !== 'running') return undefined;
    return await options.slot(record);
  } finally {
    // On the engine the inputs are the running task's, bounded by the engine slots.
    releaseInputs();
  }
}

/** Fetches or decodes the task's input images into the request (or checks the seed image given as bytes); a cancel aborts a fetch in progress. */
async function resolveInputs(deps: RunnerDeps, record: TaskRecord, task: ResolvedImageInference, request: EngineRequest, seedBytes: Uint8Array | undefined): Promise<void> {
  const inputs = inputOptions(deps, record.controller.signal);
  const seedRole = { parameter: 'seedImage', invalid: 'invalidSeedImage' } as const;
  if (seedBytes !== undefined) request.seedImage = await checkImageBytes(seedBytes, seedRole, inputs);
  else if (task.seedImage !== undefined) request.seedImage = await resolveImageInput(task.seedImage, seedRole, inputs);
  if (task.maskImage !== undefined) request.maskImage = await resolveImageInput(task.maskImage, { parameter: 'maskImage', invalid: 'invalidMaskImage' }, inputs);
  // Guide images steer nothing in the procedural engine, but a missing or unreachable one is still the caller's error.
  for (const [index, entry] of task.controlNet.entries()) {
    await resolveImageInput(entry.guideImage, { parameter: `controlNet[${index}].guideImage`, invalid: 'invalidControlNet' }, inputs);
  }
  for (const [index, entry] of task.ipAdapters.entries()) {
    await resolveImageInput(entry.guideImage, { parameter: `ipAdapters[${index}].guideImage`, invalid: 'invalidIpAdapters' }, inputs);
  }
}

/** The engine's options: the task's signal, which a failed upload also aborts. */
function engineOptions(record: TaskRecord, uploads: FinalUploads | undefined): { readonly signal: AbortSignal } {
  // An AbortSignal costs more to create than an instant engine spends on a task: made on first read.
  let signal: AbortSignal | undefined;
  return {
    get signal(): AbortSignal {
      signal ??= uploads === undefined ? record.controller.signal : AbortSignal.any([record.controller.signal, uploads.stopped]);
      return signal;
    },
  };
}

/** Sends a preview to whoever can take it now (never held). */
function emitPreview(deps: RunnerDeps, record: TaskRecord, task: ResolvedImageInference, event: Extract<EngineEvent, { kind: 'preview' }>): void {
  record.progress = Math.floor((100 * (event.index * event.steps + event.step)) / (task.numberResults * event.steps));
  deps.registry.emitPreview(
    record,
    dataFrame({
      taskType: 'imageInference',
      taskUUID: task.taskUUID,
      preview: true,
      index: event.index,
      step: event.step,
      steps: event.steps,
      imageBase64Data: bytesToBase64(event.image),
      imageFormat: event.format,
      width: event.width,
      height: event.height,
    }),
  );
}

/**
 * A final from the engine: stored (unless the face keeps it itself), then delivered, after its
 * upload when there is an uploadEndpoint. A final given as a URL (only when the request accepted
 * one) is neither stored nor uploaded: the URL goes to the client as it is.
 */
function takeFinal(deps: RunnerDeps, record: TaskRecord, task: ResolvedImageInference, event: FinalEvent, uploads: FinalUploads | undefined, store: boolean): void {
  const final: FinalImage = { index: event.index, seed: event.seed, imageUUID: newImageUUID(), image: event.image, remoteURL: event.imageURL, format: event.format, cost: event.cost, NSFWContent: event.NSFWContent };
  if (event.image === undefined) {
    if (task.outputType !== 'URL' || uploads !== undefined) throw new TaskFailure('internalServerError', 'the engine gave a URL where the server needs the image\'s bytes');
    deliverFinal(deps, record, task, final);
    return;
  }
  const image = event.image;
  if (store) deps.images.put(final.imageUUID, image, event.format, record.owner);
  if (uploads === undefined) deliverFinal(deps, record, task, final);
  else uploads.push(image, event.format, () => deliverFinal(deps, record, task, final));
}

/** Sends a final and keeps it for getResponse (and its webhook), unless the task ended meanwhile. */
function deliverFinal(deps: RunnerDeps, record: TaskRecord, task: ResolvedImageInference, final: FinalImage): void {
  if (record.state !== 'running') return;
  const built = buildFinal(task, final, deps.publicUrl());
  keepResult(record, built.stored);
  record.progress = Math.floor((100 * record.results.length) / task.numberResults);
  deps.registry.emit(record, built.frame);
  // Counted whether or not the task asked includeCost: the spend of its key and token.
  deps.finals?.count(record, final.index, final.cost ?? costOf(task.width, task.height, task.steps));
  if (task.webhookURL !== undefined) {
    const body = encodeServerFrame(built.frame, { binary: false });
    if (typeof body === 'string') deps.webhooks.send(task.webhookURL, body, record.owner);
  }
}

/** Stores an uploaded image and answers with its imageUUID and URL. */
export async function runImageUpload(deps: RunnerDeps, record: TaskRecord, task: ImageUploadTask, inputSlot: SlotRequest): Promise<void> {
  // An input slot, not an engine slot: the fetch and the check hold bytes, but no engine work.
  const release = await inputSlot(record);
  let bytes: Uint8Array;
  let format: ReturnType<typeof sniffImageFormat>;
  try {
    bytes = await resolveImageInput(task.image, { parameter: 'image', invalid: 'invalidImage' }, inputOptions(deps, record.controller.signal));
    format = sniffImageFormat(bytes);
    if (format === undefined) throw new TaskFailure('invalidImage', 'image must be PNG, JPG or WEBP', { parameter: 'image', type: 'string' });
    const sharp = await loadSharp();
    try {
      // resolveImageInput checked the declared size; the bound here keeps sharp from trusting it blindly.
      await sharp(bytes, { limitInputPixels: deps.limits.maxInputPixels }).metadata();
    } catch (error) {
      throw new TaskFailure('invalidImage', 'image could not be decoded', { parameter: 'image', type: 'string', cause: error });
    }
  } finally {
    release();
  }
  if (record.state !== 'running') return;
  const imageUUID = newImageUUID();
  deps.images.put(imageUUID, bytes, format, record.owner);
  const item = { taskType: 'imageUpload', taskUUID: task.taskUUID, imageUUID, imageURL: `${deps.publicUrl()}/images/${imageUUID}.${extensionOf(format)}` };
  keepResult(record, { item });
  deps.registry.emit(record, dataFrame(item));
}

/** The wire type of parameters engines name in their errors. */
const parameterTypes: Readonly<Record<string, ParameterType>> = { outpaint: 'object', width: 'integer', height: 'integer', maskMargin: 'integer', strength: 'float' };

/** Maps whatever a task's work threw to the protocol error item the client gets. */
export function failureItem(error: unknown, record: TaskRecord, onUnexpected: (error: unknown) => void): ReturnType<typeof protocolError> {
  const context = { taskType: record.taskType, taskUUID: record.taskUUID };
  if (error instanceof TaskFailure) return error.item(record.taskType, record.taskUUID);
  if (error instanceof EngineError) {
    const type = error.parameter === undefined ? undefined : (parameterTypes[error.parameter] ?? 'string');
    return protocolError(error.code, error.message, { ...context, parameter: error.parameter, type });
  }
  onUnexpected(error);
  return protocolError('internalServerError', 'the server failed to run this task', context);
}
