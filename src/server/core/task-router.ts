// The in-process task core: the in-memory admission paths behind the shared dispatcher
// (task-dispatch.ts), for the WebSocket face and the HTTP face alike (graphql-ws makeServer idea).
// Authentication and keepalive belong to the transports; everything with a taskUUID is decided here.
import type { Engine } from '../../engine/index.js';
import { cutText, encodeErrorFrame, protocolError, type CancelTask, type GetResponseTask, type ImageUploadTask, type ResolvedImageInference } from '../../protocol/index.js';
import { errorMessage } from '../logger.js';
import type { ImageStore } from '../images/store.js';
import { FairSlots, type ReleaseSlot } from './fair-slots.js';
import { dataFrame, errorsFrame } from './server-frame.js';
import type { TaskCore } from './task-core.js';
import type { UsageStore } from '../usage/usage-store.js';
import { dispatchTask, refusals, type AdmissionPaths, type NamedTask, type TaskContext } from './task-dispatch.js';
import { TaskAbort, type TaskRecord, type TaskRegistry } from './task-registry.js';
import { failureItem, runImageInference, runImageUpload, type InferenceOptions, type RunnerDeps, type TaskInputs } from './task-runner.js';

export type { TaskContext } from './task-dispatch.js';

export interface RouterDeps extends RunnerDeps {
  readonly engine: Engine;
  readonly registry: TaskRegistry;
  readonly images: ImageStore;
  /** Tasks counted and token scopes enforced here (see task-dispatch.ts). */
  readonly usage?: UsageStore | undefined;
}

export class TaskRouter implements TaskCore {
  readonly #deps: RouterDeps;
  /** The engine's slots, shared round robin between keys; a task asks for one once its inputs are in. */
  readonly #slots: FairSlots;
  /**
   * Slots for tasks with input images, from the start of their fetches until they are on the engine:
   * as many as engine slots, so the fetched inputs waiting for the engine stay bounded server-wide,
   * and shared round robin too, so a key's slow URLs hold back only its own tasks' fetches.
   */
  readonly #inputSlots: FairSlots;
  readonly #slotOptions: Pick<InferenceOptions, 'slot' | 'inputSlot'>;
  /** The in-memory admission paths of the shared dispatcher. */
  readonly #paths: AdmissionPaths<undefined>;
  #closing = false;

