// The life of one task in the client: its deadline, its signal, its event buffer, its result, and
// exactly one ending (completed, failed, cancelled, timed out, lost, or closed). Subclasses read
// the items of one task type; the dispatcher owns where the task is on the wire.
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

/** Where a task is on the wire. */
export type WirePhase = 'created' | 'waiting' | 'outbox' | 'sent';

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
  // Wire bookkeeping, owned by the dispatcher.
  phase: WirePhase = 'created';
  /** The server has shown it knows the task (an item or a getResponse answer arrived). */
  confirmed = false;
  /** The attempt the task's frame was last written on. */
  sentOn: number | undefined;
  /** getResponse checks made to recover this task. */
  checks = 0;
  /** A recovery getResponse is out. */
  checking = false;
  /** Results come through getResponse polling (async delivery, or a server that cannot re-attach). */
  polling = false;
  /** Results that arrived again and were dropped (image tasks count them). */
  duplicates = 0;
  /** Takes the task's frame out of the outbox while it waits there. */
  unqueue: () => void = nothing;
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
    this.unqueue = nothing;
    return true;
  }
}

function nothing(): void {
  // The default of hooks that have nothing to undo.
}

/** Any task run, whatever it yields. */
export type AnyTaskRun = TaskRun<unknown, unknown>;
