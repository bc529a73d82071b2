// Builds a task run from a request, validated locally with the shared protocol module before
// anything is sent: a bad request ends at once with a ValidationError naming the parameter.
import { newTaskUUID, validateTaskOf, type GetResponseTask, type ImageInferenceTask, type ImageUploadTask } from '../protocol/index.js';
import { ValidationError } from './errors.js';
import { ImageInferenceRun } from './image-inference-run.js';
import { ImageUploadRun } from './image-upload-run.js';
import type { GetResponseRequest, ImageInferenceRequest, ImageUploadRequest, TaskOptions } from './requests.js';

/** A run plus the per-task options that travel beside it, not on the wire. */
export interface PreparedRun<R> {
  readonly run: R;
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
}

/** Drops undefined fields so that `{seed: undefined}` means "not given", as on the wire. */
function defined(params: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) if (value !== undefined) result[key] = value;
  return result;
}

function split<T extends TaskOptions>(request: T): { options: TaskOptions; params: Record<string, unknown> } {
  const { signal, timeoutMs, taskUUID, ...params } = request;
  return { options: { signal, timeoutMs, taskUUID }, params: defined(params) };
}

/** An imageInference run; `outputType` defaults to base64Data so images arrive as bytes. */
export function prepareImageInference(request: ImageInferenceRequest): PreparedRun<ImageInferenceRun> {
  const { options, params } = split(request);
  const task = { taskType: 'imageInference', taskUUID: options.taskUUID ?? newTaskUUID(), outputType: 'base64Data', ...params } as ImageInferenceTask;
  const valid = validateTaskOf<ImageInferenceTask>('imageInference', task);
  const run = new ImageInferenceRun(task);
  if (!valid.ok) run.fail(new ValidationError(valid.errors, 'imageInference', task.taskUUID));
  return { run, timeoutMs: options.timeoutMs, signal: options.signal };
}

/** An imageUpload run. */
export function prepareImageUpload(request: ImageUploadRequest): PreparedRun<ImageUploadRun> {
  const { options, params } = split(request);
  const task = { taskType: 'imageUpload', taskUUID: options.taskUUID ?? newTaskUUID(), ...params } as ImageUploadTask;
  const valid = validateTaskOf<ImageUploadTask>('imageUpload', task);
  const run = new ImageUploadRun(task);
  if (!valid.ok) run.fail(new ValidationError(valid.errors, 'imageUpload', task.taskUUID));
  return { run, timeoutMs: options.timeoutMs, signal: options.signal };
}

/** Checks a getResponse request; throws a ValidationError for a bad taskUUID. */
export function validateGetResponse(request: GetResponseRequest): GetResponseTask {
  const task: GetResponseTask = { taskType: 'getResponse', taskUUID: request.taskUUID };
  const valid = validateTaskOf<GetResponseTask>('getResponse', task);
  if (!valid.ok) throw new ValidationError(valid.errors, 'getResponse', request.taskUUID);
  return task;
}
