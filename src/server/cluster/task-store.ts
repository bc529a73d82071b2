// Task records in Redis, so any node answers getResponse and conflictTaskUUID and the per-key
// in-flight bound holds across nodes; a worker's results are recorded once per index.
import type { Redis } from 'ioredis';
import type { ServerLimits } from '../limits.js';
import type { ServerFrame } from '../core/server-frame.js';
import type { TaskRecordState } from '../core/task-registry.js';
import { guarded, RedisReplyError } from './errors.js';
import { encodeFrame } from './frame-codec.js';
import { appendResult, type AppendResult, type SessionLog } from './session-log.js';
import { defineScripts, list, num, str, type ScriptArg } from './scripts.js';
import type { TaskJob } from './task-job.js';
import { TASK_ADMIT, TASK_EMIT_FINAL, TASK_FINISH, TASK_ORPHANS, TASK_PROGRESS, TASK_RENEW, TASK_RETARGET, TASK_WITHDRAW } from './task-scripts.js';

/** The bounds the task store enforces. */
export type TaskStoreLimits = Pick<ServerLimits, 'maxInFlightPerKey' | 'maxTaskRecords' | 'maxTaskRecordsPerKey'>;

/** Options of {@link TaskStore}. */
export interface TaskStoreOptions {
  readonly redis: Redis;
  /** The session log results are appended to (its prefix and bounds are used). */
  readonly sessions: SessionLog;
  readonly limits: TaskStoreLimits;
  /** How long a finished record is kept for getResponse and conflict checks, ms. @default 600_000 */
  readonly retentionMs?: number;
  /**
   * A running task's lease, ms: the worker running it renews it every third of this; once it
   * lapses (no worker runs the task) the orphan sweep looks whether its queue job is still there.
   * It also bounds how long a task counts in its key's in-flight bound when no node sweeps.
   * @default 10_000
   */
  readonly leaseMs?: number;
  /**
   * How long after admission the orphan sweep first looks for a task's queue job, ms: a healthy
   * node has queued it (or taken the admission back) well within this; past it, a missing job
   * means the node died in between, and the task is queued again. @default 5_000
   */
  readonly orphanGraceMs?: number;
}

/** What the orphan sweep found for one task: queue it again (its job data), or end it as lost. */
export type OrphanVerdict = { readonly kind: 'requeue'; readonly owner: string; readonly taskUUID: string; readonly job: string } | { readonly kind: 'lost'; readonly owner: string; readonly taskUUID: string };

/** What {@link TaskStore.admit} decided. */
export type AdmitResult = { readonly kind: 'admitted' } | { readonly kind: 'conflict' } | { readonly kind: 'tooManyInFlight'; readonly inFlight: number };

/**
 * What {@link TaskStore.emitFinal} did: `duplicate` when this index was recorded before (a re-run),
 * `notRunning` after the end or a cancel, `noImage` when the image it was told to require is not stored.
 */
export type EmitResult = { readonly kind: 'notRunning' } | { readonly kind: 'noImage' } | { readonly kind: 'duplicate' } | { readonly kind: 'stored' } | AppendResult;

/** A task record as getResponse reads it. */
export interface StoredTask {
  readonly owner: string;
  readonly taskUUID: string;
  readonly taskType: string;
  readonly async: boolean;
  readonly state: TaskRecordState;
  /** Target session ('' none: async, or ended). */
  readonly target: string;
  readonly progress: number;
  /** How many results the task makes (0 when not said at admission). */
  readonly expected: number;
  /** The errors JSON given at the end, as given. */
  readonly errors: string | undefined;
  /** Results by index, in index order, each the JSON given to emitFinal. */
  readonly results: readonly { readonly index: number; readonly json: string }[];
}

const states: readonly TaskRecordState[] = ['running', 'success', 'error', 'cancelled'];

/**
 * Task records of every node. A record is created by {@link admit} (no TTL while it runs: a running
 * task is never forgotten) and gets the retention TTL when it ends.
 *
 * Atomicity across keys: {@link emitFinal} and {@link finish} record the result (or the end) and
 * append the frame to the target session in ONE script, although the task key (`{O:T}`) and the
 * session keys (`{S}`) have different hash tags. On the single Redis primary this layer supports
 * (optionally with replicas and Sentinel) a script is atomic and its effects reach the AOF as one
 * transaction, so after any crash both happened or neither did: a re-run sees its index recorded
 * and appends nothing, and a frame is never held without its result recorded. Redis Cluster would
 * refuse these scripts (CROSSSLOT), loudly, rather than break the guarantee; running there needs the
 * task and session keys co-located (one tag per owner) or a two-step protocol (record a pending
 * result, append with the result's identity as an idempotency mark, then mark it sent). One primary
 * is the design's choice: image workloads write little, and the per-key bounds need owner-wide
 * accounts that a single slot cannot hold anyway.
 */
