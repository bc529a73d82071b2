// The sweep of orphaned tasks: running records that nothing renews and that have no queue job (their
// node stopped between admission and queueing, or the queue gave the job up) end with `taskLost`.
import { protocolError, stringifyJson } from '../../protocol/index.js';
import type { TaskStore } from '../cluster/task-store.js';
import { errorsFrame } from '../core/server-frame.js';
import type { Logger } from '../logger.js';

/** Whether the queue still holds a task's job (waiting, delayed or running). */
export interface JobLookup {
  hasJob(owner: string, taskUUID: string): Promise<boolean>;
}

/** How many lapsed tasks one sweep looks at; the rest wait for the next sweep. */
export const orphansPerSweep = 100;

/**
 * Ends running tasks whose lease lapsed and whose job is gone, so none stays running forever: a
 * node killed between TaskStore.admit and the queue leaves a record without a job, and BullMQ
 * fails a job that stalled more than maxStalledCount times without a `failed` event the worker
 * could answer. The end is a retryable `taskLost` error, recorded for getResponse and delivered
 * to the task's session with the end (in one script: delivered once). A task that still has its
 * job is only waiting for a worker and is left alone. Returns how many tasks it ended.
 */
export async function sweepOrphans(tasks: TaskStore, jobs: JobLookup, logger: Logger): Promise<number> {
  let ended = 0;
  for (const { owner, taskUUID } of await tasks.lapsed(orphansPerSweep)) {
    if (await jobs.hasJob(owner, taskUUID)) continue;
    const stored = await tasks.get(owner, taskUUID);
    if (stored?.state !== 'running') continue;
    const item = protocolError('taskLost', 'the task was accepted but lost before it finished (its job is gone); send it again with a new taskUUID', { taskType: stored.taskType, taskUUID: stored.taskUUID });
    if (await tasks.finish(owner, taskUUID, 'error', { errors: stringifyJson([item]), frame: errorsFrame([item]) })) {
      ended += 1;
      logger.warn('an orphaned task ended as lost', { task: taskUUID });
    }
  }
  return ended;
}
