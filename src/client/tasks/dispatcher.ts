// The task layer of the WebSocket client: admits tasks (a bounded number in flight, a bounded
// wait beyond), writes them, routes every received item to its own task by taskUUID (one map
// lookup), recovers tasks after a reconnect, and settles every task when the client closes. It
// creates the connection it drives and is its only listener; per task it keeps one record of
// where the task is on the wire (in-flight.ts).
import { abortReason } from '../../internal/abort.js';
import { holdProcess } from '../../internal/clock.js';
import { Deadlines } from '../../internal/deadlines.js';
import { encodeClientFrame, type CancelTask, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';
import { Connection, type ConnectionHooks, type SessionInfo } from '../connection/connection.js';
import { ImagewireError, QueueFullError, errorFromItem } from '../errors.js';
import type { EventHub } from '../connection/events.js';
import type { Inbound } from '../socket/inbound.js';
import type { ResolvedClientOptions } from '../options.js';
import { Admission } from './admission.js';
import { InFlight, type InFlightOwner } from './in-flight.js';
import { Queries } from './queries.js';
import { Recovery, unknownTaskCodes } from './recovery.js';
import type { AnyTaskRun, EndKind, ServerView } from './task-run.js';

/** Counters for tests and diagnostics. */
export interface DispatcherStats {
  /** Tasks open now (waiting, queued for a connection, or sent). */
  open: number;
  /** Tasks in flight (holding one of maxInFlight slots). */
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

const WITH_PREVIEWS: ServerView = { previews: true };
const WITHOUT_PREVIEWS: ServerView = { previews: false };

/** An item that belongs to a task of the dispatcher's (not an authentication, ping or cancel answer). */
function routable(item: ServerDataItem): item is ServerDataItem & { taskUUID: string } {
  return item.taskUUID !== undefined && item.taskType !== 'authentication' && item.taskType !== 'ping' && item.taskType !== 'cancel';
}

/** Routes tasks and their items. */
export class Dispatcher implements ConnectionHooks {
  /** The connection this dispatcher drives; it reports to the dispatcher alone. */
  readonly connection: Connection;
  readonly #options: ResolvedClientOptions;
  readonly #events: EventHub;
  /** The deadlines of every open task, behind one timer. */
  readonly #deadlines: Deadlines;
  /** Every open task by taskUUID. */
  readonly #runs = new Map<string, InFlight>();
  /** The tasks waiting for a slot (within maxWaiting, or beyond it under whenFull "wait") and the slots in use. */
  readonly #admission: Admission<InFlight>;
  /** waitForRoom() callers: woken when room may have appeared, and when the client closes. */
  readonly #roomListeners = new Set<() => void>();
  readonly #queries: Queries;
  readonly #recovery: Recovery;
  readonly #stats = { duplicateFinals: 0, orphanItems: 0, checks: 0, resends: 0 };
  #closedError: ImagewireError | undefined;
  #demand = 0;
  #releaseProcess: (() => void) | undefined;

  constructor(options: ResolvedClientOptions, events: EventHub) {
    this.#options = options;
    this.#events = events;
    this.#deadlines = new Deadlines(options.clock);
    this.connection = new Connection(options, events, this);
    this.#admission = new Admission(options.maxInFlight, (record) => this.#admitted(record));
    this.#queries = new Queries(this.connection);
    this.#recovery = new Recovery({
      queries: this.#queries,
      clock: options.clock,
      pollIntervalMs: options.pollIntervalMs,
      connection: this.connection,
      resend: (record) => this.#write(record),
      stats: this.#stats,
    });
  }

  get queries(): Queries {
    return this.#queries;
  }

  get stats(): DispatcherStats {
    return { ...this.#stats, open: this.#runs.size, inFlight: this.#admission.inUse, waiting: this.#admission.waiting };
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
    const refusal = this.#refusal(run, signal);
    if (refusal !== undefined) {
      run.fail(refusal.error, refusal.kind);
      return;
    }
    const record = new InFlight(run, this.#owner);
    // Released in #onEnded, which the record's end runs exactly once.
    this.#setDemand(+1);
    run.start(this.#deadlines, timeoutMs ?? this.#options.taskTimeoutMs, signal, record);
    this.#runs.set(run.taskUUID, record);
    this.#admission.add(record);
  }

  /** Resolves when a new task would be queued without waiting. */
  async waitForRoom(): Promise<void> {
    while (this.#admission.waiting >= this.#options.maxWaiting && this.#closedError === undefined) {
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
    const connection = this.connection;
    const canCancel = connection.openAttempt !== undefined && connection.sessionInfo?.serverExtensions.has('cancel') === true;
    this.#admission.close();
    for (const record of [...this.#runs.values()]) {
      if (canCancel && record.phase === 'sent') this.#sendCancel(record.run.taskUUID);
      record.run.fail(error, 'closed');
    }
    this.#queries.rejectAll(error);
    this.#deadlines.clear();
    this.#roomChanged();
  }

  // ---- ConnectionHooks ---------------------------------------------------------------------

  open(attempt: number, session: SessionInfo): void {
    this.#queries.reopened(attempt);
    this.#recovery.reopened(attempt, session, [...this.#runs.values()]);
  }

  closed(error: ImagewireError): void {
    this.shutdown(error);
  }

  unreachable(error: ImagewireError): void {
    // Not a shutdown: the client stays usable, and the next task tries to connect again. The
    // waiting tasks end first, so no slot an ending task frees goes to one about to fail.
    const records = [...this.#runs.values()];
    for (const record of records) if (record.phase === 'waiting') record.run.fail(error, 'failed');
    for (const record of records) record.run.fail(error, 'failed');
    this.#queries.rejectAll(error);
  }

  inbound(inbound: Inbound): void {
    if (inbound.kind === 'invalid') {
      this.#events.emit('error', new ImagewireError('invalidResponse', `the server sent a frame the client cannot read: ${inbound.reason}`));
      return;
    }
    if (inbound.kind === 'binary') {
      const record = this.#runs.get(inbound.header.taskUUID);
      if (record === undefined) {
        this.#stats.orphanItems++;
        return;
      }
      record.confirm();
      record.run.handleBinary(inbound.header, inbound.image);
      return;
    }
    if (inbound.data.length > 0) this.#routeItems(inbound.data);
    for (const item of inbound.errors) this.#routeError(item);
  }

  // ---- routing -----------------------------------------------------------------------------

  #routeItems(items: readonly ServerDataItem[]): void {
    // Frames of an imagewire server carry one task (most often one item: routed without grouping);
    // others may mix tasks, so group by taskUUID.
    const only = items.length === 1 ? items[0] : undefined;
    if (only !== undefined) {
      if (routable(only)) this.#routeGroup(only.taskUUID, items);
      return;
    }
    const byTask = new Map<string, ServerDataItem[]>();
    for (const item of items) {
      if (!routable(item)) continue;
      const group = byTask.get(item.taskUUID);
      if (group === undefined) byTask.set(item.taskUUID, [item]);
      else group.push(item);
    }
    for (const [taskUUID, group] of byTask) this.#routeGroup(taskUUID, group);
  }

  /** The items of one task from one frame. */
  #routeGroup(taskUUID: string, group: readonly ServerDataItem[]): void {
    const record = this.#runs.get(taskUUID);
    if (record !== undefined) {
      const run = record.run;
      record.confirm();
      for (const item of group) run.handleItem(item);
      if (!run.ended && run.async && group.some((item) => item.status === 'processing')) this.#recovery.startPolling(record);
    } else {
      this.#stats.orphanItems += group.length;
    }
    // Items with a status are what getResponse answers with (one frame per answer).
    if (group.some((item) => typeof item.status === 'string')) this.#queries.answerItems(taskUUID, group);
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
    const record = this.#runs.get(taskUUID);
    if (record === undefined) {
      if (!this.#queries.answerError(taskUUID, item)) this.#stats.orphanItems++;
      return;
    }
    if (item.code === 'serverShuttingDown') {
      // A draining server did not take the task and closes this socket (1001) once its running
      // tasks are done: after the reconnect, recovery asks about the task and sends it again.
      return;
    }
    if (item.code === 'conflictTaskUUID') {
      // The server already has a task under this UUID (ours, sent before a drop): collect it.
      record.confirm();
      this.#recovery.check(record);
      return;
    }
    if (unknownTaskCodes.has(item.code) && this.#queries.answerError(taskUUID, item)) return;
    record.run.fail(errorFromItem(item));
  }

  // ---- admission and writing ---------------------------------------------------------------

  /** Why a task cannot even wait; checked first, so a task that cannot run never wakes the connection. */
  #refusal(run: AnyTaskRun, signal: AbortSignal | undefined): { error: unknown; kind: Exclude<EndKind, 'completed'> } | undefined {
    if (signal?.aborted === true) return { error: abortReason(signal), kind: 'aborted' };
    if (this.#closedError !== undefined) return { error: this.#closedError, kind: 'closed' };
    if (this.#runs.has(run.taskUUID)) {
      return { error: new ImagewireError('conflictTaskUUID', `taskUUID ${run.taskUUID} is already used by an open task of this client`), kind: 'failed' };
    }
    const { maxWaiting, maxInFlight, whenFull } = this.#options;
    if (this.#admission.waiting >= maxWaiting && whenFull === 'reject') {
      return { error: new QueueFullError('tasks', maxWaiting, `${maxWaiting} tasks already wait for one of ${maxInFlight} slots (maxWaiting; whenFull is "reject")`), kind: 'failed' };
    }
    return undefined;
  }

  /** A waiting task got its slot: write it, and wake producers waiting for room. */
  #admitted(record: InFlight): void {
    this.#write(record);
    this.#roomChanged();
  }

  /** Room among the waiting tasks may have appeared (or the client closed): wake waitForRoom(). */
  #roomChanged(): void {
    if (this.#roomListeners.size === 0) return;
    for (const wake of [...this.#roomListeners]) wake();
  }

  #write(record: InFlight): void {
    try {
      record.send(this.connection);
    } catch (error) {
      record.run.fail(error);
      return;
    }
    this.connection.checkHealthIfStale();
  }

  /** What every record asks of the dispatcher: one object for all of them, not closures per task. */
  readonly #owner: InFlightOwner = {
    // What the open connection's server can do; a task is encoded again at write time if it changed.
    serverView: (): ServerView => {
      const connection = this.connection;
      return connection.openAttempt !== undefined && connection.sessionInfo?.serverExtensions.has('previews') === true ? WITH_PREVIEWS : WITHOUT_PREVIEWS;
    },
    ended: (record, kind) => this.#onEnded(record, kind),
  };

  #sendCancel(taskUUID: string): void {
    const frame = encodeClientFrame([{ taskType: 'cancel', taskUUID } satisfies CancelTask]);
    try {
      this.connection.send({ encode: () => frame, bytes: frame.length });
    } catch {
      // Best effort: an unsent cancel only costs the server some work.
    }
  }

  #onEnded(record: InFlight, kind: EndKind): void {
    this.#setDemand(-1);
    const run = record.run;
    if (this.#runs.get(run.taskUUID) === record) this.#runs.delete(run.taskUUID);
    record.withdraw();
    this.#stats.duplicateFinals += run.duplicates;
    if (this.#closedError !== undefined) return;
    const cancel = this.connection.sessionInfo?.serverExtensions.has('cancel') === true;
    // The cancel goes before the task that takes the freed slot, so the server never holds both.
    if ((kind === 'aborted' || kind === 'timedOut') && record.phase === 'sent' && cancel) this.#sendCancel(run.taskUUID);
    if (record.phase !== 'waiting') this.#admission.release();
    else if (this.#admission.remove(record)) this.#roomChanged();
  }

  #setDemand(delta: number): void {
    const before = this.#demand;
    this.#demand += delta;
    if (before === 0 && this.#demand > 0) {
      this.#releaseProcess = holdProcess();
      if (this.#closedError === undefined) this.connection.setBusy(true);
    } else if (before > 0 && this.#demand === 0) {
      this.#releaseProcess?.();
      this.#releaseProcess = undefined;
      if (this.#closedError === undefined) this.connection.setBusy(false);
    }
  }
}
