// The life of one task in the client: its deadline, its signal, its event buffer, its result, and
// exactly one ending (completed, failed, cancelled, timed out, lost, or closed). Subclasses read
// the items of one task type. Where the task is on the wire is the dispatcher's (in-flight.ts).
import { onAbort } from '../../internal/abort.js';
import type { Clock } from '../../internal/clock.js';
import { deferred } from '../../internal/deferred.js';
import { Disposer } from '../../internal/disposer.js';
import type { BinaryResultHeader, ClientTask, ServerDataItem } from '../../protocol/index.js';
import { TimeoutError } from '../errors.js';
import { EventBuffer } from './event-buffer.js';
import type { TaskControl, TaskState } from './task-stream.js';

/** How a task ended. `aborted` and `timedOut` are cancelled on the server when it can. */
export type EndKind = 'completed' | 'failed' | 'aborted' | 'timedOut' | 'lost' | 'closed';

/** What the server can do, as far as encoding a task is concerned. */
export interface ServerView {
  readonly previews: boolean;
}

/** A task from submission to its one ending. */
export abstract class TaskRun<TEvent, TResult> implements TaskControl<TEvent, TResult> {
  readonly taskUUID: string;
  readonly taskType: string;
  readonly buffer = new EventBuffer<TEvent>();
  /** Timers and listeners of this task: the deadline, the signal, polling. */
  readonly scope = new Disposer();
  readonly #result = deferred<TResult>();
  #state: TaskState = 'running';
  #endKind: EndKind | undefined;
  #onEnd: ((kind: EndKind) => void) | undefined;

  constructor(taskUUID: string, taskType: string) {
    this.taskUUID = taskUUID;
    this.taskType = taskType;
  }

  get state(): TaskState {
    return this.#state;
  }

  get ended(): boolean {
    return this.#state !== 'running';
  }

  /** True when results come only through getResponse polling (`deliveryMethod: "async"`). */
  get async(): boolean {
    return false;
  }

  /**
   * Results that arrived again and were dropped. Only the run can tell a result it already
   * delivered, so it counts them (image tasks do; the base never drops anything).
   */
  get duplicates(): number {
    return 0;
  }

  /** How it ended, once it has. */
  get endKind(): EndKind | undefined {
    return this.#endKind;
  }

  get result(): Promise<TResult> {
    return this.#result.promise;
  }

  /** Arms the deadline and the signal; `onEnd` runs once, when the task ends. */
  start(clock: Clock, timeoutMs: number, signal: AbortSignal | undefined, onEnd: (kind: EndKind) => void): void {
    this.#onEnd = onEnd;
    if (this.ended) {
      onEnd(this.#endKind ?? 'failed');
      return;
    }
    this.scope.add(onAbort(signal, (reason) => this.end('aborted', { error: reason })));
    if (this.ended) return;
    this.scope.timeout(clock, timeoutMs, () => {
      this.end('timedOut', { error: new TimeoutError('task', timeoutMs, `task ${this.taskUUID} (${this.taskType}) did not finish within ${timeoutMs} ms`) });
    });
  }

  /** The task object to send, encoded for what the server can do. */
  abstract wireTask(server: ServerView): ClientTask;

  /** One JSON item carrying this task's UUID. */
  abstract handleItem(item: ServerDataItem): void;

  /** One binary result of this task. Only image tasks receive them. */
  handleBinary(_header: BinaryResultHeader, _image: Uint8Array): void {
    // Not an image task: nothing to do with bytes.
  }

  /** The server's own completion signal (a getResponse answer with nothing still running). */
  serverDone(): void {
    // Task types that count their results override this.
  }

  /** Ends the task as cancelled by its owner (the consumer or a signal). */
  cancel(reason: unknown): void {
    this.end('aborted', { error: reason });
  }

  /** Ends the task with an error of the given kind. */
  fail(error: unknown, kind: Exclude<EndKind, 'completed'> = 'failed'): void {
    this.end(kind, { error });
  }

  /** Ends the task successfully. */
  protected complete(value: TResult): void {
    this.end('completed', { value });
  }

  /** The one ending: settles the result, ends the event buffer, releases timers and listeners. */
  protected end(kind: EndKind, outcome: { value: TResult } | { error: unknown }): boolean {
    if (this.ended) return false;
    this.#endKind = kind;
    this.#state = kind === 'completed' ? 'completed' : kind === 'aborted' ? 'cancelled' : 'failed';
    this.scope.dispose();
    if ('value' in outcome) {
      this.#result.resolve(outcome.value);
      this.buffer.end();
    } else {
      this.#result.reject(outcome.error);
      this.buffer.end({ value: outcome.error });
    }
    const onEnd = this.#onEnd;
    // An ended task may be kept a long time (its stream unread); it keeps nothing of the dispatcher.
    this.#onEnd = undefined;
    onEnd?.(kind);
    return true;
  }
}

/** Any task run, whatever it yields. */
export type AnyTaskRun = TaskRun<unknown, unknown>;
