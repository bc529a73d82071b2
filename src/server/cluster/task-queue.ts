// The task queue's producer side: a node adds each accepted task as a BullMQ job on `iw-tasks`,
// with an id per owner and taskUUID and the retry/cleanup options every job of the cluster shares.
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { defaultKeyPrefix } from './keys.js';
import { guarded, RedisUnavailableError } from './errors.js';
import { defaultCommandTimeoutMs } from './redis-options.js';
import { jobIdOf, type TaskJob } from './task-job.js';

/** The BullMQ queue name of the cluster's tasks. */
export const taskQueueName = 'iw-tasks';

/** BullMQ's key prefix for a store key prefix: the same namespace without its trailing colon (`iw:` → `iw`). */
export function queuePrefixOf(keyPrefix: string): string {
  return keyPrefix.endsWith(':') ? keyPrefix.slice(0, -1) : keyPrefix;
}

/**
 * Options of every task job: three attempts (a processor that threw because Redis was away runs
 * again), a short backoff, and nothing kept after the end (the task record keeps the outcome).
 */
export const taskJobOptions: Readonly<JobsOptions> = Object.freeze({
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: true,
});

/** BullMQ's events stream is bounded short: nothing here reads it, it only costs memory. */
export const taskQueueStreams = { events: { maxLen: 100 } } as const;

/** Options of {@link TaskQueue}. */
export interface TaskQueueOptions {
  /** A `queue` connection of RedisConnections (BullMQ needs `maxRetriesPerRequest: null`); the caller closes it. */
  readonly connection: Redis;
  /** The stores' key prefix; the queue's keys go under it without its colon. @default "iw:" */
  readonly keyPrefix?: string;
  /** How long an add may wait for Redis before it fails with RedisUnavailableError, ms. @default 5000 */
  readonly timeoutMs?: number;
}

/** Adds accepted tasks to the cluster's queue; any worker on the same Redis and prefix runs them. */
export class TaskQueue {
  readonly #queue: Queue;
  readonly #timeoutMs: number;
  /** The key of a job is this prefix, then its id (`iw:iw-tasks:` by default): the orphan sweep reads it. */
  readonly jobKeyPrefix: string;

  constructor(options: TaskQueueOptions) {
    const prefix = queuePrefixOf(options.keyPrefix ?? defaultKeyPrefix);
    this.#queue = new Queue(taskQueueName, { connection: options.connection, prefix, streams: taskQueueStreams });
    this.jobKeyPrefix = `${prefix}:${taskQueueName}:`;
    this.#timeoutMs = options.timeoutMs ?? defaultCommandTimeoutMs;
    // The connection's own error listener reports; this one keeps BullMQ's re-emit from being unhandled.
    this.#queue.on('error', () => undefined);
  }

  /**
   * Adds a task's job (once: a second add with the same owner and taskUUID is a no-op). Rejects
   * with {@link RedisUnavailableError} when Redis does not take it within the timeout; the add
   * may still land later, which is harmless: a worker runs only tasks whose record is running.
   */
  async enqueue(job: TaskJob): Promise<void> {
    await this.#bounded('task enqueue', this.#queue.add(job.taskType, job, { ...taskJobOptions, jobId: jobIdOf(job.owner, job.taskUUID) }));
  }

  /**
   * Adds the jobs of tasks whose job was lost, in one round trip, each under its task's job id: a
   * job that came back meanwhile is left as it is (an add with an existing id is a no-op).
   */
  async requeue(jobs: readonly TaskJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.#bounded('task requeue', this.#queue.addBulk(jobs.map((job) => ({ name: job.taskType, data: job, opts: { ...taskJobOptions, jobId: jobIdOf(job.owner, job.taskUUID) } }))));
  }

  /** Waits for `work` at most the timeout; RedisUnavailableError after it (the work may still land later). */
  async #bounded(what: string, work: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError(`Redis is unavailable (${what}): no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the queue holds the job of a task (waiting, delayed or running): false once it ended or was given up. */
  async hasJob(owner: string, taskUUID: string): Promise<boolean> {
    return (await guarded('task job lookup', () => this.#queue.getJob(jobIdOf(owner, taskUUID)))) !== undefined;
  }

  /** Jobs waiting for a worker (for health and tests). */
  async waiting(): Promise<number> {
    return this.#queue.getWaitingCount();
  }

  /** Jobs waiting for a worker and jobs running, in one round trip (unbounded: the caller bounds it). */
  async counts(): Promise<{ readonly waiting: number; readonly active: number }> {
    const counts = await this.#queue.getJobCounts('waiting', 'active');
    return { waiting: counts.waiting ?? 0, active: counts.active ?? 0 };
  }

  /** Closes the queue (not the connection it was given). */
  async close(): Promise<void> {
    await this.#queue.close();
  }
}
