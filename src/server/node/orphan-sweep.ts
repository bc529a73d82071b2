// The sweep of orphaned tasks: running records whose queue job is gone (their node stopped between
// admission and queueing, or the queue gave the job up) are queued again, a bounded number of times.
import type { Clock } from '../../internal/clock.js';
import { Disposer } from '../../internal/disposer.js';
import { protocolError, stringifyJson } from '../../protocol/index.js';
import { decodeTaskJob, encodeTaskJob, type TaskJob } from '../cluster/task-job.js';
import type { OrphanVerdict, TaskStore } from '../cluster/task-store.js';
import { errorsFrame } from '../core/server-frame.js';
import { errorMessage, type Logger } from '../logger.js';

/** Where lost jobs go back: the cluster's queue. */
export interface JobRequeue {
  /** The key of a job is this prefix, then its id. */
  readonly jobKeyPrefix: string;
  requeue(jobs: readonly TaskJob[]): Promise<void>;
}

/** How many due tasks one script looks at; a sweep runs at most {@link batchesPerSweep} of them. */
export const orphansPerBatch = 100;
export const batchesPerSweep = 10;
/** How many times one task is queued again before it ends as lost: a task that kills its workers cannot loop for ever. */
export const maxRequeues = 3;
/** How often a node sweeps, ms: with the admission's grace (5 s), a job lost at admission runs again within about 7 s. */
export const orphanSweepIntervalMs = 2_000;

/** What one sweep did. */
export interface SweepResult {
  requeued: number;
  lost: number;
}

/**
 * Looks at the running tasks no worker renewed in time and makes sure each still gets run: one
 * whose queue job is there keeps its place; one whose job is gone (a node killed between
 * TaskStore.admit and the queue, or BullMQ failing a job after maxStalledCount stalls, which no
 * `failed` event reports) is queued again under the same job id, from the job data its record kept.
 * A re-run delivers each result index at most once (TaskStore.emitFinal). After
 * {@link maxRequeues} re-queues, or without job data, the task ends with the retryable `taskLost`,
 * recorded for getResponse and delivered to its session in the same script (so once). Every
 * decision is made in one script per batch, so nodes sweeping at once never act on one task twice.
 */
export async function sweepOrphans(tasks: TaskStore, queue: JobRequeue, logger: Logger, allowed: number = maxRequeues): Promise<SweepResult> {
  const result: SweepResult = { requeued: 0, lost: 0 };
  for (let batch = 0; batch < batchesPerSweep; batch++) {
    const { lookedAt, verdicts } = await tasks.orphans(orphansPerBatch, queue.jobKeyPrefix, allowed);
    const jobs: TaskJob[] = [];
    const lost: OrphanVerdict[] = [];
    for (const verdict of verdicts) {
      const job = verdict.kind === 'requeue' ? jobOf(verdict.job) : undefined;
      if (job === undefined) lost.push(verdict);
      else jobs.push(job);
    }
    // A failed add is retried by a later sweep once the grace passed (the job is still missing then).
    await queue.requeue(jobs);
    result.requeued += jobs.length;
    if (jobs.length > 0) logger.warn('orphaned tasks queued again', { tasks: jobs.map((job) => job.taskUUID).join(' ') });
    for (const verdict of lost) if (await endLost(tasks, verdict, logger)) result.lost += 1;
    if (lookedAt < orphansPerBatch) break;
  }
  return result;
}

/** The job a record kept, checked as a worker would read it; undefined when it is not one. */
function jobOf(json: string): TaskJob | undefined {
  try {
    return encodeTaskJob(decodeTaskJob(JSON.parse(json)));
  } catch {
    return undefined;
  }
}

/** Ends a task whose job is gone for good with `taskLost`; false when it had ended meanwhile. */
async function endLost(tasks: TaskStore, verdict: OrphanVerdict, logger: Logger): Promise<boolean> {
  const { owner, taskUUID } = verdict;
  const stored = await tasks.get(owner, taskUUID);
  if (stored?.state !== 'running') return false;
  const item = protocolError('taskLost', 'the task was accepted but lost before it finished (its job was lost repeatedly); send it again with a new taskUUID', { taskType: stored.taskType, taskUUID: stored.taskUUID });
  const ended = await tasks.finish(owner, taskUUID, 'error', { errors: stringifyJson([item]), frame: errorsFrame([item]) });
  if (ended) logger.warn('an orphaned task ended as lost', { task: taskUUID });
  return ended;
}

/** A node's periodic orphan sweep: one at a time, every {@link orphanSweepIntervalMs}, until closed. */
export class OrphanSweeper {
  readonly #timers = new Disposer();
  #sweeping = false;

  constructor(tasks: TaskStore, queue: JobRequeue, logger: Logger, clock: Clock, intervalMs: number = orphanSweepIntervalMs) {
    this.#timers.every(clock, intervalMs, () => {
      if (this.#sweeping) return;
      this.#sweeping = true;
      sweepOrphans(tasks, queue, logger)
        // Redis away: the next sweep tries again; nothing was decided.
        .catch((error: unknown) => logger.debug('orphan sweep failed', { error: errorMessage(error) }))
        .finally(() => (this.#sweeping = false));
    });
  }

  close(): void {
    this.#timers.dispose();
  }
}
