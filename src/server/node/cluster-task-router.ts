// The Redis admission paths of a cluster node behind the shared dispatcher (task-dispatch.ts): admits
// in Redis (conflicts and the per-key bound across nodes), fixes the seed and queues the task for any
// worker; answers getResponse and cancel from the shared records. Redis being away is a typed,
// retryable `serviceUnavailable`.
import { randomUUID } from 'node:crypto';
import type { Engine } from '../../engine/index.js';
import { cutText, protocolError, stringifyJson, type CancelTask, type GetResponseTask, type ResolvedImageInference } from '../../protocol/index.js';
import { sniffImageFormat } from '../../internal/bytes.js';
import { isUnavailable } from '../cluster/errors.js';
import type { RedisImageStore } from '../cluster/image-store.js';
import type { SessionLog } from '../cluster/session-log.js';
import type { UsageStore } from '../usage/usage-store.js';
import { encodeTaskJob, type JobTask, type TaskJob } from '../cluster/task-job.js';
import type { TaskStore } from '../cluster/task-store.js';
import type { ServerLimits } from '../limits.js';
import { errorMessage, type Logger } from '../logger.js';
import { dataFrame } from '../core/server-frame.js';
import type { TaskCore } from '../core/task-core.js';
import { dispatchTask, refusals, reportFailure, type AdmissionPaths, type TaskContext } from '../core/task-dispatch.js';
import { randomSeed, type TaskInputs } from '../core/task-runner.js';
import { ClusterSession } from './cluster-session.js';
import { responseItems } from './responses.js';
import type { TaskWatch } from './task-watch.js';
import type { TransientTargets } from './transient-target.js';

/** Where accepted tasks go: the cluster's queue. */
export interface JobQueue {
  enqueue(job: TaskJob): Promise<void>;
}

/** What the cluster router needs from its node. */
export interface ClusterRouterDeps {
  readonly tasks: TaskStore;
  readonly log: SessionLog;
  readonly images: RedisImageStore;
  readonly queue: JobQueue;
  readonly watch: TaskWatch;
  readonly transients: TransientTargets;
  /** Checks model names at admission when the node knows its engine; undefined: the worker does. */
  readonly engine: Engine | undefined;
  readonly limits: ServerLimits;
  readonly logger: Logger;
  /** Tasks counted and token scopes enforced, cluster-wide (see task-dispatch.ts). */
  readonly usage?: UsageStore | undefined;
  publicUrl(): string;
}

/** An accepted task on its way into the queue. */
interface Admission {
  readonly task: JobTask;
  readonly async: boolean;
  readonly session: ClusterSession;
  /** Finals expected (an upload answers once). */
  readonly finals: number;
  readonly ended?: () => void;
}

/** Every task of a cluster node. */
export class ClusterTaskRouter implements TaskCore {
  readonly #deps: ClusterRouterDeps;
  /**
   * Per connection, the admission of its latest task: each task waits for the one before it to be
   * admitted (not to end), so a getResponse or cancel pipelined behind a task sees it, as in memory.
   */
  readonly #admissions = new WeakMap<object, Promise<void>>();
  /** Admissions between TaskStore.admit and the queue: the node's connections stay open until they settle. */
  readonly #inFlight = new Set<Promise<void>>();
  /** The Redis admission paths of the shared dispatcher; `admitted` lets the connection's next task go. */
  readonly #paths: AdmissionPaths<() => void>;
  #closing = false;

