// The task core as the faces see it: one interface in front of the in-process TaskRouter and the
// cluster's router (admission in Redis, work on any worker), so no face knows which one runs.
import type { TaskContext } from './task-router.js';
import type { TaskInputs } from './task-runner.js';

/** What every face (WebSocket, POST /v1, the OpenAI-style images API, imagine) asks of the task core. */
export interface TaskCore {
  /** Tasks accepted and waiting for the engine, as far as this process can tell. */
  readonly queued: number;
  /** New tasks are refused with `serverShuttingDown` from now on (or accepted again with false). */
  setClosing(closing: boolean): void;
  /**
   * Validates and runs one task of a frame; resolves when the task is answered (at its end for a
   * sync task, at its acknowledgement for an async one). Never rejects.
   */
  dispatch(entry: unknown, index: number, ctx: TaskContext, inputs?: TaskInputs): Promise<void>;
  /** Cancels a task of `ctx.owner` as a `cancel` task would (its answer goes to `ctx.target`). */
  cancel(taskUUID: string, ctx: TaskContext): void;
}
