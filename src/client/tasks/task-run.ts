// The life of one task in the client: its deadline, its signal, its event buffer, its result, and
// exactly one ending (completed, failed, cancelled, timed out, lost, or closed). Subclasses read
// the items of one task type. Where the task is on the wire is the dispatcher's (in-flight.ts).
import { onAbort } from '../../internal/abort.js';
import type { Deadlines, Expirable } from '../../internal/deadlines.js';
import { deferred, type Deferred } from '../../internal/deferred.js';
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

/** Told once when a task ends (the dispatcher's record of it, or an HTTP request to abort). */
export interface TaskEndListener {
  taskEnded(kind: EndKind): void;
}

function ignore(): void {
  // Marks a promise handled; whoever awaits it still sees the rejection.
}

/**
 * A task from submission to its one ending. What only some tasks need is made on first use: the
 * result promise when someone asks for it, the event buffer when an event arrives or someone reads,
 * the disposer when a listener or timer is registered. The deadline is an entry in the owner's
 * shared {@link Deadlines}, not a timer of its own. A waiting task is then a few small objects.
 */
export abstract class TaskRun<TEvent, TResult> implements TaskControl<TEvent, TResult>, Expirable {
  readonly taskUUID: string;
  readonly taskType: string;
  #buffer: EventBuffer<TEvent> | undefined;
  #scope: Disposer | undefined;
  #result: Promise<TResult> | undefined;
  #settle: Deferred<TResult> | undefined;
  #outcome: { value: TResult } | { error: unknown } | undefined;
  #deadlines: Deadlines | undefined;
  #endKind: EndKind | undefined;
  #onEnd: TaskEndListener | undefined;

  constructor(taskUUID: string, taskType: string) {
    this.taskUUID = taskUUID;
    this.taskType = taskType;
  }

  /** The events for the consumer; made on first use (ended at once when the task already has). */
  get buffer(): EventBuffer<TEvent> {
    if (this.#buffer === undefined) {
      this.#buffer = new EventBuffer<TEvent>();
      const outcome = this.#outcome;
      if (outcome !== undefined) this.#buffer.end('error' in outcome ? { value: outcome.error } : undefined);
    }
    return this.#buffer;
  }

  /** Timers and listeners of this task (the signal, polling); undone when it ends. */
  get scope(): Disposer {
    if (this.#scope === undefined) {
      this.#scope = new Disposer();
      // Registered after the end: undone at once.
      if (this.ended) this.#scope.dispose();
    }
    return this.#scope;
  }

  get state(): TaskState {
    const kind = this.#endKind;
    return kind === undefined ? 'running' : kind === 'completed' ? 'completed' : kind === 'aborted' ? 'cancelled' : 'failed';
  }

  get ended(): boolean {
    return this.#endKind !== undefined;
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

  /** The final value; the promise is made on first use (settled at once when the task ended). */
  get result(): Promise<TResult> {
    if (this.#result !== undefined) return this.#result;
    const outcome = this.#outcome;
    if (outcome === undefined) {
      this.#settle = deferred<TResult>();
      this.#result = this.#settle.promise;
    } else if ('value' in outcome) {
      this.#result = Promise.resolve(outcome.value);
    } else {
      this.#result = Promise.reject(outcome.error);
      // Like a deferred: a rejection nobody awaits is not reported as unhandled.
      this.#result.catch(ignore);
    }
    return this.#result;
  }

  /** Arms the deadline (in `deadlines`) and the signal; `onEnd` is told once, when the task ends. */
  start(deadlines: Deadlines, timeoutMs: number, signal: AbortSignal | undefined, onEnd: TaskEndListener): void {
    this.#onEnd = onEnd;
    if (this.ended) {
      onEnd.taskEnded(this.#endKind ?? 'failed');
      return;
    }
    if (signal !== undefined) this.scope.add(onAbort(signal, (reason) => this.end('aborted', { error: reason })));
    if (this.ended) return;
    this.#deadlines = deadlines;
    deadlines.add(this, timeoutMs);
  }

  /** The deadline passed (called by the deadlines). */
  expire(timeoutMs: number): void {
    this.#deadlines = undefined;
    this.end('timedOut', { error: new TimeoutError('task', timeoutMs, `task ${this.taskUUID} (${this.taskType}) did not finish within ${timeoutMs} ms`) });
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

  /** Lets go of what only a running task needs (the task ended; its stream may be kept unread a long time). */
  protected release(): void {
    // The base keeps nothing beyond what the stream reads.
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
    this.#outcome = outcome;
    this.#deadlines?.remove(this);
    this.#deadlines = undefined;
    this.#scope?.dispose();
    this.#scope = undefined;
    const settle = this.#settle;
    // The deferred's resolvers are not kept: an ended task keeps only its settled promise.
    this.#settle = undefined;
    if ('value' in outcome) {
      settle?.resolve(outcome.value);
      this.#buffer?.end();
    } else {
      settle?.reject(outcome.error);
      this.#buffer?.end({ value: outcome.error });
    }
    this.release();
    const onEnd = this.#onEnd;
    // An ended task may be kept a long time (its stream unread); it keeps nothing of the dispatcher.
    this.#onEnd = undefined;
    onEnd?.taskEnded(kind);
    return true;
  }
}

/** Any task run, whatever it yields. */
export type AnyTaskRun = TaskRun<unknown, unknown>;