  constructor(deps: ClusterRouterDeps) {
    this.#deps = deps;
    this.#paths = {
      logger: deps.logger,
      usage: deps.usage,
      isUnavailable,
      imageInference: (task, ctx, inputs, admitted) => this.#accept(task, ctx, inputs, admitted),
      imageUpload: (task, ctx, admitted) => this.#accept(task, ctx, undefined, admitted),
      getResponse: (task, ctx) => this.#getResponse(task, ctx),
      cancel: (task, ctx) => this.#cancel(task, ctx),
    };
  }

  /** Waiting work is the queue's, on Redis: this node holds none. */
  get queued(): number {
    return 0;
  }

  setClosing(closing: boolean): void {
    this.#closing = closing;
  }

  /**
   * Stops admitting and waits (at most `timeoutMs`) for the admissions already under way to be
   * queued or taken back, so a node that closes its Redis connections next never leaves a running
   * record without a job.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#closing = true;
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await Promise.race([Promise.allSettled([...this.#inFlight]), bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Counts an admission in {@link drain} from the moment it passed the closing check: the returned
   * function (idempotent) ends it once the task is queued, taken back or refused.
   */
  #hold(): () => void {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    this.#inFlight.add(held);
    return () => {
      this.#inFlight.delete(held);
      release();
    };
  }

  async dispatch(entry: unknown, index: number, ctx: TaskContext, inputs?: TaskInputs): Promise<void> {
    const previous = this.#admissions.get(ctx.connection);
    let admitted = (): void => undefined;
    const mine = new Promise<void>((resolve) => (admitted = resolve));
    this.#admissions.set(ctx.connection, mine);
    try {
      if (previous !== undefined) await previous;
      await dispatchTask(this.#paths, entry, index, ctx, inputs, admitted);
    } finally {
      admitted();
      if (this.#admissions.get(ctx.connection) === mine) this.#admissions.delete(ctx.connection);
    }
  }

  /** The checks this node makes alone: shutdown, the model, the connection's bound. */
  #locallyRefused(task: JobTask, ctx: TaskContext): boolean {
    const { limits, engine } = this.#deps;
    if (this.#closing) {
      // A WebSocket session outlives this node: its socket is already closing, the client resumes on
      // another node, finds the task unknown there and sends it again. A refusal would be held and
      // replayed to it, failing a task that a rolling restart need not fail.
      if (!(ctx.target instanceof ClusterSession)) refusals.shuttingDown(task, ctx);
      return true;
    }
    if (task.taskType === 'imageInference' && engine !== undefined && !engine.hasModel(task.model)) {
      refusals.unknownModel(task, ctx);
      return true;
    }
    if (ctx.connection.inFlight >= limits.maxInFlightPerConnection) {
      refusals.connectionInFlight(limits.maxInFlightPerConnection, task, ctx);
      return true;
    }
    return false;
  }

  /** Accepts a task: a WebSocket session is its target; an HTTP request gets a transient one, read until the task ends. */
  async #accept(task: JobTask, ctx: TaskContext, inputs: TaskInputs | undefined, admitted: () => void): Promise<void> {
    if (this.#locallyRefused(task, ctx)) return;
    const release = this.#hold();
    try {
      await this.#acceptHeld(task, ctx, inputs, admitted, release);
    } finally {
      release();
    }
  }

  /** The rest of {@link #accept}, counted in the drain; `release` ends that count once admitted. */
  async #acceptHeld(task: JobTask, ctx: TaskContext, inputs: TaskInputs | undefined, admitted: () => void, release: () => void): Promise<void> {
    const prepared = await this.#prepare(task, ctx.owner, inputs);
    const async = prepared.taskType === 'imageInference' && prepared.deliveryMethod === 'async';
    const finals = prepared.taskType === 'imageInference' ? prepared.numberResults : 1;
    if (ctx.target instanceof ClusterSession) {
      await this.#admit(ctx, { task: prepared, async, session: ctx.target, finals });
      return;
    }
    if (async) {
      // Nothing of an async task goes to its target after the acknowledgement: no session needed.
      await this.#admitAsyncDirect(ctx, prepared);
      return;
    }
    await this.#deps.transients.run(ctx, async (session, ended) => {
      try {
        return await this.#admit({ ...ctx, target: session }, { task: prepared, async, session, finals, ended }, ctx);
      } finally {
        // The request's next task (and a closing node) need not wait for this one's end.
        release();
        admitted();
      }
    });
  }

  /**
   * The task as a worker gets it: its seed fixed (a re-run after a worker crash makes the same
   * images), and input image bytes a face handed over stored by imageUUID (a job carries no bytes).
   */
  async #prepare(task: JobTask, owner: string, inputs: TaskInputs | undefined): Promise<JobTask> {
    if (task.taskType !== 'imageInference') return task;
    const fixed: ResolvedImageInference = { ...task, seed: task.seed ?? randomSeed() };
    const bytes = inputs?.seedImage;
    const format = bytes === undefined ? undefined : sniffImageFormat(bytes);
    if (bytes === undefined || format === undefined) return fixed;
    const uuid = randomUUID();
    await this.#deps.images.put(uuid, bytes, format, owner);
    return { ...fixed, seedImage: uuid };
  }

  /** Admission in Redis, then (async) the acknowledgement in the session's log, then the queue. */
  async #admit(ctx: TaskContext, admission: Admission, refuseTo: TaskContext = ctx): Promise<boolean> {
    const { tasks, limits, watch } = this.#deps;
    const { task, async, session } = admission;
    const job = this.#jobOf(ctx, task);
    const admitted = await tasks.admit(ctx.owner, task.taskUUID, task.taskType, { async, target: session.uuid, expected: expectedResults(task), job });
    if (admitted.kind === 'conflict') {
      refusals.conflict(task, refuseTo);
      return false;
    }
    if (admitted.kind === 'tooManyInFlight') {
      refusals.keyInFlight(limits.maxInFlightPerKey, task, refuseTo);
      return false;
    }
    // Queued before the acknowledgement: a client never hears `processing` of a task taken back.
    await this.#enqueueOrTakeBack(ctx, job);
    if (async) await this.#deps.log.append(session.uuid, ctx.owner, dataFrame({ taskType: 'imageInference', taskUUID: task.taskUUID, status: 'processing' }));
    watch.add({ owner: ctx.owner, taskUUID: task.taskUUID, session: async ? undefined : session, connection: ctx.connection, remaining: admission.finals, ended: admission.ended });
    if (async) session.wake();
    return true;
  }

  /** An async task over HTTP: admitted without a target, acknowledged straight to the request. */
  async #admitAsyncDirect(ctx: TaskContext, task: JobTask): Promise<void> {
    const { tasks, limits, watch } = this.#deps;
    const job = this.#jobOf(ctx, task);
    const admitted = await tasks.admit(ctx.owner, task.taskUUID, task.taskType, { async: true, target: '', expected: expectedResults(task), job });
    if (admitted.kind === 'conflict') {
      refusals.conflict(task, ctx);
      return;
    }
    if (admitted.kind === 'tooManyInFlight') {
      refusals.keyInFlight(limits.maxInFlightPerKey, task, ctx);
      return;
    }
    await this.#enqueueOrTakeBack(ctx, job);
    ctx.target.deliver(dataFrame({ taskType: 'imageInference', taskUUID: task.taskUUID, status: 'processing' }));
    watch.add({ owner: ctx.owner, taskUUID: task.taskUUID, session: undefined, connection: ctx.connection, remaining: 1, ended: undefined });
  }

  /**
   * Queues an admitted task. When the queue fails, the admission is taken back (record and
   * in-flight place deleted) and the failure rethrown, so the client's `serviceUnavailable` means
   * what it says: not accepted, getResponse answers taskNotFound, and the same taskUUID can be sent
   * again. Ending the record with an error instead would make that resend a conflictTaskUUID.
   * Nothing is lost: a result recorded meanwhile (the add landed after its timeout and a worker ran
   * it) keeps the record, and the task counts as accepted. When Redis cannot even take the
   * admission back, the orphan sweep queues the job kept with the record once the grace passed.
   */
  async #enqueueOrTakeBack(ctx: TaskContext, job: TaskJob): Promise<void> {
    try {
      await this.#deps.queue.enqueue(job);
    } catch (error) {
      let withdrawn: boolean;
      try {
        withdrawn = await this.#deps.tasks.withdraw(ctx.owner, job.taskUUID);
      } catch (failed) {
        this.#deps.logger.warn('an admission could not be taken back; the orphan sweep queues it', { task: job.taskUUID, error: cutText(errorMessage(failed), 200) });
        throw error;
      }
      if (withdrawn) throw error;
      this.#deps.logger.warn('a task whose queueing failed has results already: kept as accepted', { task: job.taskUUID });
    }
  }

  #jobOf(ctx: TaskContext, task: JobTask): TaskJob {
    const token = ctx.grant === undefined ? undefined : { id: ctx.grant.id, expiresAtMs: ctx.grant.expiresAtMs };
    return encodeTaskJob({ owner: ctx.owner, task, previews: ctx.previews, storeFinals: ctx.storeFinals !== false, publicUrl: this.#deps.publicUrl(), token });
  }

  async #getResponse(task: GetResponseTask, ctx: TaskContext): Promise<void> {
    const { tasks, log, images, watch } = this.#deps;
    const stored = await tasks.get(ctx.owner, task.taskUUID);
    if (stored === undefined) {
      refusals.responseNotFound(task.taskUUID, ctx);
      return;
    }
    // Re-attach: a running sync task whose session has no socket (or is gone) follows the asker.
    const here = ctx.target;
    if (stored.state === 'running' && !stored.async && here instanceof ClusterSession && stored.target !== here.uuid) {
      const current = stored.target === '' ? undefined : await log.info(stored.target);
      if ((current === undefined || current.node === '') && (await tasks.retarget(ctx.owner, task.taskUUID, here.uuid))) watch.retarget(ctx.owner, task.taskUUID, here);
    }
    ctx.reply({ kind: 'data', items: await responseItems(stored, images) });
  }

  /** Cancels a task of `ctx.owner` at once, as a `cancel` task would (its answer goes to `ctx.target`). */
  cancel(taskUUID: string, ctx: TaskContext): void {
    this.#cancel({ taskType: 'cancel', taskUUID }, ctx).catch((error: unknown) => reportFailure(this.#paths, error, { taskType: 'cancel', taskUUID }, ctx));
  }

  async #cancel(task: CancelTask, ctx: TaskContext): Promise<void> {
    const { tasks, watch } = this.#deps;
    const stored = await tasks.get(ctx.owner, task.taskUUID);
    if (stored === undefined) {
      refusals.cancelNotFound(task, ctx);
      return;
    }
    const reason = protocolError('taskCancelled', 'the task was cancelled', { taskType: stored.taskType, taskUUID: task.taskUUID });
    // The workers hear it on the cancel channel; the record refuses every later result.
    const cancelled = await tasks.cancel(ctx.owner, task.taskUUID, { errors: stringifyJson([reason]) });
    if (cancelled) watch.end(ctx.owner, task.taskUUID);
    ctx.target.deliver(dataFrame({ taskType: 'cancel', taskUUID: task.taskUUID, cancelled }));
  }
}

/** How many results a task makes: getResponse answers a task with all of them in as ended. */
function expectedResults(task: JobTask): number {
  return task.taskType === 'imageInference' ? task.numberResults : 1;
}
