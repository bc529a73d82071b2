// Live generation for as-you-type UIs: update() as often as you like; requests are throttled
// (leading and trailing), only the latest one runs (a newer one aborts the stale task, which
// cancels it on the server), and only the latest request's previews and finals come out.
import { abortError } from '../internal/abort.js';
import type { Clock, TimerHandle } from '../internal/clock.js';
import { systemClock } from '../internal/clock.js';
import type { PreviewsOption } from '../protocol/index.js';
import type { ImagewireError } from './errors.js';
import type { ImageResult } from './image-result.js';
import { EventBuffer } from './tasks/event-buffer.js';
import type { ImageInferenceEvent, ImageInferenceRequest } from './tasks/requests.js';
import type { TaskStream } from './tasks/task-stream.js';

/** What a live session needs of a client (an ImagewireClient fits). */
export interface LiveTaskSource {
  imageInference(request: ImageInferenceRequest): TaskStream<ImageInferenceEvent, ImageResult[]>;
}

/** The parameters of one live request: an imageInference request without its task options. */
export type LiveRequest = Omit<ImageInferenceRequest, 'signal' | 'taskUUID' | 'previews'>;

/** Options of {@link createLiveSession}. */
export interface LiveOptions {
  /**
   * At most one request starts per this many ms: the first update starts at once, the last one
   * of a burst starts when the window ends, the ones in between are dropped.
   * @default 150
   */
  throttleMs?: number;
  /**
   * Previews to ask for (see the previews extension); false for finals only.
   * @default true
   */
  previews?: PreviewsOption;
  /** Called with every event the iterator would yield (both can be used). */
  onEvent?: (event: LiveEvent) => void;
  /** Timers, for tests with fake time. @default the global timers */
  clock?: Clock;
}

/** Fields every live event has. */
interface LiveEventBase {
  /** The sequence number update() returned for the request this event belongs to. */
  readonly seq: number;
  readonly taskUUID: string;
}

/** A request started (after throttling) as a task. */
export interface LiveStartEvent extends LiveEventBase {
  readonly type: 'start';
  readonly request: LiveRequest;
}

/** A step of the latest request. */
export interface LivePreviewEvent extends LiveEventBase {
  readonly type: 'preview';
  readonly index: number;
  readonly step: number;
  readonly steps: number;
  readonly image: ImageResult;
}

/** A final image of the latest request. */
export interface LiveFinalEvent extends LiveEventBase {
  readonly type: 'final';
  readonly index: number;
  readonly image: ImageResult;
}

/** The latest request finished: every final image arrived. */
export interface LiveDoneEvent extends LiveEventBase {
  readonly type: 'done';
  readonly images: readonly ImageResult[];
}

/** The latest request failed (a stale request's failure is never reported). */
export interface LiveErrorEvent extends LiveEventBase {
  readonly type: 'error';
  readonly error: ImagewireError | Error;
}

/** What a live session yields. */
export type LiveEvent = LiveStartEvent | LivePreviewEvent | LiveFinalEvent | LiveDoneEvent | LiveErrorEvent;

/** Counters for tests and dashboards. */
export interface LiveStats {
  /** update() calls. */
  readonly updates: number;
  /** Tasks started (updates left after throttling). */
  readonly started: number;
  /** Tasks aborted because a newer request replaced them (or close()). */
  readonly superseded: number;
}

/** The one running request. */
interface Running {
  readonly seq: number;
  readonly task: TaskStream<ImageInferenceEvent, ImageResult[]>;
  readonly controller: AbortController;
}

/**
 * A live-generation session over a client. `update(params)` as the user types; iterate it (or pass
 * `onEvent`) for the latest request's `start`, `preview`, `final`, `done` and `error` events, each
 * tagged with the request's `seq`. `close()` aborts the running task and clears every timer.
 * @example
 * const live = createLiveSession(client, { throttleMs: 150 });
 * input.addEventListener('input', () => live.update({ positivePrompt: input.value, model: 'runware:101@1', width: 512, height: 512 }));
 * for await (const event of live) if (event.type !== 'start' && event.type !== 'done' && event.type !== 'error') paint(event.image);
 */
export class LiveSession implements AsyncIterable<LiveEvent>, AsyncDisposable {
  readonly #source: LiveTaskSource;
  readonly #throttleMs: number;
  readonly #previews: PreviewsOption;
  readonly #onEvent: ((event: LiveEvent) => void) | undefined;
  readonly #clock: Clock;
  /**
   * Events waiting for the iterator; a preview replaces the unread one of its result index. It
   * only ever holds the latest request's events (a new request discards the older ones first and
   * a stale task emits nothing), so the result index alone is the key.
   */
  readonly #queue = new EventBuffer<LiveEvent>();
  #seq = 0;
  #pending: { seq: number; request: LiveRequest } | undefined;
  #timer: TimerHandle | undefined;
  #running: Running | undefined;
  #closed = false;
  #iterated = false;
  #stats = { updates: 0, started: 0, superseded: 0 };

