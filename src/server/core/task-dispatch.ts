// The one dispatcher of both task cores: validates each task of a frame, answers what needs no
// admission (ping, a second authentication, enableExtensions over HTTP), checks a session token's
// scope, rate and budget before any work, refuses in one wording, and hands the rest to an admission
// path (in memory, or in Redis for a cluster node).
import {
  cutText,
  errorBounds,
  isRecord,
  normalizeImageInference,
  protocolError,
  validateTask,
  type CancelTask,
  type ErrorCode,
  type GetResponseTask,
  type ImageUploadTask,
  type ProtocolErrorItem,
  type ResolvedImageInference,
} from '../../protocol/index.js';
import { errorMessage, type Logger } from '../logger.js';
import type { OutputTarget } from './output-target.js';
import { dataFrame, errorsFrame, type ServerFrame } from './server-frame.js';
import type { TaskInputs } from './task-runner.js';
import type { TokenGrant } from '../usage/token-scope.js';
import { gateTask, type GatedTask } from '../usage/task-gate.js';
import type { UsageStore } from '../usage/usage-store.js';

/** One connection's view of the task core: who asks, and where answers go. */
export interface TaskContext {
  /** The key digest that owns the tasks. */
  readonly owner: string;
  /** Where task outputs go (a session, or an HTTP request's collector). */
  readonly target: OutputTarget;
  /** Direct answers that are not task outputs (getResponse answers, frame-level errors). */
  reply(frame: ServerFrame): void;
  /** Tasks of this connection still running; the task core counts them. */
  readonly connection: { inFlight: number };
  /** True when this transport can deliver previews (WebSocket). */
  readonly previews: boolean;
  /** False when finals must stay out of the image store (the imagine endpoint keeps its image itself). */
  readonly storeFinals?: boolean;
  /** The id and scope of the session token the tasks came with (none for an API key, or a token of before scopes). */
  readonly grant?: TokenGrant | undefined;
}

/**
 * How a task core admits and answers validated tasks. `call` is whatever the core passes along
 * with one dispatch (the cluster's "admitted" signal; nothing in memory). A path may return a
 * promise; what it throws (or rejects with) becomes the task's failure answer.
 */
export interface AdmissionPaths<Call> {
  readonly logger: Logger;
  /** Where tasks are counted and a token's rate and budget enforced; none: nothing is counted. */
  readonly usage?: UsageStore | undefined;
  /** True when `error` means shared state is out of reach: the task is refused with the retryable `serviceUnavailable`, answered directly. */
  isUnavailable?(error: unknown): boolean;
  imageInference(task: ResolvedImageInference, ctx: TaskContext, inputs: TaskInputs | undefined, call: Call): Promise<void> | void;
  imageUpload(task: ImageUploadTask, ctx: TaskContext, call: Call): Promise<void> | void;
  getResponse(task: GetResponseTask, ctx: TaskContext): Promise<void> | void;
  cancel(task: CancelTask, ctx: TaskContext): Promise<void> | void;
}

/**
 * Validates and dispatches one task of a frame. Resolves when the path resolves (at the task's end
 * for a sync task, at its acknowledgement for an async one). Never rejects: whatever is thrown on the
 * way becomes an error item for the task, so a caller may `void` the promise.
 */
export async function dispatchTask<Call>(paths: AdmissionPaths<Call>, entry: unknown, index: number, ctx: TaskContext, inputs: TaskInputs | undefined, call: Call): Promise<void> {
  // A try around awaits costs nothing until something throws: the hot path allocates no handler.
  try {
    const result = validateTask(entry, index);
    if (!result.ok) {
      refuse(result.errors, ctx);
      return;
    }
    const task = result.task;
    switch (task.taskType) {
      case 'authentication':
        ctx.reply(errorsFrame([protocolError('alreadyAuthenticated', 'this connection is already authenticated; open a new one to use another key or session', { taskType: 'authentication' })]));
        return;
      case 'ping':
        ctx.reply(dataFrame({ taskType: 'ping', pong: true }));
        return;
      case 'imageInference': {
        const resolved = normalizeImageInference(task);
        // No await unless the gate needs one: a task is admitted in the turn it arrived in (in memory).
        const pass = gated(paths, resolved, ctx);
        if (pass === true || (pass !== false && (await pass))) await paths.imageInference(resolved, ctx, inputs, call);
        return;
      }
      case 'imageUpload': {
        const pass = gated(paths, task, ctx);
        if (pass === true || (pass !== false && (await pass))) await paths.imageUpload(task, ctx, call);
        return;
      }
      case 'getResponse':
        await paths.getResponse(task, ctx);
        return;
      case 'cancel':
        await paths.cancel(task, ctx);
        return;
      case 'enableExtensions':
        // A WebSocket session handles it before the task core; only the HTTP face gets here.
        ctx.reply(errorsFrame([protocolError('webSocketOnly', 'enableExtensions sets the extensions of a WebSocket session; an HTTP request has none', { parameter: 'taskType', type: 'string', taskType: 'enableExtensions' })]));
        return;
    }
  } catch (error) {
    reportFailure(paths, error, entry, ctx);
  }
}

