// What a cluster worker does with one queue job: read the task's record, run the task with the
// in-memory server's runner on Redis-backed outputs, keep its lease and progress fresh, and end it
// as the in-memory router does. A Redis failure is thrown to the queue (the job is retried); a task
// that was cancelled or ended meanwhile is left alone.
import { createHash } from 'node:crypto';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Engine } from '../../engine/index.js';
import type { Clock } from '../../internal/clock.js';
import { cutText, encodeErrorFrame, protocolError, stringifyJson, type ProtocolErrorItem } from '../../protocol/index.js';
import { errorMessage } from '../logger.js';
import type { ServerLimits } from '../limits.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { TaskFailure } from '../task-failure.js';
import { errorsFrame } from '../core/server-frame.js';
import type { ReleaseSlot } from '../core/fair-slots.js';
import { failureItem, runImageInference, runImageUpload, type RunnerDeps } from '../core/task-runner.js';
import { isUnavailable } from './errors.js';
import { TaskRun, type RunContextDeps } from './run-context.js';
import { decodeTaskJob, TaskJobError, type JobTask, type TaskJobFields } from './task-job.js';
import type { TaskEnd } from '../observability/events.js';
import { keyIdOf } from '../observability/key-id.js';

/** What the processor of every job of a worker shares. */
export interface ProcessorDeps extends RunContextDeps {
  readonly engine: Engine;
  readonly limits: ServerLimits;
  readonly outbound: OutboundPolicy;
  readonly clock: Clock;
  /** How often a running task's progress is written (and its record checked for a cancel), ms. */
  readonly progressIntervalMs: number;
  /** The runs in progress, by {@link runKey}: the cancel channel reaches them here. */
  readonly runs: Map<string, TaskRun>;
  /** Hears each task's end (metrics and the `task ended` line); undefined: the worker logs the line itself. */
  readonly onTaskEnd?: ((end: TaskEnd) => void) | undefined;
}

/** The key of a run in {@link ProcessorDeps.runs}: the cancel channel's `<owner> <taskUUID>`. */
export function runKey(owner: string, taskUUID: string): string {
  return `${owner} ${taskUUID.toLowerCase()}`;
}

/** Slots are the queue's concurrency on a worker: a task that got a job runs at once. */
const noSlot: ReleaseSlot = () => undefined;
const immediateSlot = (): ReleaseSlot => noSlot;

/**
 * A task without a seed gets one derived from its owner and taskUUID, so a re-run makes the same
 * images (nodes fix the seed at admission; this covers a job written without one).
 */
function fixedSeed(fields: TaskJobFields): JobTask {
  const task = fields.task;
  if (task.taskType !== 'imageInference' || task.seed !== undefined) return task;
  const digest = createHash('sha256').update(`${fields.owner} ${task.taskUUID.toLowerCase()}`).digest();
  return { ...task, seed: (digest.readUInt32BE(0) % (2 ** 31 - 1)) + 1 };
}

/** The runner's deps for one run. */
function runnerDeps(deps: ProcessorDeps, run: TaskRun, publicUrl: string): RunnerDeps {
  return { engine: deps.engine, registry: run.registry, images: run.images, limits: deps.limits, logger: deps.logger, outbound: deps.outbound, publicUrl: () => publicUrl, webhooks: run.webhooks, clock: deps.clock, finals: run.finals };
}

/** Runs the task's work with the existing runner. */
async function work(deps: ProcessorDeps, run: TaskRun, fields: TaskJobFields, task: JobTask): Promise<void> {
  const runner = runnerDeps(deps, run, fields.publicUrl);
  if (task.taskType === 'imageUpload') return runImageUpload(runner, run.record, task, immediateSlot);
  if (!deps.engine.hasModel(task.model)) throw new TaskFailure('unknownModel', `model ${task.model} is not one this server can run`, { parameter: 'model', type: 'string' });
  return runImageInference(runner, run.record, task, { previews: fields.previews, storeFinals: fields.storeFinals, slot: immediateSlot, inputSlot: immediateSlot });
}

/** Writes progress every interval (a record no longer running means a cancel this worker missed) and renews the lease every third of it. */
function keepFresh(deps: ProcessorDeps, run: TaskRun): () => void {
  const { owner, taskUUID } = run.record;
  const renewEvery = Math.max(1, Math.floor(deps.tasks.leaseMs / 3 / deps.progressIntervalMs));
  let ticks = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || run.record.state !== 'running') return;
    busy = true;
    ticks++;
    const renew = ticks % renewEvery === 0 ? deps.tasks.renew(owner, taskUUID) : Promise.resolve(true);
    Promise.all([deps.tasks.progress(owner, taskUUID, run.record.progress), renew])
      .then(([running]) => {
        if (!running) run.abort('cancelled');
      })
      // Redis away: the next tick tries again; the writes of the run itself decide the job's fate.
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, deps.progressIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The worker's `task ended` line (the in-memory server's, without the fields only a node sees:
 * the preview timing and the bytes that went out on its sockets).
 */
function logEnd(deps: ProcessorDeps, run: TaskRun, startedAt: number, outcome: 'success' | 'error' | 'cancelled', errorCode?: string): void {
  const { record } = run;
  const end: TaskEnd = {
    taskUUID: record.taskUUID,
    taskType: record.taskType,
    outcome,
    errorCode,
    keyId: keyIdOf(record.owner),
    durationMs: Math.round(performance.now() - startedAt),
    firstPreviewMs: undefined,
    images: record.results.length,
    bytesOut: 0,
  };
  if (deps.onTaskEnd !== undefined) {
    deps.onTaskEnd(end);
    return;
  }
  const { firstPreviewMs: _preview, bytesOut: _bytes, ...fields } = end;
  deps.logger.info('task ended', fields);
}

