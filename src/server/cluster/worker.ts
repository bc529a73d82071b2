// A cluster worker: takes the tasks any node accepted from the BullMQ queue `iw-tasks` and runs them
// on its engine, writing outputs to Redis; cancels reach it on `iw:cancel`; a crash puts its tasks
// back to work on another worker once their locks lapse.
import type { OutboundOutcome, TaskEnd } from '../observability/events.js';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Engine } from '../../engine/index.js';
import { systemClock } from '../../internal/clock.js';
import { resolveLimits, type ServerLimits } from '../limits.js';
import { errorMessage, silentLogger, stderrLogger, type Logger } from '../logger.js';
import { OutboundPolicy, type OutboundKind, type OutboundTarget } from '../outbound/policy.js';
import { WebhookSender } from '../outbound/webhooks.js';
import { isUnavailable } from './errors.js';
import { RedisImageStore } from './image-store.js';
import { giveUp, processTaskJob, runKey, type ProcessorDeps } from './job-processor.js';
import { defaultKeyPrefix } from './keys.js';
import { describeRedisOption, RedisConnections, type RedisOption } from './redis-options.js';
import type { TaskRun } from './run-context.js';
import { SessionLog } from './session-log.js';
import { queuePrefixOf, taskQueueName } from './task-queue.js';
import { TaskStore } from './task-store.js';
import { RedisUsageStore } from './usage-store.js';

/** BullMQ's lock of a running job and its stalled check: a crashed worker's task runs again within about 7 s. */
export const workerLockDurationMs = 5_000;
export const workerStalledIntervalMs = 2_000;
/** How many times a job may stall (its worker died) before the queue gives it up. */
export const workerMaxStalledCount = 3;

/** Options of {@link createWorker}. Redis-related values must match the nodes' (same prefix, windows and limits). */
export interface WorkerOptions {
  /** Redis: `redis://host:port`, `rediss://...`, `unix:/path.sock`, or ioredis options. */
  readonly redis: RedisOption;
  /** The renderer (e.g. `createProceduralEngine()`, or your own). */
  readonly engine: Engine;
  /** Tasks run at the same time. @default 8 */
  readonly concurrency?: number;
  /** Where the worker logs; `false` for nothing. @default warnings and errors to stderr */
  readonly logger?: Logger | false;
  /** The server's limits (input sizes and fetch timeouts, webhooks, the stores' bounds). */
  readonly limits?: Partial<ServerLimits>;
  /** The Redis key prefix of the cluster. @default "iw:" */
  readonly keyPrefix?: string;
  /** createServer's `resumeWindowMs`: how long a session's frames are kept without a socket. @default 120_000 */
  readonly resumeWindowMs?: number;
  /** createServer's `taskRetentionMs`: how long finished tasks and images are kept. @default 600_000 */
  readonly taskRetentionMs?: number;
  /** As createServer's: the worker's requests (input URLs, webhooks, uploads) may reach private addresses. @default false */
  readonly allowPrivateNetwork?: boolean;
  /** As createServer's: decides each outbound connection. */
  readonly allowOutbound?: (target: OutboundTarget) => boolean;
  /** How long {@link ClusterWorker.close} lets running tasks finish before it hands them back to the queue, ms. @default 10_000 */
  readonly closeGraceMs?: number;
  /** Names this worker's Redis connections (`CLIENT LIST`). @default "imagewire-worker" */
  readonly name?: string;
  /**
   * Hears each task's end (outcome, duration, images), for metrics; it then owns the `task ended`
   * log line too. @default the worker logs the line itself
   */
  readonly onTaskEnd?: (end: TaskEnd) => void;
  /** Hears the outcome of each of the worker's own requests (input fetches, uploads, webhooks), for metrics. */
  readonly onOutbound?: (kind: OutboundKind, outcome: OutboundOutcome) => void;
}

/** A running worker. */
export interface ClusterWorker {
  /** Tasks it runs at the same time. */
  readonly concurrency: number;
  /** Tasks running now. */
  readonly running: number;
  /**
   * Stops taking jobs, lets running tasks finish for up to `closeGraceMs`, then hands the rest back
   * to the queue (another worker runs them again; their recorded results are not sent twice) and
   * closes its connections. Idempotent.
   */
  close(): Promise<void>;
}

/** What a worker holds while it runs. */
interface Parts {
  readonly connections: RedisConnections;
  readonly subscriber: Redis;
  readonly webhooks: WebhookSender;
  readonly runs: Map<string, TaskRun>;
  readonly deps: ProcessorDeps;
}

function checkConcurrency(value: number | undefined): number {
  const concurrency = value ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) throw new RangeError(`concurrency must be an integer from 1 to 1024; got ${concurrency}`);
  return concurrency;
}

/** How often the same Redis error is logged while an outage lasts (each reconnect attempt fails with it). */
const repeatLogMs = 30_000;

