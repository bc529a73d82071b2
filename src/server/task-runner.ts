// Runs one task's work: imageInference through the engine (inputs resolved, previews, finals with
// outputs, uploads) and imageUpload (fetch, check, store). Outputs go out through the registry,
// so a cancelled task sends nothing more and a re-attached one follows its new target.
import { randomInt, randomUUID } from 'node:crypto';
import { EngineError, loadSharp, requestSeed, type Engine, type EngineRequest } from '../engine/index.js';
import { previewSteps, protocolError, type ImageUploadTask, type ParameterType, type ResolvedImageInference } from '../protocol/index.js';
import { extensionOf, sniffFormat, type ImageStore } from './image-store.js';
import { resolveImageInput, type ImageInputOptions } from './image-inputs.js';
import type { WebhookSender } from './webhooks.js';
import type { ServerLimits } from './limits.js';
import type { Logger } from './logger.js';
import type { OutboundPolicy } from './outbound-policy.js';
import { dataFrame, encodeOutbound } from './outbound.js';
import { buildFinal, uploadResult } from './outputs.js';
import { TaskFailure } from './task-failure.js';
import type { TaskRecord, TaskRegistry } from './task-registry.js';

/** What the runner needs from the server. */
export interface RunnerDeps {
  readonly engine: Engine;
  readonly registry: TaskRegistry;
  readonly images: ImageStore;
  readonly limits: ServerLimits;
  readonly logger: Logger;
  /** Which URLs and addresses fetches and uploads may reach. */
  readonly outbound: OutboundPolicy;
  /** Base of image URLs, read at use (it is known only once the server listens). */
  publicUrl(): string;
  readonly webhooks: WebhookSender;
}

/** A random seed for a task that gave none: 1 to 2^31 - 1, as diffusion front-ends pick them. */
export function randomSeed(): number {
  return randomInt(1, 2 ** 31);
}

function inputOptions(deps: RunnerDeps, signal: AbortSignal): ImageInputOptions {
  const { limits } = deps;
  return { images: deps.images, maxBytes: limits.maxUploadBytes, maxPixels: limits.maxInputPixels, fetchTimeoutMs: limits.fetchTimeoutMs, outbound: deps.outbound, logger: deps.logger, signal };
}

/** Generates the images of an imageInference task. `previews`: the transport can deliver them. */
export async function runImageInference(deps: RunnerDeps, record: TaskRecord, task: ResolvedImageInference, previews: boolean): Promise<void> {
  // An AbortSignal costs more to create than an instant engine spends on a task: made on first read.
  const engineOptions = {
    get signal(): AbortSignal {
      return record.controller.signal;
    },
  };
  let inputs: ImageInputOptions | undefined;
  const inputsOf = (): ImageInputOptions => (inputs ??= inputOptions(deps, record.controller.signal));
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
  if (task.seedImage !== undefined) request.seedImage = await resolveImageInput(task.seedImage, { parameter: 'seedImage', invalid: 'invalidSeedImage' }, inputsOf());
  if (task.maskImage !== undefined) request.maskImage = await resolveImageInput(task.maskImage, { parameter: 'maskImage', invalid: 'invalidMaskImage' }, inputsOf());
  // Guide images steer nothing in the procedural engine, but a missing or unreachable one is still the caller's error.
  for (const [index, entry] of task.controlNet.entries()) {
    await resolveImageInput(entry.guideImage, { parameter: `controlNet[${index}].guideImage`, invalid: 'invalidControlNet' }, inputsOf());
  }
  for (const [index, entry] of task.ipAdapters.entries()) {
    await resolveImageInput(entry.guideImage, { parameter: `ipAdapters[${index}].guideImage`, invalid: 'invalidIpAdapters' }, inputsOf());
  }
  // Previews cost encoding work: ask the engine only when they can reach someone who asked.
  if (previews && !record.async && task.previews !== undefined) {
    const { format, maxSide, count } = task.previews;
    request.previews = count === undefined ? { format, maxSide } : { format, maxSide, steps: previewSteps(task.steps, count) };
  }

  const total = task.numberResults * task.steps;
  for await (const event of deps.engine.generate(request, engineOptions)) {
    if (record.state !== 'running') return;
    if (event.kind === 'preview') {
      record.progress = Math.floor((100 * (event.index * event.steps + event.step)) / (task.numberResults * event.steps));
      deps.registry.emitLive(
        record,
        dataFrame({
          taskType: 'imageInference',
          taskUUID: task.taskUUID,
          preview: true,
          index: event.index,
          step: event.step,
          steps: event.steps,
          imageBase64Data: Buffer.from(event.image.buffer, event.image.byteOffset, event.image.byteLength).toString('base64'),
          imageFormat: event.format,
          width: event.width,
          height: event.height,
        }),
      );
      continue;
    }
    const imageUUID = randomUUID();
    deps.images.put(imageUUID, event.image, event.format);
    if (task.uploadEndpoint !== undefined) {
      await uploadResult(task.uploadEndpoint, event.image, event.format, { timeoutMs: deps.limits.uploadTimeoutMs, signal: record.controller.signal, outbound: deps.outbound, logger: deps.logger });
      if (record.state !== 'running') return;
    }
    const built = buildFinal(task, { index: event.index, seed: event.seed, imageUUID, image: event.image, format: event.format }, deps.publicUrl());
    record.results.push(built.stored);
    record.progress = Math.floor((100 * record.results.length * task.steps) / total);
    deps.registry.emit(record, built.frame);
    if (task.webhookURL !== undefined) {
      const body = encodeOutbound(built.frame, { binary: false });
      if (typeof body === 'string') void deps.webhooks.deliver(task.webhookURL, body, record.owner);
    }
  }
  if (record.state === 'running' && record.results.length < task.numberResults) {
    throw new TaskFailure('internalServerError', `the engine produced ${record.results.length} of ${task.numberResults} images`);
  }
}

/** Stores an uploaded image and answers with its imageUUID and URL. */
export async function runImageUpload(deps: RunnerDeps, record: TaskRecord, task: ImageUploadTask): Promise<void> {
  const bytes = await resolveImageInput(task.image, { parameter: 'image', invalid: 'invalidImage' }, inputOptions(deps, record.controller.signal));
  const format = sniffFormat(bytes);
  if (format === undefined) throw new TaskFailure('invalidImage', 'image must be PNG, JPG or WEBP', { parameter: 'image', type: 'string' });
  const sharp = await loadSharp();
  try {
    // resolveImageInput checked the declared size; the bound here keeps sharp from trusting it blindly.
    await sharp(bytes, { limitInputPixels: deps.limits.maxInputPixels }).metadata();
  } catch (error) {
    throw new TaskFailure('invalidImage', 'image could not be decoded', { parameter: 'image', type: 'string', cause: error });
  }
  if (record.state !== 'running') return;
  const imageUUID = randomUUID();
  deps.images.put(imageUUID, bytes, format);
  const item = { taskType: 'imageUpload', taskUUID: task.taskUUID, imageUUID, imageURL: `${deps.publicUrl()}/images/${imageUUID}.${extensionOf(format)}` };
  record.results.push({ item });
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
