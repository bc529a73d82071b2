// getResponse queries in flight, keyed by the taskUUID they ask about. A query is a read, so
// unlike a task it may be written again after a reconnect: answers are never replayed. Queries
// asked together (the checks of a reconnect) travel in one frame.
import { deferred, type Deferred } from '../../internal/deferred.js';
import { utf8Length } from '../../internal/bytes.js';
import { encodeClientFrame, type GetResponseTask, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';
import { OutgoingFrame, type FrameSender } from '../connection/outgoing.js';

/** How a getResponse was answered. */
export type QueryAnswer =
  | { readonly kind: 'items'; readonly items: readonly ServerDataItem[] }
  | { readonly kind: 'error'; readonly error: ProtocolErrorItem };

interface Query {
  readonly taskUUID: string;
  readonly answer: Deferred<QueryAnswer>;
  /** The frame it was last sent in; the frame leaves the outbox once no query in it is wanted. */
  frame: QueryFrame | undefined;
}

/** One frame carrying several queries. */
class QueryFrame extends OutgoingFrame {
  readonly #text: string;
  readonly bytes: number;
  /** Queries in it still waiting for their answer. */
  wanted: number;

  constructor(batch: readonly Query[]) {
    super();
    this.#text = encodeClientFrame(batch.map((query): GetResponseTask => ({ taskType: 'getResponse', taskUUID: query.taskUUID })));
    this.bytes = utf8Length(this.#text);
    this.wanted = batch.length;
  }

  encode(): string {
    return this.#text;
  }
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
  readonly #sender: FrameSender;
  readonly #byTask = new Map<string, Query[]>();

  constructor(sender: FrameSender) {
    this.#sender = sender;
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
    const queries = taskUUIDs.map((taskUUID): Query => ({ taskUUID, answer: deferred<QueryAnswer>(), frame: undefined }));
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
  reopened(attempt: number): void {
    const again: Query[] = [];
    for (const list of this.#byTask.values()) {
      for (const query of list) if (query.frame?.writtenBefore(attempt) === true) again.push(query);
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
      const frame = new QueryFrame(batch);
      for (const query of batch) {
        this.#release(query);
        query.frame = frame;
      }
      frame.send(this.#sender);
    }
  }

  /** The query no longer needs its frame; the frame leaves the outbox when none of its queries does. */
  #release(query: Query): void {
    const frame = query.frame;
    if (frame === undefined) return;
    query.frame = undefined;
    frame.wanted--;
    if (frame.wanted === 0) frame.withdraw();
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