/** Logs a connection error once per role and message every {@link repeatLogMs}. */
function connectionErrorLog(logger: Logger): (error: Error, role: string) => void {
  const last = new Map<string, number>();
  return (error, role) => {
    const key = `${role} ${error.message}`;
    const now = Date.now();
    if (now - (last.get(key) ?? -Infinity) < repeatLogMs) return;
    last.set(key, now);
    if (last.size > 64) last.clear();
    logger.warn('redis connection error (retrying)', { role, error: errorMessage(error) });
  };
}

/** The connections, stores and shared state of a worker. */
function buildParts(options: WorkerOptions, logger: Logger): Parts {
  const limits = resolveLimits(options.limits);
  const connections = new RedisConnections({ redis: options.redis, name: options.name ?? 'imagewire-worker', onError: connectionErrorLog(logger) });
  const redis = connections.create('command');
  const keyPrefix = options.keyPrefix ?? defaultKeyPrefix;
  const retentionMs = options.taskRetentionMs ?? 600_000;
  const sessions = new SessionLog({ redis, limits, keyPrefix, ...(options.resumeWindowMs === undefined ? {} : { resumeWindowMs: options.resumeWindowMs }) });
  const tasks = new TaskStore({ redis, sessions, limits, retentionMs });
  const images = new RedisImageStore({ redis, limits, retentionMs, keyPrefix });
  const outbound = new OutboundPolicy({ allowPrivateNetwork: options.allowPrivateNetwork ?? false, allowOutbound: options.allowOutbound });
  if (options.onOutbound !== undefined) outbound.onOutcome(options.onOutbound);
  const webhooks = new WebhookSender({ limits, logger, policy: outbound, clock: systemClock });
  const runs = new Map<string, TaskRun>();
  const usage = new RedisUsageStore({ redis, keyPrefix, maxOwners: limits.maxUsageOwners, maxTokens: limits.maxUsageTokens, retentionMs: limits.usageRetentionMs });
  const deps: ProcessorDeps = { tasks, images, keys: sessions.keys, redis, webhooks, logger, usage, engine: options.engine, limits, outbound, clock: systemClock, progressIntervalMs: 1_000, runs, onTaskEnd: options.onTaskEnd };
  return { connections, subscriber: connections.create('subscriber'), webhooks, runs, deps };
}

/** Aborts the run a cancel message (`<owner> <taskUUID>`) names, if this worker runs it. */
function onCancelMessage(runs: ReadonlyMap<string, TaskRun>, message: string): void {
  const space = message.indexOf(' ');
  if (space <= 0) return;
  runs.get(runKey(message.slice(0, space), message.slice(space + 1)))?.abort('cancelled');
}

/**
 * Starts a worker and resolves once it takes jobs (Redis reached, cancel channel subscribed).
 * Without Redis it keeps trying (and logs each failed connection) rather than failing.
 */
export async function createWorker(options: WorkerOptions): Promise<ClusterWorker> {
  const concurrency = checkConcurrency(options.concurrency);
  const logger = options.logger === false ? silentLogger : (options.logger ?? stderrLogger);
  const parts = buildParts(options, logger);
  const { deps, runs, subscriber } = parts;
  const cancelChannel = deps.keys.cancelChannel();
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === cancelChannel) onCancelMessage(runs, message);
  });
  const worker = new Worker(taskQueueName, (job: Job, token?: string) => processTaskJob(deps, job, token), {
    connection: parts.connections.create('queue'),
    prefix: queuePrefixOf(options.keyPrefix ?? defaultKeyPrefix),
    concurrency,
    lockDuration: workerLockDurationMs,
    stalledInterval: workerStalledIntervalMs,
    maxStalledCount: workerMaxStalledCount,
    // A worker that lost Redis tries again soon after it is back, not after BullMQ's default 15 s.
    runRetryDelay: 1_000,
  });
  // Connection failures are already logged by the connection; the queue's other errors are its own.
  worker.on('error', (error: Error) => {
    if (!isUnavailable(error)) logger.warn('queue worker error', { error: errorMessage(error) });
  });
  worker.on('failed', (job: Job | undefined, error: Error) => {
    if (job === undefined) return;
    logger.warn('task job failed', { job: job.id, attempt: job.attemptsMade, error: errorMessage(error) });
    giveUp(deps, job).catch(() => undefined);
  });
  try {
    await worker.waitUntilReady();
    await subscriber.subscribe(cancelChannel);
  } catch (error) {
    await shutdown(worker, parts, 0);
    throw error;
  }
  logger.info('worker ready', { redis: describeRedisOption(options.redis), concurrency });
  let closing: Promise<void> | undefined;
  return {
    concurrency,
    get running() {
      return runs.size;
    },
    close: () => (closing ??= shutdown(worker, parts, options.closeGraceMs ?? 10_000)),
  };
}

/** Stops taking jobs, waits up to `graceMs` for running tasks, hands the rest back, closes everything. */
async function shutdown(worker: Worker, parts: Parts, graceMs: number): Promise<void> {
  const closed = worker.close();
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([closed, grace]);
  clearTimeout(timer);
  for (const run of parts.runs.values()) run.abort('shutdown');
  await closed.catch(() => undefined);
  await parts.webhooks.close();
  await parts.connections.close();
}
