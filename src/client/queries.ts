// getResponse queries in flight, keyed by the taskUUID they ask about. A query is a read, so
// unlike a task it may be written again after a reconnect: answers are never replayed.
import { deferred, type Deferred } from '../internal/deferred.js';
import { utf8Length } from '../internal/bytes.js';
import { encodeClientFrame, type GetResponseTask, type ProtocolErrorItem, type ServerDataItem } from '../protocol/index.js';
import type { OutboxEntry } from './outbox.js';

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
  unqueue: () => void;
}

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
    const query: Query = { taskUUID, answer: deferred<QueryAnswer>(), sentOn: undefined, unqueue: () => undefined };
    // Registered before it is written, so even an answer that comes back at once finds it.
    const list = this.#byTask.get(taskUUID);
    if (list === undefined) this.#byTask.set(taskUUID, [query]);
    else list.push(query);
    try {
      this.#write(query);
    } catch (error) {
      this.#forget(query);
      throw error;
    }
    return { answer: query.answer.promise, cancel: () => this.#forget(query) };
  }

  /** Answers the oldest query about `taskUUID` with a frame's items; false when none waits. */
  answerItems(taskUUID: string, items: readonly ServerDataItem[]): boolean {
    return this.#answer(taskUUID, { kind: 'items', items });
  }

  /** Answers the oldest query about `taskUUID` with an error; false when none waits. */
  answerError(taskUUID: string, error: ProtocolErrorItem): boolean {
    return this.#answer(taskUUID, { kind: 'error', error });
  }

  /** A connection opened: write again every query written on an older socket. */
  reopened(attemptId: number): void {
    for (const list of this.#byTask.values()) {
      for (const query of list) {
        if (query.sentOn !== undefined && query.sentOn !== attemptId) this.#write(query);
      }
    }
  }

  /** Rejects every query (the client closed). */
  rejectAll(error: unknown): void {
    for (const list of this.#byTask.values()) {
      for (const query of list) {
        query.unqueue();
        query.answer.reject(error);
      }
    }
    this.#byTask.clear();
  }

  #write(query: Query): void {
    const frame = encodeClientFrame([{ taskType: 'getResponse', taskUUID: query.taskUUID } satisfies GetResponseTask]);
    query.sentOn = undefined;
    query.unqueue = this.#wire.send({
      encode: () => frame,
      bytes: utf8Length(frame),
      written: () => {
        query.sentOn = this.#wire.attemptId;
      },
    });
  }

  #answer(taskUUID: string, answer: QueryAnswer): boolean {
    const list = this.#byTask.get(taskUUID);
    const query = list?.shift();
    if (query === undefined) return false;
    if (list?.length === 0) this.#byTask.delete(taskUUID);
    query.answer.resolve(answer);
    return true;
  }

  #forget(query: Query): void {
    query.unqueue();
    const list = this.#byTask.get(query.taskUUID);
    if (list === undefined) return;
    const rest = list.filter((entry) => entry !== query);
    if (rest.length === 0) this.#byTask.delete(query.taskUUID);
    else this.#byTask.set(query.taskUUID, rest);
  }
}
