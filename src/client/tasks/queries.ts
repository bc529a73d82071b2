// getResponse queries in flight, keyed by the taskUUID they ask about. A query is a read, so
// unlike a task it may be written again after a reconnect: answers are never replayed. Queries
// asked together (the checks of a reconnect) travel in one frame.
import { deferred, type Deferred } from '../../internal/deferred.js';
import { utf8Length } from '../../internal/bytes.js';
import { encodeClientFrame, type GetResponseTask, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';
import type { OutboxEntry } from '../connection/outbox.js';

/** How a getResponse was answered. */
export type QueryAnswer =
  | { readonly kind: 'items'; readonly items: readonly ServerDataItem[] }
  | { readonly kind: 'error'; readonly error: ProtocolErrorItem };

/** The connection, as far as queries need it. */
export interface QueryWire {
  /** Writes now or queues; returns the function that unqueues. Throws QueueFullError. */
  send(entry: OutboxEntry): () => void;
  /** The id of the open attempt, if open. */
  readonly attemptId: number | undefined;
}

interface Query {
  readonly taskUUID: string;
  readonly answer: Deferred<QueryAnswer>;
  /** The attempt it was written on; undefined while queued. */
  sentOn: number | undefined;
  /** The frame it travels in; the frame leaves the outbox once no query in it is wanted. */
  frame: SharedFrame | undefined;
}

/** One outbox entry carrying several queries. */
interface SharedFrame {
  wanted: number;
  unqueue: () => void;
}

/** Most getResponse tasks in one frame (far under any server's tasks-per-frame limit). */
const MAX_PER_FRAME = 64;

/** A pending getResponse; `cancel` forgets it (a late answer is then ignored). */
export interface PendingQuery {
  readonly answer: Promise<QueryAnswer>;
  cancel(): void;
}

/** Every getResponse in flight. O(1) lookup by taskUUID; FIFO per taskUUID. */
export class Queries {
  readonly #wire: QueryWire;
  readonly #byTask = new Map<string, Query[]>();

  constructor(wire: QueryWire) {
    this.#wire = wire;
  }

  get size(): number {
    return this.#byTask.size;
  }

  /** True when a getResponse about `taskUUID` waits for its answer. */
  has(taskUUID: string): boolean {
    return this.#byTask.has(taskUUID);
  }

  /** Sends a getResponse about `taskUUID`. Throws QueueFullError when the outbox is full. */
  ask(taskUUID: string): PendingQuery {
    const [pending] = this.askMany([taskUUID]);
    if (pending === undefined) throw new Error('imagewire internal error: a query was not made');
    return pending;
  }

  /** Sends one getResponse per taskUUID, together. Throws QueueFullError when the outbox is full (none is sent). */
  askMany(taskUUIDs: readonly string[]): PendingQuery[] {
    const queries = taskUUIDs.map((taskUUID): Query => ({ taskUUID, answer: deferred<QueryAnswer>(), sentOn: undefined, frame: undefined }));
    // Registered before they are written, so even an answer that comes back at once finds its query.
    for (const query of queries) {
      const list = this.#byTask.get(query.taskUUID);
      if (list === undefined) this.#byTask.set(query.taskUUID, [query]);
      else list.push(query);
    }
    try {
      this.#write(queries);
    } catch (error) {
      for (const query of queries) this.#forget(query);
      throw error;
    }
    return queries.map((query) => ({ answer: query.answer.promise, cancel: () => this.#forget(query) }));
  }

  /** Answers the oldest query about `taskUUID` with a frame's items; false when none waits. */
  answerItems(taskUUID: string, items: readonly ServerDataItem[]): boolean {
    return this.#answer(taskUUID, { kind: 'items', items });
  }

  /** Answers the oldest query about `taskUUID` with an error; false when none waits. */
  answerError(taskUUID: string, error: ProtocolErrorItem): boolean {
    return this.#answer(taskUUID, { kind: 'error', error });
  }

  /** A connection opened: write again, together, every query written on an older socket. */
  reopened(attemptId: number): void {
    const again: Query[] = [];
    for (const list of this.#byTask.values()) {
      for (const query of list) if (query.sentOn !== undefined && query.sentOn !== attemptId) again.push(query);
    }
    if (again.length > 0) this.#write(again);
  }

  /** Rejects every query (the client closed). */
  rejectAll(error: unknown): void {
    for (const list of this.#byTask.values()) {
      for (const query of list) {
        this.#release(query);
        query.answer.reject(error);
      }
    }
    this.#byTask.clear();
  }

  /** Writes `queries`, at most MAX_PER_FRAME to a frame. */
  #write(queries: readonly Query[]): void {
    for (let start = 0; start < queries.length; start += MAX_PER_FRAME) {
      const batch = queries.slice(start, start + MAX_PER_FRAME);
      const tasks = batch.map((query): GetResponseTask => ({ taskType: 'getResponse', taskUUID: query.taskUUID }));
      const text = encodeClientFrame(tasks);
      const shared: SharedFrame = { wanted: batch.length, unqueue: () => undefined };
      for (const query of batch) {
        this.#release(query);
        query.sentOn = undefined;
        query.frame = shared;
      }
      shared.unqueue = this.#wire.send({
        encode: () => text,
        bytes: utf8Length(text),
        written: () => {
          const attemptId = this.#wire.attemptId;
          for (const query of batch) if (query.frame === shared) query.sentOn = attemptId;
        },
      });
    }
  }

  /** The query no longer needs its frame; the frame leaves the outbox when none of its queries does. */
  #release(query: Query): void {
    const frame = query.frame;
    if (frame === undefined) return;
    query.frame = undefined;
    frame.wanted--;
    if (frame.wanted === 0) frame.unqueue();
  }

  #answer(taskUUID: string, answer: QueryAnswer): boolean {
    const list = this.#byTask.get(taskUUID);
    const query = list?.shift();
    if (query === undefined) return false;
    if (list?.length === 0) this.#byTask.delete(taskUUID);
    this.#release(query);
    query.answer.resolve(answer);
    return true;
  }

  #forget(query: Query): void {
    this.#release(query);
    const list = this.#byTask.get(query.taskUUID);
    if (list === undefined) return;
    const rest = list.filter((entry) => entry !== query);
    if (rest.length === 0) this.#byTask.delete(query.taskUUID);
    else this.#byTask.set(query.taskUUID, rest);
  }
}