/** True when the task may go on to admission; else it was refused (outside its token's scope, rate or budget). */
function gated(paths: Pick<AdmissionPaths<unknown>, 'usage' | 'logger'>, task: GatedTask, ctx: TaskContext): boolean | Promise<boolean> {
  const { usage, logger } = paths;
  if (usage === undefined) return true;
  if (ctx.grant === undefined) {
    // An API key's task has nothing to enforce: counted beside it, so it waits for no round trip.
    const counted = usage.admit(ctx.owner, undefined);
    if (counted instanceof Promise) counted.catch((error: unknown) => logger.warn('usage not counted', { task: task.taskUUID, error: cutText(errorMessage(error), 200) }));
    return true;
  }
  const settle = (refusal: ProtocolErrorItem | undefined): boolean => {
    if (refusal === undefined) return true;
    refuse([refusal], ctx);
    return false;
  };
  const refusal = gateTask(usage, ctx.owner, ctx.grant, task);
  return refusal instanceof Promise ? refusal.then(settle) : settle(refusal);
}

/**
 * Answers a task whose handling threw: `serviceUnavailable` (retryable, straight to the asker: the
 * target may live in the unreachable state too) or `internalServerError` (to the target when the
 * task has a taskUUID). The log line names the task and the error, never the entry, which may hold
 * an API key; an answer that throws too is only logged.
 */
export function reportFailure(paths: Pick<AdmissionPaths<unknown>, 'logger' | 'isUnavailable'>, error: unknown, entry: unknown, ctx: TaskContext): void {
  const fields = isRecord(entry) ? entry : {};
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? cutText(value, errorBounds.maxFieldLength) : undefined);
  const taskType = text(fields.taskType);
  const taskUUID = text(fields.taskUUID);
  const reason = cutText(errorMessage(error), 200);
  try {
    if (paths.isUnavailable?.(error) === true) {
      paths.logger.warn('task refused: shared state unavailable', { taskType, task: taskUUID, error: reason });
      ctx.reply(errorsFrame([protocolError('serviceUnavailable', 'the server cannot reach its shared state right now; the task was not accepted, send it again shortly', { taskType, taskUUID })]));
      return;
    }
    paths.logger.error('task handling failed unexpectedly', { taskType, task: taskUUID, error: reason });
    const item = protocolError('internalServerError', 'the server failed to handle this task', { taskType, taskUUID });
    if (taskUUID !== undefined) ctx.target.deliver(errorsFrame([item]));
    else ctx.reply(errorsFrame([item]));
  } catch (failed) {
    paths.logger.error('answering a failed task failed too', { task: taskUUID, error: cutText(errorMessage(failed), 200) });
  }
}

/** Errors about a task go to its target (held and sequenced); frame-level ones are replies. */
export function refuse(errors: readonly ProtocolErrorItem[], ctx: TaskContext): void {
  if (errors[0]?.taskUUID !== undefined) ctx.target.deliver(errorsFrame(errors));
  else ctx.reply(errorsFrame(errors));
}

/** A task, as far as a refusal names it. */
export interface NamedTask {
  readonly taskType: string;
  readonly taskUUID: string;
}

/** Refuses one task with `code`; `parameter` names the field at fault. */
export function refuseTask(code: ErrorCode, message: string, task: NamedTask, ctx: TaskContext, parameter?: string): void {
  const type = parameter === undefined ? undefined : 'string';
  refuse([protocolError(code, message, { parameter, type, taskType: task.taskType, taskUUID: task.taskUUID })], ctx);
}

/** The refusals both task cores make, in one wording. */
export const refusals = {
  shuttingDown: (task: NamedTask, ctx: TaskContext): void => refuseTask('serverShuttingDown', 'the server is shutting down and takes no new tasks', task, ctx),
  conflict: (task: NamedTask, ctx: TaskContext): void => refuseTask('conflictTaskUUID', `taskUUID ${task.taskUUID} is already used by another task`, task, ctx, 'taskUUID'),
  unknownModel: (task: NamedTask & { readonly model: string }, ctx: TaskContext): void => refuseTask('unknownModel', `model ${task.model} is not one this server can run`, task, ctx, 'model'),
  connectionInFlight: (limit: number, task: NamedTask, ctx: TaskContext): void =>
    refuseTask('tooManyTasksInFlight', `this connection already has ${limit} tasks in flight (limits.maxInFlightPerConnection)`, task, ctx),
  keyInFlight: (limit: number, task: NamedTask, ctx: TaskContext): void => refuseTask('tooManyTasksInFlight', `this API key already has ${limit} tasks in flight (limits.maxInFlightPerKey)`, task, ctx),
  queueFull: (limit: number, task: NamedTask, ctx: TaskContext): void => refuseTask('queueFull', `the server queue holds ${limit} tasks (limits.maxQueuedTasks)`, task, ctx),
  /** A cancel of an unknown task (to the target, as the cancel's answer would go). */
  cancelNotFound: (task: NamedTask, ctx: TaskContext): void => refuseTask('taskNotFound', `no task ${task.taskUUID} is known for this API key`, task, ctx, 'taskUUID'),
  /** A getResponse of an unknown task (a direct answer). */
  responseNotFound: (taskUUID: string, ctx: TaskContext): void =>
    ctx.reply(errorsFrame([protocolError('taskNotFound', `no task ${taskUUID} is known for this API key`, { parameter: 'taskUUID', type: 'string', taskType: 'getResponse', taskUUID })])),
};
