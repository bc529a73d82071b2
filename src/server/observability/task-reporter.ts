// Follows each task from admission to its end for the observer: when it started, when its first
// preview went out, the image bytes it sent; at the end, one TaskEnd from the record's outcome.
import type { ServerObserver, TaskOutcome } from './events.js';
import { keyIdOf } from './key-id.js';

/** What the reporter reads of a task record. */
export interface ReportedTask {
  readonly owner: string;
  readonly taskUUID: string;
  readonly taskType: string;
  readonly state: 'running' | TaskOutcome;
  readonly errors: readonly { readonly code: string }[] | undefined;
  readonly results: readonly unknown[];
}

interface Progress {
  readonly startedAt: number;
  firstPreviewAt: number | undefined;
  bytesOut: number;
}

/** Per-task timing and bytes, kept beside the records (a WeakMap: a record forgotten takes its entry with it). */
export class TaskReporter {
  readonly #observer: ServerObserver;
  readonly #now: () => number;
  readonly #tasks = new WeakMap<ReportedTask, Progress>();

  constructor(observer: ServerObserver, now: () => number) {
    this.#observer = observer;
    this.#now = now;
  }

  started(task: ReportedTask): void {
    this.#tasks.set(task, { startedAt: this.#now(), firstPreviewAt: undefined, bytesOut: 0 });
  }

  preview(task: ReportedTask): void {
    const progress = this.#tasks.get(task);
    if (progress !== undefined) progress.firstPreviewAt ??= this.#now();
  }

  /** An output of the task went to its target; `imageBytes` of an inline image. */
  output(task: ReportedTask, imageBytes: number): void {
    const progress = this.#tasks.get(task);
    if (progress !== undefined) progress.bytesOut += imageBytes;
  }

  /** The task ended (its state is no longer running): reported once. */
  ended(task: ReportedTask): void {
    const progress = this.#tasks.get(task);
    if (progress === undefined || task.state === 'running') return;
    this.#tasks.delete(task);
    const now = this.#now();
    this.#observer.taskEnded({
      taskUUID: task.taskUUID,
      taskType: task.taskType,
      outcome: task.state,
      errorCode: task.errors?.[0]?.code,
      keyId: keyIdOf(task.owner),
      durationMs: now - progress.startedAt,
      firstPreviewMs: progress.firstPreviewAt === undefined ? undefined : progress.firstPreviewAt - progress.startedAt,
      images: task.results.length,
      bytesOut: progress.bytesOut,
    });
  }
}
