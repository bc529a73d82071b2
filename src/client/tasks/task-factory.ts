// Builds a task run from a request, validated locally with the shared protocol module before
// anything is sent: a bad request ends at once with a ValidationError naming the parameter.
import { newTaskUUID, validateTaskOf, type GetResponseTask, type ImageInferenceTask, type ImageUploadTask } from '../../protocol/index.js';
import { ValidationError } from '../errors.js';
import { ImageInferenceRun } from './image-inference-run.js';
import { ImageUploadRun } from './image-upload-run.js';
import type { GetResponseRequest, ImageInferenceRequest, ImageUploadRequest, TaskOptions } from './requests.js';

/** A run plus the per-task options that travel beside it, not on the wire. */
export interface PreparedRun<R> {
  readonly run: R;
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
}

/** The per-task options of a request; they travel beside the task, never on the wire. */
const taskOptionKeys = new Set(['signal', 'timeoutMs', 'taskUUID']);

/**
 * The wire parameters of a request: every field but the task options, without undefined ones,
 * so that `{seed: undefined}` means "not given", as on the wire.
 */
function split<T extends TaskOptions>(request: T): { options: TaskOptions; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {};
  for (const key in request) {
    if (!Object.hasOwn(request, key) || taskOptionKeys.has(key)) continue;
    const value: unknown = request[key];
    if (value !== undefined) params[key] = value;
  }
  return { options: { signal: request.signal, timeoutMs: request.timeoutMs, taskUUID: request.taskUUID }, params };
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