/** Ends a task whose work threw (not a Redis failure, not a cancel) with the in-memory router's error item. */
async function fail(deps: ProcessorDeps, run: TaskRun, task: JobTask, error: unknown, startedAt: number): Promise<void> {
  const { record } = run;
  const item: ProtocolErrorItem = failureItem(error, record, (unexpected) => deps.logger.error('task failed unexpectedly', { task: record.taskUUID, error: cutText(errorMessage(unexpected), 200) }));
  await deps.tasks.finish(record.owner, record.taskUUID, 'error', { errors: stringifyJson([item]), frame: errorsFrame([item]) });
  logEnd(deps, run, startedAt, 'error', item.code);
  if (task.taskType === 'imageInference' && task.webhookURL !== undefined) deps.webhooks.send(task.webhookURL, encodeErrorFrame([item]), record.owner);
}

/**
 * Processes one job. Resolves when the task ended (or was found ended); rejects with the Redis
 * failure when Redis was away, so BullMQ retries the job; a worker leaving puts the job back.
 */
export async function processTaskJob(deps: ProcessorDeps, job: Job, token: string | undefined): Promise<void> {
  const fields = decodeJob(job);
  const task = fixedSeed(fields);
  const key = runKey(fields.owner, task.taskUUID);
  if (deps.runs.has(key)) return;
  const run = new TaskRun(deps, fields.owner, task.taskUUID, task.taskType, task.taskType === 'imageInference' && task.deliveryMethod === 'async', fields.token);
  // A cancel published from now on reaches the run at once; one published before is seen by the
  // record check below (or the first progress write), which finds the record no longer running.
  deps.runs.set(key, run);
  const stopFresh = keepFresh(deps, run);
  const checked = checkRecord(deps, run);
  try {
    await run.loadInputs(task);
    await finishRun(deps, run, task, fields, checked);
  } catch (error) {
    if (run.shutdown) await leave(job, token);
    if (run.failure !== undefined) throw run.failure.error;
    throw error;
  } finally {
    stopFresh();
    deps.runs.delete(key);
  }
}

/**
 * Reads the task's record while the work starts (a round trip less before the engine runs): a task
 * not running (cancelled or ended before this job, or never admitted) is stopped at once. Its
 * writes would be refused anyway, as every script that records a result checks the record. Resolves
 * with the read's failure (Redis away), which the job then throws.
 */
function checkRecord(deps: ProcessorDeps, run: TaskRun): Promise<{ readonly error: unknown } | undefined> {
  const { owner, taskUUID } = run.record;
  return deps.tasks.get(owner, taskUUID).then(
    (stored) => {
      if (stored === undefined || stored.state !== 'running') run.abort('cancelled');
      return undefined;
    },
    (error: unknown) => {
      run.abort('cancelled', error);
      return { error };
    },
  );
}

/** Runs the work and records its end; Redis failures and a worker leaving are thrown. */
async function finishRun(deps: ProcessorDeps, run: TaskRun, task: JobTask, fields: TaskJobFields, checked: Promise<{ readonly error: unknown } | undefined>): Promise<void> {
  const startedAt = performance.now();
  let outcome: { readonly ok: true } | { readonly ok: false; readonly error: unknown };
  try {
    await work(deps, run, fields, task);
    outcome = { ok: true };
  } catch (error) {
    outcome = { ok: false, error };
  }
  // Every final the work made is written (or the Redis failure thrown) before the end is recorded.
  const unread = await checked;
  if (unread !== undefined) throw unread.error;
  await run.settled();
  if (run.shutdown) throw new Error('the worker is leaving');
  if (run.record.state !== 'running') {
    logEnd(deps, run, startedAt, 'cancelled');
    return;
  }
  if (outcome.ok) {
    await deps.tasks.finish(run.record.owner, run.record.taskUUID, 'success');
    logEnd(deps, run, startedAt, 'success');
    return;
  }
  if (isUnavailable(outcome.error)) throw outcome.error;
  await fail(deps, run, task, outcome.error, startedAt);
}

/** Puts the job back to wait for another worker (not counted as a failed attempt). */
async function leave(job: Job, token: string | undefined): Promise<never> {
  try {
    await job.moveToWait(token);
  } catch {
    // Redis away or the lock lost: the job stalls and the stalled check hands it to another worker.
  }
  throw new WaitingError();
}

/** The job's task; data no node wrote is not retried. */
function decodeJob(job: Job): TaskJobFields {
  try {
    return decodeTaskJob(job.data);
  } catch (error) {
    if (error instanceof TaskJobError) throw new UnrecoverableError(error.message);
    throw error;
  }
}

/**
 * A job the queue gave up on (its last attempt failed, each time because Redis was away): the
 * task ends with `internalServerError` if Redis takes it now, so it neither stays running nor
 * leaves its client waiting. Best effort: logged when even that fails.
 */
export async function giveUp(deps: ProcessorDeps, job: Job): Promise<void> {
  if (job.attemptsMade < (job.opts.attempts ?? 1)) return;
  let fields: TaskJobFields;
  try {
    fields = decodeTaskJob(job.data);
  } catch {
    return;
  }
  const { owner, task } = fields;
  const item = protocolError('internalServerError', 'the server could not run this task', { taskType: task.taskType, taskUUID: task.taskUUID });
  try {
    await deps.tasks.finish(owner, task.taskUUID, 'error', { errors: stringifyJson([item]), frame: errorsFrame([item]) });
  } catch (error) {
    deps.logger.error('a task the queue gave up on could not be ended', { task: task.taskUUID, error: cutText(errorMessage(error), 200) });
  }
}