  /** @internal use {@link createLiveSession}. */
  constructor(source: LiveTaskSource, options: LiveOptions = {}) {
    const throttleMs = options.throttleMs ?? 150;
    if (typeof throttleMs !== 'number' || !Number.isFinite(throttleMs) || throttleMs < 0) {
      throw new TypeError(`imagewire: throttleMs must be a finite number of ms >= 0; got ${String(throttleMs)}`);
    }
    this.#source = source;
    this.#throttleMs = throttleMs;
    this.#previews = options.previews ?? true;
    this.#onEvent = options.onEvent;
    this.#clock = options.clock ?? systemClock;
  }

  /** The sequence number of the latest update() (0 before the first). */
  get latestSeq(): number {
    return this.#seq;
  }

  /** The sequence number of the request running now, if one is. */
  get runningSeq(): number | undefined {
    return this.#running?.seq;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Counters: updates, tasks started, tasks superseded. */
  stats(): LiveStats {
    return { ...this.#stats };
  }

  /**
   * Asks for `request` to be generated, replacing whatever was asked before. Returns the request's
   * sequence number (events of this request carry it). Throws after close().
   */
  update(request: LiveRequest): number {
    if (this.#closed) throw new TypeError('imagewire: update() on a closed live session');
    this.#stats.updates++;
    const seq = ++this.#seq;
    this.#pending = { seq, request };
    if (this.#timer === undefined) this.#flush();
    return seq;
  }

  /** Aborts the running task, drops a pending request, clears the timer, ends the iterator. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = undefined;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#supersede(abortError('The live session was closed'));
    this.#queue.clear();
  }

  /** `await using live = createLiveSession(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * The latest request's events. Iterable once; leaving the loop closes the session.
   * @throws TypeError on a second iteration.
   */
  [Symbol.asyncIterator](): AsyncIterator<LiveEvent> {
    if (this.#iterated) throw new TypeError('imagewire: a live session can be iterated once');
    this.#iterated = true;
    const leave = (): Promise<IteratorResult<LiveEvent>> => {
      this.close();
      return Promise.resolve({ done: true, value: undefined });
    };
    return { next: () => this.#queue.next(), return: leave };
  }

  /** Starts the pending request (if any) and opens a throttle window. */
  #flush(): void {
    const pending = this.#pending;
    if (pending === undefined || this.#closed) return;
    this.#pending = undefined;
    this.#start(pending.seq, pending.request);
    if (this.#throttleMs > 0) {
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.#flush();
      }, this.#throttleMs);
    }
  }

  #supersede(reason: unknown): void {
    const running = this.#running;
    if (running === undefined) return;
    this.#running = undefined;
    this.#stats.superseded++;
    // Aborting the signal ends the task locally and sends `cancel` to a server that supports it.
    running.controller.abort(reason);
  }

  #start(seq: number, request: LiveRequest): void {
    this.#supersede(abortError('A newer live request replaced this one'));
    // Queued events of older requests are of no use to anyone once a newer one runs.
    this.#queue.discard((event) => event.seq < seq);
    const controller = new AbortController();
    let task: TaskStream<ImageInferenceEvent, ImageResult[]>;
    try {
      task = this.#source.imageInference({ ...request, previews: this.#previews, signal: controller.signal });
    } catch (error) {
      this.#emit({ type: 'error', seq, taskUUID: '', error: error instanceof Error ? error : new Error(String(error)) });
      return;
    }
    const running: Running = { seq, task, controller };
    this.#running = running;
    this.#stats.started++;
    this.#emit({ type: 'start', seq, taskUUID: task.taskUUID, request });
    this.#pump(running).catch(rethrowOutside);
  }

  /** Forwards a task's events while it is the latest; stops quietly once it is not. */
  async #pump(running: Running): Promise<void> {
    const { seq, task } = running;
    const current = (): boolean => this.#running === running;
    try {
      for await (const event of task) {
        if (!current()) break;
        if (event.type === 'preview') {
          this.#emit({ type: 'preview', seq, taskUUID: task.taskUUID, index: event.index, step: event.step, steps: event.steps, image: event.image });
        } else {
          this.#emit({ type: 'final', seq, taskUUID: task.taskUUID, index: event.index, image: event.image });
        }
      }
      const images = await task.result();
      if (current()) {
        this.#running = undefined;
        this.#emit({ type: 'done', seq, taskUUID: task.taskUUID, images });
      }
    } catch (error) {
      if (!current()) return;
      this.#running = undefined;
      this.#emit({ type: 'error', seq, taskUUID: task.taskUUID, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  #emit(event: LiveEvent): void {
    // Staleness is decided by the callers (`current()`); a closed session emits nothing.
    if (this.#closed) return;
    if (event.type === 'preview') this.#queue.pushLatest(event.index, event);
    else this.#queue.push(event);
    try {
      this.#onEvent?.(event);
    } catch (error) {
      // A throwing callback must not stop the stream; report it the platform's way.
      const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
      if (typeof report === 'function') report(error);
      else console.error('imagewire: a live onEvent callback threw', error);
    }
  }
}

/** Creates a {@link LiveSession} over `client` (an ImagewireClient, or anything with imageInference). */
export function createLiveSession(client: LiveTaskSource, options: LiveOptions = {}): LiveSession {
  return new LiveSession(client, options);
}

/**
 * #pump catches the task's own failures; what is left is a listener of ours throwing. It surfaces as
 * an uncaught exception, as a synchronous emitter's would, not as a rejection nobody handles.
 */
function rethrowOutside(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
