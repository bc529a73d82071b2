// The runner's final counter of a server whose finals are delivered in this process (memory mode):
// each final's cost goes to the usage store beside the delivery, which never waits for it.
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { FinalCounter } from '../core/task-runner.js';
import { finalKeyOf, type UsageStore } from './usage-store.js';

/** Counts finals in `usage`; a failure is logged (the final itself is delivered regardless). */
export function finalCounter(usage: UsageStore, logger: Logger): FinalCounter {
  return {
    count: (record, index, cost) => {
      usage.recordFinal(record.owner, record.token, finalKeyOf(record.taskUUID, index), cost).catch((error: unknown) => logger.warn('usage of a final not counted', { task: record.taskUUID, error: errorMessage(error) }));
    },
  };
}
