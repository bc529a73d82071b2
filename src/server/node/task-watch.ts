// The tasks a cluster node accepted, until they end: their frames seen on the way to a socket (an
// error, or the last final) or their record read every second say when, so the per-connection
// count, the busy sessions and the HTTP requests waiting for a task follow the cluster's truth.
import type { Clock } from '../../internal/clock.js';
import { Disposer } from '../../internal/disposer.js';
import type { TaskStore } from '../cluster/task-store.js';
import { errorMessage, type Logger } from '../logger.js';
import { taskOf, type ServerFrame } from '../core/server-frame.js';
import type { ClusterSession } from './cluster-session.js';

/** How often the records of watched tasks are read. */
export const WATCH_POLL_MS = 1_000;

/** One task being watched. */
export interface Watched {
  readonly owner: string;
  readonly taskUUID: string;
  /** The session its frames go to (none: async). */
  session: ClusterSession | undefined;
  /** The connection it counts against (TaskContext.connection). */
  readonly connection: { inFlight: number };
  /** Finals still to come before the task is complete. */
  remaining: number;
  /** Called once at the end. */
  readonly ended: (() => void) | undefined;
}

/** A final result item: an image (or an upload's answer), not a preview, acknowledgement or cancel answer. */
function isFinal(frame: ServerFrame): boolean {
  if (frame.kind === 'image') return true;
  if (frame.kind !== 'data') return false;
  const item = frame.items[0];
  return item !== undefined && item.preview !== true && typeof item.imageUUID === 'string' && (item.taskType === 'imageInference' || item.taskType === 'imageUpload');
}

/** The watched tasks of one node. */
export class TaskWatch {
  readonly #tasks: TaskStore;
  readonly #logger: Logger;
  readonly #watched = new Map<string, Watched>();
  readonly #timers = new Disposer();
  #polling = false;

  constructor(tasks: TaskStore, logger: Logger, clock: Clock) {
    this.#tasks = tasks;
    this.#logger = logger;
    this.#timers.every(clock, WATCH_POLL_MS, () => {
      this.#poll().catch(() => undefined);
    });
  }

  /** Starts watching an accepted task: it counts against its connection and keeps its session busy. */
  add(task: Watched): void {
    const watched: Watched = { ...task };
    this.#watched.set(`${task.owner}:${task.taskUUID.toLowerCase()}`, watched);
    task.connection.inFlight++;
    if (watched.session !== undefined) watched.session.busy++;
  }

  /** A running sync task now sends to `session` (getResponse re-attach). */
  retarget(owner: string, taskUUID: string, session: ClusterSession): void {
    const watched = this.#watched.get(`${owner}:${taskUUID.toLowerCase()}`);
    if (watched === undefined) return;
    if (watched.session !== undefined) watched.session.busy--;
    watched.session = session;
    session.busy++;
  }

  /** A frame written to a socket of `session`: an errors frame or the last final ends its task. */
  seen(session: ClusterSession, frame: ServerFrame): void {
    const taskUUID = taskOf(frame);
    if (taskUUID === undefined) return;
    const watched = this.#watched.get(`${session.owner}:${taskUUID.toLowerCase()}`);
    if (watched === undefined) return;
    if (frame.kind === 'errors') this.end(watched.owner, watched.taskUUID);
    else if (isFinal(frame) && --watched.remaining <= 0) this.end(watched.owner, watched.taskUUID);
  }

  /** Ends a watched task (a no-op when it is not watched). */
  end(owner: string, taskUUID: string): void {
    const key = `${owner}:${taskUUID.toLowerCase()}`;
    const watched = this.#watched.get(key);
    if (watched === undefined) return;
    this.#watched.delete(key);
    watched.connection.inFlight--;
    if (watched.session !== undefined) watched.session.busy--;
    watched.ended?.();
  }

  /** Reads the records of the watched tasks: an ended one is pumped once more (its last frames), then ended here. */
  async #poll(): Promise<void> {
    if (this.#polling || this.#watched.size === 0) return;
    this.#polling = true;
    try {
      for (const watched of [...this.#watched.values()]) {
        const record = await this.#tasks.get(watched.owner, watched.taskUUID);
        if (record !== undefined && record.state === 'running') continue;
        await watched.session?.pump();
        this.end(watched.owner, watched.taskUUID);
      }
    } catch (error) {
      this.#logger.debug('task watch poll failed', { error: errorMessage(error) });
    } finally {
      this.#polling = false;
    }
  }

  /** Stops polling and ends every watched task (the node is closing). */
  close(): void {
    this.#timers.dispose();
    for (const watched of [...this.#watched.values()]) this.end(watched.owner, watched.taskUUID);
  }
}