  constructor(deps: RouterDeps) {
    this.#deps = deps;
    this.#slots = new FairSlots(deps.limits.maxConcurrentTasks);
    this.#inputSlots = new FairSlots(deps.limits.maxConcurrentTasks);
    this.#slotOptions = { slot: (record) => this.#lease(this.#slots, record), inputSlot: (record) => this.#lease(this.#inputSlots, record) };
    this.#paths = {
      logger: deps.logger,
      usage: deps.usage,
      imageInference: (task, ctx, inputs) => this.#imageInference(task, ctx, inputs),
      imageUpload: (task, ctx) => this.#imageUpload(task, ctx),
      getResponse: (task, ctx) => this.#getResponse(task, ctx),
      cancel: (task, ctx) => this.#cancel(task, ctx),
    };
  }

  /** Tasks waiting for an engine slot (their inputs already in). */
  get queued(): number {
    return this.#slots.waiting;
  }

  /** Engine slots in use. */
  get slotsInUse(): number {
    return this.#slots.busy;
  }

  /** New tasks are refused with `serverShuttingDown` from now on (or accepted again with false). */
  setClosing(closing: boolean): void {
    this.#closing = closing;
  }

  /**
   * Validates and runs one task of a frame. Resolves when the task is answered: at its end for a
   * sync task, at its acknowledgement for an async one. Never rejects: whatever is thrown on the
   * way becomes an `internalServerError` item for the task, so a caller may `void` the promise.
   * `inputs` are an imageInference task's input images as bytes, from a face in this process.
   */
  dispatch(entry: unknown, index: number, ctx: TaskContext, inputs?: TaskInputs): Promise<void> {
    return dispatchTask(this.#paths, entry, index, ctx, inputs, undefined);
  }

  /** Admission: shutdown, conflicts and in-flight limits; the record of an admitted task. */
  #admit(task: NamedTask, ctx: TaskContext, async: boolean, check?: () => boolean): TaskRecord | undefined {
    const { registry, limits } = this.#deps;
    if (this.#closing) {
      refusals.shuttingDown(task, ctx);
      return undefined;
    }
    if (registry.get(ctx.owner, task.taskUUID) !== undefined) {
      refusals.conflict(task, ctx);
      return undefined;
    }
    if (check !== undefined && !check()) return undefined;
    if (ctx.connection.inFlight >= limits.maxInFlightPerConnection) {
      refusals.connectionInFlight(limits.maxInFlightPerConnection, task, ctx);
      return undefined;
    }
    if (registry.runningFor(ctx.owner) >= limits.maxInFlightPerKey) {
      refusals.keyInFlight(limits.maxInFlightPerKey, task, ctx);
      return undefined;
    }
    if (this.#slots.waiting >= limits.maxQueuedTasks) {
      refusals.queueFull(limits.maxQueuedTasks, task, ctx);
      return undefined;
    }
    const record = registry.create(ctx.owner, task.taskUUID, task.taskType, { async, target: ctx.target });
    if (record !== undefined) {
      ctx.connection.inFlight++;
      if (ctx.grant !== undefined) record.token = { id: ctx.grant.id, expiresAtMs: ctx.grant.expiresAtMs };
    }
    return record;
  }

  /**
   * A slot of `slots` for a task: at once when one is free and nobody waits, else in its key's turn.
   * A task cancelled while it waits leaves its line at once and the promise rejects with the abort;
   * a cancelled task keeps a slot it holds until its work returns, which it does soon, as every
   * phase watches its signal.
   */
  #lease(slots: FairSlots, record: TaskRecord): ReleaseSlot | Promise<ReleaseSlot> {
    const now = slots.tryAcquire();
    if (now !== undefined) return now;
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const cancelRun = record.onCancel;
      const ticket = slots.enqueue(record.owner, (release) => {
        record.onCancel = cancelRun;
        resolve(release);
      });
      record.onCancel = (abort) => {
        slots.withdraw(ticket);
        reject(abort);
        cancelRun?.(abort);
      };
    });
  }

  /**
   * Settles with the work's outcome, or at once with the abort when the task is cancelled in any
   * phase; the work itself then stops soon, as every phase (fetches, the engine, uploads) watches the
   * task's signal.
   */
  #work(record: TaskRecord, work: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      record.onCancel = reject;
      work().then(resolve, reject);
    });
  }

  /** Runs admitted work (which asks for an engine slot itself when it needs one) and ends the task with its outcome. */
  async #run(record: TaskRecord, ctx: TaskContext, work: () => Promise<void>, webhookURL?: string): Promise<void> {
    const { registry, logger } = this.#deps;
    try {
      await this.#work(record, work);
      registry.finish(record, 'success');
    } catch (error) {
      if (record.state !== 'running') {
        // Cancelled or shut down: the task already ended and sends nothing more on a socket. An
        // HTTP request still gets an answer, so it learns of the shutdown instead of an empty list.
        if (!ctx.target.reattachable && error instanceof TaskAbort && error.reason === 'shutdown') ctx.target.deliver(errorsFrame(record.errors ?? []));
        return;
      }
      const item = failureItem(error, record, (unexpected) => logger.error('task failed unexpectedly', { task: record.taskUUID, error: cutText(errorMessage(unexpected), 200) }));
      try {
        registry.emit(record, errorsFrame([item]));
      } finally {
        // Ended even when the answer throws (dispatch reports that), so the key's count stays right.
        registry.finish(record, 'error', [item]);
      }
      if (webhookURL !== undefined) this.#deps.webhooks.send(webhookURL, encodeErrorFrame([item]), record.owner);
    } finally {
      record.onCancel = undefined;
      ctx.connection.inFlight--;
    }
  }

  async #imageInference(task: ResolvedImageInference, ctx: TaskContext, inputs: TaskInputs | undefined): Promise<void> {
    const async = task.deliveryMethod === 'async';
    const knownModel = (): boolean => {
      if (this.#deps.engine.hasModel(task.model)) return true;
      refusals.unknownModel(task, ctx);
      return false;
    };
    const record = this.#admit(task, ctx, async, knownModel);
    if (record === undefined) return;
    // The acknowledgement goes out before any work starts, so it always comes first.
    if (async) {
      try {
        ctx.target.deliver(dataFrame({ taskType: 'imageInference', taskUUID: task.taskUUID, status: 'processing' }));
      } catch (error) {
        // Admitted but never run: ended here, so it holds no in-flight place (dispatch answers it).
        this.#deps.registry.finish(record, 'error');
        ctx.connection.inFlight--;
        throw error;
      }
    }
    const { slot, inputSlot } = this.#slotOptions;
    const options: InferenceOptions = { previews: ctx.previews, storeFinals: ctx.storeFinals !== false, slot, inputSlot, inputs };
    const done = this.#run(record, ctx, () => runImageInference(this.#deps, record, task, options), task.webhookURL);
    if (!async) return done;
    // Answered already (the acknowledgement); what is left must not become an unhandled rejection.
    done.catch(this.#lostAsyncFailure);
  }

  /** An async task's run threw past its own handling: logged, as no one awaits it. */
  readonly #lostAsyncFailure = (error: unknown): void => {
    this.#deps.logger.error('async task failed unexpectedly', { error: cutText(errorMessage(error), 200) });
  };

  async #imageUpload(task: ImageUploadTask, ctx: TaskContext): Promise<void> {
    const record = this.#admit(task, ctx, false);
    if (record === undefined) return;
    return this.#run(record, ctx, () => runImageUpload(this.#deps, record, task, this.#slotOptions.inputSlot));
  }

  #getResponse(task: GetResponseTask, ctx: TaskContext): void {
    const { registry, images } = this.#deps;
    const record = registry.get(ctx.owner, task.taskUUID);
    if (record === undefined) {
      refusals.responseNotFound(task.taskUUID, ctx);
      return;
    }
    // Re-attach: a running sync task whose session is gone (or has no socket) follows the asker.
    const current = record.target;
    if (record.state === 'running' && !record.async && ctx.target.reattachable && current !== ctx.target && current?.reachable !== true) {
      current?.forgetTask(record.taskUUID);
      record.target = ctx.target;
    }
    ctx.reply({ kind: 'data', items: registry.responseItems(record, images) });
  }

  /** Cancels a task of `ctx.owner` at once, as a `cancel` task would (its answer goes to `ctx.target`). */
  cancel(taskUUID: string, ctx: TaskContext): void {
    this.#cancel({ taskType: 'cancel', taskUUID }, ctx);
  }

  #cancel(task: CancelTask, ctx: TaskContext): void {
    const { registry } = this.#deps;
    const record = registry.get(ctx.owner, task.taskUUID);
    if (record === undefined) {
      refusals.cancelNotFound(task, ctx);
      return;
    }
    const reason = protocolError('taskCancelled', 'the task was cancelled', { taskType: record.taskType, taskUUID: record.taskUUID });
    const cancelled = registry.cancel(record, [reason], 'cancelled');
    ctx.target.deliver(dataFrame({ taskType: 'cancel', taskUUID: task.taskUUID, cancelled }));
  }
}
