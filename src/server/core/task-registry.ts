// Tasks by owner (key digest) and taskUUID: status, the results kept for getResponse, where their
// outputs go (re-attachable), cancellation through an AbortController, and retention after the end,
// with a per-key share of the finished records kept.
import { protocolError, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';
import type { Clock } from '../../internal/clock.js';
import type { ImageStore } from '../images/store.js';
import { inlineFieldValue, type InlineField, type ServerFrame } from './server-frame.js';
import { OwnerShares, type ShareNode } from '../owner-shares.js';
import type { OutputTarget } from './output-target.js';
import type { UsageToken } from '../usage/usage-store.js';
import type { TaskReporter } from '../observability/task-reporter.js';

/** Where a task is in its life. */
export type TaskRecordState = 'running' | 'success' | 'error' | 'cancelled';

/** A result kept for getResponse: the item as sent, minus an inline image, which the image store keeps. */
export interface StoredResult {
  readonly item: ServerDataItem;
  readonly inline?: { readonly field: InlineField; readonly imageUUID: string; readonly mediaType: string };
}

/** One task the server accepted; once finished it counts in its key's share of the records kept. */
export interface TaskRecord extends ShareNode {
  readonly owner: string;
  readonly taskUUID: string;
  readonly taskType: string;
  /** deliveryMethod "async": outputs are only served through getResponse. */
  readonly async: boolean;
  readonly controller: AbortController;
  /** Called once when the task is cancelled, before its controller aborts (the router's hook). */
  onCancel: ((abort: TaskAbort) => void) | undefined;
  state: TaskRecordState;
  /** Where outputs go while running (undefined for async tasks). getResponse may move it. */
  target: OutputTarget | undefined;
  /** Kept as long as the record (minutes): see {@link keepResult}. */
  results: StoredResult[];
  errors: readonly ProtocolErrorItem[] | undefined;
  /** 0..100 for getResponse's processing item. */
  progress: number;
  /** Set when the task ends; the record is forgotten after it. */
  expiresAt: number;
  /** The session token the task came with, whose usage its finals count in (none for an API key). */
  token?: UsageToken | undefined;
}

/** Why a task was aborted. */
export class TaskAbort extends Error {
  readonly reason: 'cancelled' | 'shutdown';

  constructor(reason: 'cancelled' | 'shutdown') {
    super(reason === 'cancelled' ? 'the task was cancelled' : 'the server is shutting down');
    this.name = 'TaskAbort';
    this.reason = reason;
  }
}

/** A task's key within its owner's map: taskUUIDs are compared without case (a lower-case UUID is its own key, no new string). */
function keyOf(taskUUID: string): string {
  return taskUUID.toLowerCase();
}

/**
 * The task records as the rest of the server uses them. A shared implementation (several processes
 * behind one address) would keep what getResponse and conflict checks read (state, results, errors,
 * expiry) in the shared store and what only the running process can hold (the AbortController, the
 * output target) beside it: `create`, `get`, `finish` and `responseItems` would then answer
 * promises, `emit` and `cancel` would reach the owning process. They are synchronous here because
 * every task passes through them and the memory store needs no turn of the event loop.
 */
export interface TaskRegistry {
  /** Tasks running now, server-wide. */
  readonly running: number;
  /** Tasks of `owner` running now. */
  runningFor(owner: string): number;
  /** The task `taskUUID` of `owner`, while running or retained. */
  get(owner: string, taskUUID: string): TaskRecord | undefined;
  /** Registers a new running task; undefined when the owner already has a task with this UUID (conflict). */
  create(owner: string, taskUUID: string, taskType: string, options: { async: boolean; target: OutputTarget }): TaskRecord | undefined;
  /** Sends a task-output frame of a running sync task to its current target. */
  emit(record: TaskRecord, frame: ServerFrame): void;
  /** Sends a preview of a running sync task, best effort. */
  emitPreview(record: TaskRecord, frame: ServerFrame): void;
  /** Ends a task; its record stays for getResponse and conflict checks for the retention time. */
  finish(record: TaskRecord, state: Exclude<TaskRecordState, 'running'>, errors?: readonly ProtocolErrorItem[]): void;
  /** Cancels a running task: aborts its work and ends it; false when it was not running. */
  cancel(record: TaskRecord, errors: readonly ProtocolErrorItem[], cause: 'cancelled' | 'shutdown'): boolean;
  /** Aborts every running task (close, restart without keepState). */
  abortAll(): void;
  /** getResponse's items: every result so far with status success, then processing or the error. */
  responseItems(record: TaskRecord, images: ImageStore): ServerDataItem[];
  /** Forgets finished records past their retention; the server calls it now and then. */
  sweep(): void;
  /** Aborts every running task and forgets every record. */
  clear(): void;
}

/** The task records in this process's memory. */
export class MemoryTaskRegistry implements TaskRegistry {
  /** Records by owner, then by taskUUID: no "owner:taskUUID" string is built and kept per task. */
  readonly #tasks = new Map<string, Map<string, TaskRecord>>();
  /**
   * Finished records by owner, oldest first: the maxTaskRecords bound and each key's share of it.
   * Running records are not in it (they are never evicted, and in-flight limits bound them).
   */
  readonly #finished: OwnerShares<TaskRecord>;
  readonly #runningByOwner = new Map<string, number>();
  readonly #retentionMs: number;
  readonly #clock: Clock;
  /** Told when tasks start, send and end (the server's logs and metrics). */
  readonly #reporter: TaskReporter | undefined;
  #running = 0;

  constructor(options: { retentionMs: number; maxRecords: number; maxRecordsPerKey?: number; clock: Clock; reporter?: TaskReporter }) {
    this.#retentionMs = options.retentionMs;
    this.#clock = options.clock;
    this.#reporter = options.reporter;
    this.#finished = new OwnerShares({ total: options.maxRecords, perOwner: options.maxRecordsPerKey ?? options.maxRecords });
  }

  get running(): number {
    return this.#running;
  }

  runningFor(owner: string): number {
    return this.#runningByOwner.get(owner) ?? 0;
  }

  /** The task `taskUUID` of `owner`, while running or retained. */
  get(owner: string, taskUUID: string): TaskRecord | undefined {
    return this.#kept(owner, keyOf(taskUUID));
  }

  /** The record under `key` unless it ended and its retention passed (then it is forgotten). */
  #kept(owner: string, key: string): TaskRecord | undefined {
    const record = this.#tasks.get(owner)?.get(key);
    if (record === undefined) return undefined;
    if (record.state !== 'running' && record.expiresAt <= this.#clock.now()) {
      this.#forget(record);
      return undefined;
    }
    return record;
  }

  /** Registers a new running task; undefined when the owner already has a task with this UUID (conflict). */
  create(owner: string, taskUUID: string, taskType: string, options: { async: boolean; target: OutputTarget }): TaskRecord | undefined {
    const key = keyOf(taskUUID);
    if (this.#kept(owner, key) !== undefined) return undefined;
    const record = newTaskRecord(owner, taskUUID, taskType, options.async, options.async ? undefined : options.target);
    let owned = this.#tasks.get(owner);
    if (owned === undefined) {
      owned = new Map();
      this.#tasks.set(owner, owned);
    }
    owned.set(key, record);
    this.#running++;
    this.#runningByOwner.set(owner, this.runningFor(owner) + 1);
    this.#reporter?.started(record);
    return record;
  }

  /** Sends a task-output frame of a running sync task to its current target. */
  emit(record: TaskRecord, frame: ServerFrame): void {
    if (record.state !== 'running') return;
    // The frame goes out first: the bookkeeping of the report is off the round trip's path.
    record.target?.deliver(frame);
    this.#reporter?.output(record, frame.kind === 'image' ? frame.image.byteLength : 0);
  }

  /** Sends a preview of a running sync task, best effort. */
  emitPreview(record: TaskRecord, frame: ServerFrame): void {
    if (record.state !== 'running') return;
    this.#reporter?.preview(record);
    record.target?.deliverPreview(frame);
  }

  /** Ends a task; its record stays for getResponse and conflict checks for the retention time. */
  finish(record: TaskRecord, state: Exclude<TaskRecordState, 'running'>, errors?: readonly ProtocolErrorItem[]): void {
    if (record.state !== 'running') return;
    record.state = state;
    if (errors !== undefined) record.errors = errors;
    record.target = undefined;
    record.expiresAt = this.#clock.now() + this.#retentionMs;
    this.#running--;
    const left = this.runningFor(record.owner) - 1;
    if (left > 0) this.#runningByOwner.set(record.owner, left);
    else this.#runningByOwner.delete(record.owner);
    // The record now counts against its key's share; past it (or past the total) an older finished one goes.
    this.#finished.add(record.owner, record, 1);
    for (;;) {
      const room = this.#finished.room(record.owner, 0);
      if (room.kind !== 'evict') break;
      this.#forget(room.key);
    }
    this.#reporter?.ended(record);
  }

  /** Cancels a running task: aborts its work and ends it; no output of it is sent afterwards. */
  cancel(record: TaskRecord, errors: readonly ProtocolErrorItem[], cause: 'cancelled' | 'shutdown'): boolean {
    if (record.state !== 'running') return false;
    this.finish(record, 'cancelled', errors);
    const abort = new TaskAbort(cause);
    const onCancel = record.onCancel;
    record.onCancel = undefined;
    onCancel?.(abort);
    record.controller.abort(abort);
    return true;
  }

  /** Aborts every running task (close, restart without keepState). */
  abortAll(): void {
    for (const record of this.#records()) {
      const reason = protocolError('serverShuttingDown', 'the server shut down before the task finished', { taskType: record.taskType, taskUUID: record.taskUUID });
      this.cancel(record, [reason], 'shutdown');
    }
  }

  /** getResponse's items: every result so far with status success, then processing or the error. */
  responseItems(record: TaskRecord, images: ImageStore): ServerDataItem[] {
    const items: ServerDataItem[] = [];
    for (const result of record.results) {
      const inline = result.inline;
      if (inline === undefined) {
        items.push({ ...result.item, status: 'success' });
        continue;
      }
      const image = images.get(inline.imageUUID);
      if (image === undefined) {
        items.push({ taskType: record.taskType, taskUUID: record.taskUUID, imageUUID: inline.imageUUID, status: 'error', error: { code: 'imageNotFound', message: 'the image is no longer kept by the server' } });
        continue;
      }
      const { taskType, imageUUID, ...rest } = result.item;
      const value = inlineFieldValue(inline.field, inline.mediaType, image.bytes);
      items.push({ taskType, taskUUID: record.taskUUID, imageUUID, [inline.field]: value, ...rest, status: 'success' });
    }
    if (record.state === 'running') {
      items.push({ taskType: record.taskType, taskUUID: record.taskUUID, status: 'processing', progress: record.progress });
    } else if (record.state !== 'success') {
      const first = record.errors?.[0];
      const error: Record<string, string> = { code: first?.code ?? 'taskCancelled', message: first?.message ?? 'the task was cancelled' };
      if (first?.parameter !== undefined) error.parameter = first.parameter;
      items.push({ taskType: record.taskType, taskUUID: record.taskUUID, status: 'error', error });
    }
    return items;
  }

  /** Forgets finished records past their retention. */
  sweep(): void {
    const now = this.#clock.now();
    for (const record of this.#records()) if (record.state !== 'running' && record.expiresAt <= now) this.#forget(record);
  }

  clear(): void {
    this.abortAll();
    this.#tasks.clear();
    this.#finished.clear();
  }

  /** Every record, of every owner. */
  *#records(): IterableIterator<TaskRecord> {
    for (const owned of this.#tasks.values()) yield* owned.values();
  }

  /** Forgets a finished record. */
  #forget(record: TaskRecord): void {
    const owned = this.#tasks.get(record.owner);
    const key = keyOf(record.taskUUID);
    if (owned?.get(key) === record) {
      owned.delete(key);
      if (owned.size === 0) this.#tasks.delete(record.owner);
    }
    this.#finished.delete(record);
  }
}

/**
 * Adds a result to a record. The first makes an array of one: push() onto an empty array reserves
 * 17 places, which every finished record would keep for the whole retention time.
 */
export function keepResult(record: TaskRecord, result: StoredResult): void {
  if (record.results.length === 0) record.results = [result];
  else record.results.push(result);
}

/** A running task's record as the runner reads and updates it: no results yet, not in any share. */
export function newTaskRecord(owner: string, taskUUID: string, taskType: string, async: boolean, target: OutputTarget | undefined): TaskRecord {
  return {
    owner,
    taskUUID,
    taskType,
    async,
    controller: new AbortController(),
    onCancel: undefined,
    state: 'running',
    target,
    results: [],
    errors: undefined,
    progress: 0,
    expiresAt: Number.POSITIVE_INFINITY,
    shareAccount: undefined,
    sharePrev: undefined,
    shareNext: undefined,
    sharePinned: false,
    shareAmount: 0,
  };
}
