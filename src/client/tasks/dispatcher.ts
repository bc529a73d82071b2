// The task layer of the WebSocket client: admits tasks (p-queue caps those in flight, a bounded
// wait beyond), writes them, routes every received item to its own task by taskUUID (one map
// lookup), recovers tasks after a reconnect, and settles every task when the client closes.
import PQueue from 'p-queue';
import { abortReason } from '../../internal/abort.js';
import { utf8Length } from '../../internal/bytes.js';
import { holdProcess } from '../../internal/clock.js';
import { encodeClientFrame, type CancelTask, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';
import type { Connection, ConnectionHooks, OpenInfo } from '../connection/connection.js';
import { ImagewireError, QueueFullError, errorFromItem } from '../errors.js';
import type { EventHub } from '../connection/events.js';
import type { Inbound } from '../socket/inbound.js';
import type { ResolvedClientOptions } from '../options.js';
import { Queries } from './queries.js';
import { Recovery, unknownTaskCodes } from './recovery.js';
import type { AnyTaskRun, EndKind, ServerView } from './task-run.js';

/** Counters for tests and diagnostics. */
export interface DispatcherStats {
  /** Tasks open now (waiting, queued for a connection, or sent). */
  open: number;
  /** Tasks in flight (admitted by the queue). */
  inFlight: number;
  /** Tasks waiting for a slot. */
  waiting: number;
  /** Final images received again and dropped. */
  duplicateFinals: number;
  /** Items for no open task (late results of ended tasks). */
  orphanItems: number;
  /** getResponse checks made to recover tasks. */
  checks: number;
  /** Tasks written again under the same taskUUID after the server answered taskNotFound. */
  resends: number;
}

/** Routes tasks and their items. */
export class Dispatcher implements ConnectionHooks {
  readonly #options: ResolvedClientOptions;
  readonly #events: EventHub;
  readonly #connection: () => Connection;
  readonly #queue: PQueue;
  readonly #runs = new Map<string, AnyTaskRun>();
  /** Tasks beyond maxWaiting, when whenFull is "wait": they wait for room in #waiting. */
  readonly #roomWaiters = new Set<AnyTaskRun>();
  /**
   * Tasks waiting for a slot, oldest first (a Set keeps insertion order and deletes in O(1)).
   * p-queue is handed a task only when it has a free slot, so a waiting task costs no queue entry
   * and no AbortController, and an aborted one just leaves this set.
   */
  readonly #waiting = new Set<AnyTaskRun>();
  /** waitForRoom() callers: woken when room may have appeared, and when the client closes. */
  readonly #roomListeners = new Set<() => void>();
  readonly #queries: Queries;
  readonly #recovery: Recovery;
  readonly #stats = { duplicateFinals: 0, orphanItems: 0, checks: 0, resends: 0 };
  #closedError: ImagewireError | undefined;
  #demand = 0;
  #releaseProcess: (() => void) | undefined;

  constructor(options: ResolvedClientOptions, events: EventHub, connection: () => Connection) {
    this.#options = options;
    this.#events = events;
    this.#connection = connection;
    this.#queue = new PQueue({ concurrency: options.maxInFlight });
    this.#queue.on('next', this.#slotFreed);
    this.#queries = new Queries({
      send: (entry) => this.#connection().send(entry),
      get attemptId() {
        return connection().attemptId;
      },
    });
    this.#recovery = new Recovery({
      queries: this.#queries,
      clock: options.clock,
      pollIntervalMs: options.pollIntervalMs,
      lastInfo: () => this.#connection().lastInfo,
      resend: (run) => this.#write(run),
      stats: this.#stats,
    });
  }

  get queries(): Queries {
    return this.#queries;
  }

  get stats(): DispatcherStats {
    return { ...this.#stats, open: this.#runs.size, inFlight: this.#queue.pending, waiting: this.#waiting.size + this.#roomWaiters.size };
  }

  /** The error new tasks end with once the client is closed. */
  get closedError(): ImagewireError | undefined {
    return this.#closedError;
  }

  /** Keeps the connection busy (and a Node process alive) until the returned function runs. */
  hold(): () => void {
    this.#setDemand(+1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#setDemand(-1);
    };
  }

  /** Submits a task; it ends exactly once, whatever happens. */
  submit(run: AnyTaskRun, timeoutMs: number | undefined, signal: AbortSignal | undefined): void {
    // Refusals first, so a task that cannot run never wakes the connection.
    if (signal?.aborted === true) {
      run.fail(abortReason(signal), 'aborted');
      return;
    }
    if (this.#closedError !== undefined) {
      run.fail(this.#closedError, 'closed');
      return;
    }
    if (this.#runs.has(run.taskUUID)) {
      run.fail(new ImagewireError('conflictTaskUUID', `taskUUID ${run.taskUUID} is already used by an open task of this client`));
      return;
    }
    // Tasks already waiting for room go first.
    const room = this.#waiting.size < this.#options.maxWaiting && this.#roomWaiters.size === 0;
    if (!room && this.#options.whenFull === 'reject') {
      run.fail(new QueueFullError('tasks', this.#options.maxWaiting, `${this.#options.maxWaiting} tasks already wait for one of ${this.#options.maxInFlight} slots (maxWaiting; whenFull is "reject")`));
      return;
    }
    const release = this.hold();
    run.start(this.#options.clock, timeoutMs ?? this.#options.taskTimeoutMs, signal, (kind) => {
      release();
      this.#onEnded(run, kind);
    });
    this.#runs.set(run.taskUUID, run);
    if (room) {
      this.#enqueue(run);
    } else {
      run.phase = 'waiting';
      this.#roomWaiters.add(run);
    }
  }

  /** Resolves when a new task would be queued without waiting. */
  async waitForRoom(): Promise<void> {
    while (this.#waiting.size + this.#roomWaiters.size >= this.#options.maxWaiting && this.#closedError === undefined) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#roomListeners.delete(wake);
          resolve();
        };
        this.#roomListeners.add(wake);
      });
    }
  }

  /** Ends every task with `error`; sends cancel for those the server is running, if it can. */
  shutdown(error: ImagewireError): void {
    if (this.#closedError !== undefined) return;
    this.#closedError = error;
    const connection = this.#connection();
    const canCancel = connection.info?.serverExtensions.has('cancel') === true;
    for (const run of [...this.#runs.values()]) {
      if (canCancel && run.phase === 'sent') this.#sendCancel(run.taskUUID);
      run.fail(error, 'closed');
    }
    this.#queries.rejectAll(error);
    this.#waiting.clear();
    this.#roomWaiters.clear();
    this.#queue.clear();
    this.#queue.off('next', this.#slotFreed);
    for (const wake of [...this.#roomListeners]) wake();
  }

  // ---- ConnectionHooks ---------------------------------------------------------------------

  open(info: OpenInfo): void {
    this.#queries.reopened(info.attempt);
    this.#recovery.reopened(info, [...this.#runs.values()]);
  }

  closed(error: ImagewireError): void {
    this.shutdown(error);
  }

  unreachable(error: ImagewireError): void {
    // Not a shutdown: the client stays usable, and the next task tries to connect again.
    for (const run of [...this.#runs.values()]) run.fail(error, 'failed');
    this.#queries.rejectAll(error);
  }

  inbound(inbound: Inbound): void {
    if (inbound.kind === 'invalid') {
      this.#events.emit('error', new ImagewireError('invalidResponse', `the server sent a frame the client cannot read: ${inbound.reason}`));
      return;
    }
    if (inbound.kind === 'binary') {
      const run = this.#runs.get(inbound.header.taskUUID);
      if (run === undefined) {
        this.#stats.orphanItems++;
        return;
      }
      run.confirmed = true;
      run.handleBinary(inbound.header, inbound.image);
      return;
    }
    if (inbound.data.length > 0) this.#routeItems(inbound.data);
    for (const item of inbound.errors) this.#routeError(item);
  }

  // ---- routing -----------------------------------------------------------------------------

  #routeItems(items: readonly ServerDataItem[]): void {
    // Frames of an imagewire server carry one task; others may mix tasks, so group by taskUUID.
    const byTask = new Map<string, ServerDataItem[]>();
    for (const item of items) {
      const taskUUID = item.taskUUID;
      if (taskUUID === undefined || item.taskType === 'authentication' || item.taskType === 'ping' || item.taskType === 'cancel') continue;
      const group = byTask.get(taskUUID);
      if (group === undefined) byTask.set(taskUUID, [item]);
      else group.push(item);
    }
    for (const [taskUUID, group] of byTask) {
      const run = this.#runs.get(taskUUID);
      if (run !== undefined) {
        run.confirmed = true;
        for (const item of group) run.handleItem(item);
        if (!run.ended && run.async && group.some((item) => item.status === 'processing')) this.#recovery.startPolling(run);
      } else {
        this.#stats.orphanItems += group.length;
      }
      // Items with a status are what getResponse answers with (one frame per answer).
      if (group.some((item) => typeof item.status === 'string')) this.#queries.answerItems(taskUUID, group);
    }
  }

  #routeError(item: ProtocolErrorItem): void {
    const taskUUID = item.taskUUID;
    // An error that names no task belongs to none: report it, fail nothing (sdk-js P10).
    if (taskUUID === undefined || item.taskType === 'authentication') {
      this.#events.emit('error', errorFromItem(item));
      return;
    }
    if (item.taskType === 'cancel') return;
    if (item.taskType === 'getResponse') {
      if (!this.#queries.answerError(taskUUID, item)) this.#events.emit('error', errorFromItem(item));
      return;
    }
    const run = this.#runs.get(taskUUID);
    if (run === undefined) {
      if (!this.#queries.answerError(taskUUID, item)) this.#stats.orphanItems++;
      return;
    }
    if (item.code === 'conflictTaskUUID') {
      // The server already has a task under this UUID (ours, sent before a drop): collect it.
      run.confirmed = true;
      this.#recovery.check(run);
      return;
    }
    if (unknownTaskCodes.has(item.code) && this.#queries.answerError(taskUUID, item)) return;
    run.fail(errorFromItem(item));
  }

  // ---- admission and writing ---------------------------------------------------------------

  #enqueue(run: AnyTaskRun): void {
    run.phase = 'waiting';
    this.#waiting.add(run);
    this.#startWaiting();
  }

  /** Hands waiting tasks to p-queue while it has free slots; each starts at once. */
  #startWaiting(): void {
    for (const run of this.#waiting) {
      if (this.#queue.pending + this.#queue.size >= this.#options.maxInFlight) return;
      this.#waiting.delete(run);
      this.#queue
        .add(async () => {
          if (run.ended) return;
          this.#write(run);
          // The slot stays taken until the task ends.
          await run.result.then(noop, noop);
        })
        .catch(noop);
    }
  }

  readonly #slotFreed = (): void => {
    this.#startWaiting();
    this.#roomChanged();
  };

  /** Room in #waiting may have appeared: move tasks waiting for room in, wake waitForRoom(). */
  #roomChanged(): void {
    for (const run of this.#roomWaiters) {
      if (this.#waiting.size >= this.#options.maxWaiting) break;
      this.#roomWaiters.delete(run);
      this.#enqueue(run);
    }
    for (const wake of [...this.#roomListeners]) wake();
  }

  #write(run: AnyTaskRun): void {
    const connection = this.#connection();
    // Encoded once for the server as known now; again at write time only if that changed.
    let encoded: { previews: boolean; text: string } | undefined;
    const encode = (): string => {
      const view = this.#serverView();
      if (encoded?.previews !== view.previews) encoded = { previews: view.previews, text: encodeClientFrame([run.wireTask(view)]) };
      return encoded.text;
    };
    run.phase = 'outbox';
    run.confirmed = false;
    try {
      run.unqueue = connection.send({
        encode,
        bytes: utf8Length(encode()),
        written: () => {
          run.phase = 'sent';
          run.sentOn = connection.attemptId;
          run.unqueue = noop;
        },
      });
    } catch (error) {
      run.fail(error);
      return;
    }
    connection.checkHealthIfStale();
  }

  #serverView(): ServerView {
    return { previews: this.#connection().info?.serverExtensions.has('previews') === true };
  }

  #sendCancel(taskUUID: string): void {
    const frame = encodeClientFrame([{ taskType: 'cancel', taskUUID } satisfies CancelTask]);
    try {
      this.#connection().send({ encode: () => frame, bytes: frame.length });
    } catch {
      // Best effort: an unsent cancel only costs the server some work.
    }
  }

  #onEnded(run: AnyTaskRun, kind: EndKind): void {
    if (this.#runs.get(run.taskUUID) === run) this.#runs.delete(run.taskUUID);
    run.unqueue();
    this.#roomWaiters.delete(run);
    if (this.#waiting.delete(run) && this.#closedError === undefined) this.#roomChanged();
    this.#stats.duplicateFinals += run.duplicates;
    const info = this.#connection().lastInfo;
    if ((kind === 'aborted' || kind === 'timedOut') && run.phase === 'sent' && info?.serverExtensions.has('cancel') === true && this.#closedError === undefined) {
      this.#sendCancel(run.taskUUID);
    }
  }

  #setDemand(delta: number): void {
    const before = this.#demand;
    this.#demand += delta;
    if (before === 0 && this.#demand > 0) {
      this.#releaseProcess = holdProcess();
      if (this.#closedError === undefined) this.#connection().setBusy(true);
    } else if (before > 0 && this.#demand === 0) {
      this.#releaseProcess?.();
      this.#releaseProcess = undefined;
      if (this.#closedError === undefined) this.#connection().setBusy(false);
    }
  }
}

function noop(): void {
  // Intentionally empty.
}
