// Builds a task run from a request, checked by the client's validator (if it has one) before
// anything is sent: a bad request ends at once with a ValidationError naming the parameter.
import { newTaskUUID } from '../../protocol/task-uuid.js';
import type { GetResponseTask, ImageInferenceTask, ImageUploadTask } from '../../protocol/index.js';
import { ImageInferenceRun } from './image-inference-run.js';
import { ImageUploadRun } from './image-upload-run.js';
import { refusal, type RequestValidator } from './request-validator.js';
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
export function prepareImageInference(request: ImageInferenceRequest, validate: RequestValidator | undefined): PreparedRun<ImageInferenceRun> {
  const { options, params } = split(request);
  const task = { taskType: 'imageInference', taskUUID: options.taskUUID ?? newTaskUUID(), outputType: 'base64Data', ...params } as ImageInferenceTask;
  const refused = refusal(validate, task);
  const run = new ImageInferenceRun(task);
  if (refused !== undefined) run.fail(refused);
  return { run, timeoutMs: options.timeoutMs, signal: options.signal };
}

/** An imageUpload run. */
export function prepareImageUpload(request: ImageUploadRequest, validate: RequestValidator | undefined): PreparedRun<ImageUploadRun> {
  const { options, params } = split(request);
  const task = { taskType: 'imageUpload', taskUUID: options.taskUUID ?? newTaskUUID(), ...params } as ImageUploadTask;
  const refused = refusal(validate, task);
  const run = new ImageUploadRun(task);
  if (refused !== undefined) run.fail(refused);
  return { run, timeoutMs: options.timeoutMs, signal: options.signal };
}

/** Checks a getResponse request; throws a ValidationError for a bad taskUUID. */
export function validateGetResponse(request: GetResponseRequest, validate: RequestValidator | undefined): GetResponseTask {
  const task: GetResponseTask = { taskType: 'getResponse', taskUUID: request.taskUUID };
  const refused = refusal(validate, task);
  if (refused !== undefined) throw refused;
  return task;
}