export class TaskStore {
  readonly #redis: Redis;
  readonly #sessions: SessionLog;
  readonly #limits: TaskStoreLimits;
  readonly retentionMs: number;
  readonly leaseMs: number;
  readonly orphanGraceMs: number;
  readonly #scripts;

  constructor(options: TaskStoreOptions) {
    this.#redis = options.redis;
    this.#sessions = options.sessions;
    this.#limits = options.limits;
    this.retentionMs = options.retentionMs ?? 600_000;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.orphanGraceMs = options.orphanGraceMs ?? 5_000;
    this.#scripts = defineScripts(options.redis, 'task', {
      admit: { keys: 2, lua: TASK_ADMIT },
      renew: { keys: 2, lua: TASK_RENEW },
      emitFinal: { keys: 1, lua: TASK_EMIT_FINAL },
      finish: { keys: 2, lua: TASK_FINISH },
      retarget: { keys: 1, lua: TASK_RETARGET },
      progress: { keys: 1, lua: TASK_PROGRESS },
      withdraw: { keys: 2, lua: TASK_WITHDRAW },
      orphans: { keys: 0, lua: TASK_ORPHANS },
    });
  }

  #args(owner: string, taskUUID: string): ScriptArg[] {
    return [...this.#sessions.bounds, owner, taskUUID.toLowerCase()];
  }

  #task(owner: string, taskUUID: string): string {
    return this.#sessions.keys.task(owner, taskUUID);
  }

  /**
   * Accepts a task: `conflict` when `owner` has a record of this taskUUID (running, or kept for
   * the retention time), `tooManyInFlight` when the key has maxInFlightPerKey tasks in flight on
   * any node; else a running record, counted in flight until it ends or its lease lapses. `job`,
   * the task's queue job, is kept with the running record (parameters and references only, never
   * image bytes), so the orphan sweep can queue it again if it is lost.
   */
  async admit(owner: string, taskUUID: string, taskType: string, options: { readonly async: boolean; readonly target: string; readonly expected?: number; readonly job?: TaskJob }): Promise<AdmitResult> {
    const keys = [this.#task(owner, taskUUID), this.#sessions.keys.inflight(owner)];
    const job = options.job === undefined ? '' : JSON.stringify(options.job);
    const reply = list(
      await guarded('task admit', () =>
        this.#scripts.admit.call(...keys, ...this.#args(owner, taskUUID), taskType, options.async ? '1' : '0', options.async ? '' : options.target, this.#limits.maxInFlightPerKey, this.leaseMs, options.expected ?? 0, taskUUID, job, this.orphanGraceMs),
      ),
    );
    const kind = str(reply[0]);
    if (kind === 'admitted' || kind === 'conflict') return { kind };
    if (kind === 'tooMany') return { kind: 'tooManyInFlight', inFlight: num(reply[1]) };
    throw new RedisReplyError(`task admit answered ${kind}`);
  }

  /**
   * Takes back an admission whose job could not be queued: the running record and its in-flight
   * place are deleted, so getResponse answers taskNotFound and the same taskUUID can be admitted
   * again. False (nothing changed) when the task ended or recorded a result: then it did run.
   */
  async withdraw(owner: string, taskUUID: string): Promise<boolean> {
    const keys = [this.#task(owner, taskUUID), this.#sessions.keys.inflight(owner)];
    return num(await guarded('task withdraw', () => this.#scripts.withdraw.call(...keys, ...this.#args(owner, taskUUID)))) === 1;
  }

  /** Renews a running task's lease in the in-flight set (the worker, every lease / 3). */
  async renew(owner: string, taskUUID: string): Promise<boolean> {
    const keys = [this.#task(owner, taskUUID), this.#sessions.keys.inflight(owner)];
    return num(await guarded('task renew', () => this.#scripts.renew.call(...keys, ...this.#args(owner, taskUUID), this.leaseMs))) === 1;
  }

  /**
   * Records result `index` (its JSON for getResponse) and, only when this index is new, appends
   * `frame` to the task's target session, atomically (see the class comment). A re-run after a
   * worker crash gets `duplicate` and sends nothing; after a cancel or the end, `notRunning`.
   * `requiredImage` (an imageUUID): nothing is recorded unless that image is stored (`noImage`), so
   * a final may be sent right behind its image's put without waiting for the put's answer.
   */
  async emitFinal(owner: string, taskUUID: string, index: number, resultJson: string, frame: ServerFrame, requiredImage?: string): Promise<EmitResult> {
    const encoded = encodeFrame(frame);
    const image: ScriptArg[] = encoded.b === undefined ? ['0', ''] : ['1', encoded.b];
    const required = requiredImage === undefined ? '' : this.#sessions.keys.image(requiredImage);
    const reply = list(await guarded('task emitFinal', () => this.#scripts.emitFinal.call(this.#task(owner, taskUUID), ...this.#args(owner, taskUUID), index, resultJson, encoded.h, encoded.size, ...image, required)));
    const kind = str(reply[0]);
    if (kind === 'notRunning' || kind === 'noImage' || kind === 'duplicate' || kind === 'stored') return { kind };
    return appendResult(reply);
  }

  /**
   * Ends a running task (`success`, `error`, or `cancelled`), with its errors JSON and the frame
   * to send its target (its errors) in the same step. False when it had ended already (so a cancel
   * answers whether it cancelled). A cancel is published on the cancel channel for the workers.
   */
  async finish(owner: string, taskUUID: string, state: Exclude<TaskRecordState, 'running'>, options: { readonly errors?: string; readonly frame?: ServerFrame } = {}): Promise<boolean> {
    const keys = [this.#task(owner, taskUUID), this.#sessions.keys.inflight(owner)];
    const encoded = options.frame === undefined ? undefined : encodeFrame(options.frame);
    const frame: ScriptArg[] = encoded === undefined ? ['0', '', 0, '0', ''] : ['1', encoded.h, encoded.size, ...(encoded.b === undefined ? ['0', ''] : ['1', encoded.b])];
    const reply = list(
      await guarded('task finish', () => this.#scripts.finish.call(...keys, ...this.#args(owner, taskUUID), state, options.errors ?? '', this.retentionMs, this.#limits.maxTaskRecordsPerKey, this.#limits.maxTaskRecords, ...frame)),
    );
    return num(reply[0]) === 1;
  }

  /** Cancels a running task; false when it was not running. */
  async cancel(owner: string, taskUUID: string, options: { readonly errors?: string; readonly frame?: ServerFrame } = {}): Promise<boolean> {
    return this.finish(owner, taskUUID, 'cancelled', options);
  }

  /** getResponse re-attach: a running sync task's outputs go to `session` from now on. */
  async retarget(owner: string, taskUUID: string, session: string): Promise<boolean> {
    return num(await guarded('task retarget', () => this.#scripts.retarget.call(this.#task(owner, taskUUID), ...this.#args(owner, taskUUID), session))) === 1;
  }

  /** A running task's progress (0..100) for getResponse. */
  async progress(owner: string, taskUUID: string, progress: number): Promise<boolean> {
    return num(await guarded('task progress', () => this.#scripts.progress.call(this.#task(owner, taskUUID), ...this.#args(owner, taskUUID), Math.round(progress)))) === 1;
  }

  /** The record for getResponse, or undefined (never admitted, another key's, or past its retention). */
  async get(owner: string, taskUUID: string): Promise<StoredTask | undefined> {
    const fields = await guarded('task get', () => this.#redis.hgetall(this.#task(owner, taskUUID)));
    if (fields.o !== owner) return undefined;
    const results: { index: number; json: string }[] = [];
    for (const [name, value] of Object.entries(fields)) if (name.startsWith('r:')) results.push({ index: Number(name.slice(2)), json: value });
    results.sort((x, y) => x.index - y.index);
    const state = states.find((s) => s === fields.st);
    if (state === undefined) throw new RedisReplyError(`a task record has state ${String(fields.st)}`);
    return {
      owner,
      // As admitted (the client matches answers by it); records written before kept it in lower case.
      taskUUID: fields.u ?? taskUUID.toLowerCase(),
      taskType: fields.tt ?? '',
      async: fields.as === '1',
      state,
      target: fields.tg ?? '',
      progress: Number(fields.pr ?? 0),
      expected: Number(fields.n ?? 0),
      errors: fields.er,
      results,
    };
  }

  /**
   * Decides, in one script, up to `limit` running tasks that no worker renewed in time (see
   * TASK_ORPHANS): those whose queue job exists keep their in-flight place and are left alone;
   * of the others, those re-queued fewer than `maxRequeues` times come back as `requeue` with
   * their job's data, the rest as `lost`. `jobKeyPrefix` is the queue's job key prefix. `lookedAt`
   * is how many were due (when it is `limit`, more may be).
   */
  async orphans(limit: number, jobKeyPrefix: string, maxRequeues: number): Promise<{ readonly lookedAt: number; readonly verdicts: OrphanVerdict[] }> {
    const reply = list(await guarded('task orphans', () => this.#scripts.orphans.call(...this.#sessions.bounds, '', '', limit, this.leaseMs, this.orphanGraceMs, maxRequeues, jobKeyPrefix)));
    const verdicts: OrphanVerdict[] = [];
    for (let i = 1; i + 3 < reply.length; i += 4) {
      const owner = str(reply[i + 1]);
      const taskUUID = str(reply[i + 2]);
      verdicts.push(str(reply[i]) === 'requeue' ? { kind: 'requeue', owner, taskUUID, job: str(reply[i + 3]) } : { kind: 'lost', owner, taskUUID });
    }
    return { lookedAt: num(reply[0]), verdicts };
  }

  /** Tasks of `owner` in flight across the cluster (leases not lapsed). */
  async inFlight(owner: string): Promise<number> {
    return guarded('task inFlight', () => this.#redis.zcount(this.#sessions.keys.inflight(owner), `(${Date.now()}`, '+inf'));
  }
}
