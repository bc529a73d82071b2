// TaskStream: what a task method returns. An async iterator of the task's events, consumable
// once, plus result() for the final value, and awaitable as that value; leaving a `for await` loop
// early cancels the task.
import { abortError } from '../../internal/abort.js';
import type { EventBuffer } from './event-buffer.js';
import { ImagewireError } from '../errors.js';

/** How a task ended, or `running`. */
export type TaskState = 'running' | 'completed' | 'failed' | 'cancelled';

/** @internal what a stream needs from the task behind it. */
export interface TaskControl<TEvent, TResult> {
  readonly taskUUID: string;
  readonly taskType: string;
  readonly buffer: EventBuffer<TEvent>;
  readonly result: Promise<TResult>;
  readonly state: TaskState;
  cancel(reason: unknown): void;
}

/**
 * One task: `for await (const event of task)` yields its events as they arrive (previews only if
 * asked for, then each final image exactly once); `await task` (or `await task.result()`) gives the
 * final value. Both can be used together. Breaking out of the loop cancels a task that has not
 * finished.
 */
export class TaskStream<TEvent, TResult> implements AsyncIterable<TEvent>, PromiseLike<TResult> {
  /** The task's UUID, as sent to the server. */
  readonly taskUUID: string;
  /** The task's taskType. */
  readonly taskType: string;
  readonly #control: TaskControl<TEvent, TResult>;
  #iterated = false;

  /** @internal created by the client. */
  constructor(control: TaskControl<TEvent, TResult>) {
    this.#control = control;
    this.taskUUID = control.taskUUID;
    this.taskType = control.taskType;
  }

  /** Events received and not read yet: at most one preview per result index plus the finals. */
  get buffered(): number {
    return this.#control.buffer.length;
  }

  /** `running` until the task ends, then how it ended. */
  get state(): TaskState {
    return this.#control.state;
  }

  /**
   * The final value (for imageInference, every final image ordered by index). Rejects with the
   * task's error: an ImagewireError subclass, or the signal's reason when aborted.
   */
  result(): Promise<TResult> {
    return this.#control.result;
  }

  /**
   * Makes the task awaitable as its result: `await task` is `await task.result()`, so
   * `const images = await client.imageInference(...)` gives the images, not the stream. Awaiting
   * does not consume the stream: it can still be iterated.
   */
  then<TFulfilled = TResult, TRejected = never>(
    onfulfilled?: ((value: TResult) => TFulfilled | PromiseLike<TFulfilled>) | null,
    onrejected?: ((reason: unknown) => TRejected | PromiseLike<TRejected>) | null,
  ): Promise<TFulfilled | TRejected> {
    return this.#control.result.then(onfulfilled, onrejected);
  }

  /** Cancels the task (locally at once; on the server where supported). No-op once it ended. */
  cancel(reason: unknown = abortError('The task was cancelled')): void {
    this.#control.cancel(reason);
  }

  /**
   * The task's events. A stream can be iterated once.
   * @throws ImagewireError `streamAlreadyConsumed` on a second iteration.
   */
  [Symbol.asyncIterator](): AsyncIterator<TEvent> {
    if (this.#iterated) throw new ImagewireError('streamAlreadyConsumed', `task ${this.taskUUID} is already being iterated; a task stream can be consumed once (use result() for the finals)`);
    this.#iterated = true;
    const control = this.#control;
    const stop = (): void => {
      control.cancel(abortError('The consumer stopped iterating the task'));
      control.buffer.clear();
    };
    return {
      next: () => control.buffer.next(),
      return: () => {
        stop();
        return Promise.resolve({ done: true, value: undefined });
      },
      throw: (error?: unknown) => {
        stop();
        return Promise.reject(error);
      },
    };
  }
}
