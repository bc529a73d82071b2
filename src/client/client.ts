// ImagewireClient: the WebSocket client's public face. It creates the task layer (which creates
// the connection it drives) and offers the task methods, the events, connect() and close().
import { onAbort } from '../internal/abort.js';
import { deferred } from '../internal/deferred.js';
import type { StateName } from './connection/connection-state.js';
import type { Connection, ConnectionStats } from './connection/connection.js';
import { Dispatcher, type DispatcherStats } from './tasks/dispatcher.js';
import { ConnectionError, errorFromItem, TimeoutError, type ImagewireError } from './errors.js';
import { EventHub, type ClientEventName, type ClientEvents } from './connection/events.js';
import { readGetResponse } from './tasks/get-response.js';
import type { ImageResult } from './image-result.js';
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './options.js';
import type {
  GetResponseRequest,
  GetResponseResult,
  ImageInferenceEvent,
  ImageInferenceRequest,
  ImageUploadRequest,
  PingOptions,
  PingResult,
  UploadedImage,
} from './tasks/requests.js';
import type { WebSocketConstructor } from './socket/socket.js';
import { runTask, type RunnableTask, type RunResult, type TaskApi } from './tasks/task-api.js';
import { prepareImageInference, prepareImageUpload, validateGetResponse } from './tasks/task-factory.js';
import { TaskStream } from './tasks/task-stream.js';

/** Counters for tests and dashboards. */
export type ClientStats = Readonly<ConnectionStats & DispatcherStats & { outboxFrames: number; outboxBytes: number }>;

/**
 * The imagewire WebSocket client: one connection with authentication, keepalive, reconnect,
 * session resume and an outbox; each task an async iterator of its events plus result().
 * Create it with `createClient()`.
 */
export class ImagewireClient implements TaskApi, AsyncDisposable {
  readonly #options: ResolvedClientOptions;
  readonly #events: EventHub;
  readonly #connection: Connection;
  readonly #dispatcher: Dispatcher;
  #closing: Promise<void> | undefined;

  /**
   * @param options client options; see {@link ClientOptions}.
   * @param defaultWebSocket the WebSocket constructor used when `options.WebSocket` is not given
   *   (the package entries pass `ws` in Node and `globalThis.WebSocket` in browsers).
   */
  constructor(options: ClientOptions, defaultWebSocket?: WebSocketConstructor) {
    this.#options = resolveClientOptions(options, defaultWebSocket);
    this.#events = new EventHub(this.#options.onListenerError);
    // The task layer creates the connection it drives and is its only listener.
    this.#dispatcher = new Dispatcher(this.#options, this.#events);
    this.#connection = this.#dispatcher.connection;
    // Not lazy: connect now, without holding the process (an idle client must let it exit).
    if (!this.#options.lazy) this.#connection.connect().catch(() => undefined);
  }

  /** The connection state: idle, connecting, authenticating, open, reconnecting, closing, closed. */
  get state(): StateName {
    return this.#connection.state.name;
  }

  /** The session UUID the client resumes with, once a server gave one. */
  get sessionUUID(): string | undefined {
    return this.#connection.sessionUUID;
  }

  /** Extensions the server said it supports at the last authentication (empty for plain Runware). */
  get serverExtensions(): readonly string[] {
    return [...(this.#connection.sessionInfo?.serverExtensions ?? [])];
  }

  /** Counters: attempts, duplicates dropped, recoveries, tasks open and waiting, outbox size. */
  stats(): ClientStats {
    return { ...this.#connection.stats, ...this.#dispatcher.stats };
  }

  /**
   * Listens to a client event; returns the function that stops listening. A listener that throws
   * is reported to `onListenerError` and never affects the client or other listeners.
   */
  on<E extends ClientEventName>(event: E, listener: (...args: ClientEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Like {@link on}, for the next occurrence only. */
  once<E extends ClientEventName>(event: E, listener: (...args: ClientEvents[E]) => void): () => void {
    return this.#events.on(event, listener, true);
  }

  /** Removes a listener added with {@link on} or {@link once}. */
  off<E extends ClientEventName>(event: E, listener: (...args: ClientEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  /**
   * Connects now (tasks connect lazily anyway). Resolves when authenticated; rejects with the
   * error the client closed with (AuthenticationError for a refused key) or the signal's reason.
   */
  async connect(options: { signal?: AbortSignal } = {}): Promise<void> {
    const release = this.#dispatcher.hold();
    const aborted = deferred<never>();
    const removeAbort = onAbort(options.signal, (reason) => aborted.reject(reason));
    try {
      await Promise.race([this.#connection.connect(), aborted.promise]);
    } finally {
      removeAbort();
      release();
    }
  }

  /**
   * Generates images. The stream yields `preview` events (only with `previews` set, latest per
   * result index when you read slower than they come) and one `final` event per image, exactly
   * once; `result()` resolves with every final image ordered by index.
   * @example
   * for await (const event of client.imageInference({ positivePrompt: 'a fox', model: 'runware:101@1', width: 512, height: 512 })) {
   *   if (event.type === 'final') save(event.image.bytes);
   * }
   */
  imageInference(request: ImageInferenceRequest): TaskStream<ImageInferenceEvent, ImageResult[]> {
    const { run, timeoutMs, signal } = prepareImageInference(request, this.#options.validate);
    if (!run.ended) this.#dispatcher.submit(run, timeoutMs, signal);
    return new TaskStream(run);
  }

  /** Stores an image (data URI, base64 or URL) on the server; resolves with its imageUUID. */
  imageUpload(request: ImageUploadRequest): Promise<UploadedImage> {
    const { run, timeoutMs, signal } = prepareImageUpload(request, this.#options.validate);
    if (!run.ended) this.#dispatcher.submit(run, timeoutMs, signal);
    return run.result;
  }

  /**
   * Asks what a task produced so far (its status, final images, errors). Rejects with an
   * ApiError (e.g. `taskNotFound`) when the server refuses.
   */
  async getResponse(request: GetResponseRequest | string): Promise<GetResponseResult> {
    const asked = typeof request === 'string' ? { taskUUID: request } : request;
    const { taskUUID } = validateGetResponse(asked, this.#options.validate);
    this.#throwIfClosed();
    const release = this.#dispatcher.hold();
    try {
      const pending = this.#dispatcher.queries.ask(taskUUID);
      const answer = await this.#withDeadline(pending.answer, asked.timeoutMs, asked.signal, pending.cancel, `getResponse for ${taskUUID}`);
      if (answer.kind === 'error') throw errorFromItem(answer.error);
      return readGetResponse(taskUUID, answer.items);
    } finally {
      release();
    }
  }

  /** Sends a ping; resolves with the round trip to its pong. */
  async ping(options: PingOptions = {}): Promise<PingResult> {
    this.#throwIfClosed();
    const release = this.#dispatcher.hold();
    try {
      const pending = this.#connection.ping();
      const roundTripMs = await this.#withDeadline(pending.answer, options.timeoutMs, options.signal, pending.cancel, 'ping');
      return { roundTripMs };
    } finally {
      release();
    }
  }

  /** Runs a task object by its taskType (imageInference, imageUpload, getResponse, ping). */
  run<T extends RunnableTask>(task: T): RunResult<T> {
    return runTask(this, task);
  }

  /** Resolves when a new task would be queued without waiting (for producers that pace themselves). */
  waitForRoom(): Promise<void> {
    return this.#dispatcher.waitForRoom();
  }

  /**
   * Closes the client: every open task ends with a ConnectionError `clientClosed` (tasks the
   * server runs are cancelled there when it supports it), the socket closes, every timer and
   * listener is cleared, and nothing reconnects. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      const error = new ConnectionError('clientClosed', 'the client was closed');
      this.#dispatcher.shutdown(error);
      // The closing handshake runs on unref'd timers and an unref'd socket: hold the process
      // until it is done, so `await client.close()` at the end of a script completes.
      const release = this.#dispatcher.hold();
      this.#closing = this.#connection.close(error).finally(release);
    }
    return this.#closing;
  }

  /** `await using client = createClient(...)` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #throwIfClosed(): void {
    const error: ImagewireError | undefined = this.#dispatcher.closedError;
    if (error !== undefined) throw error;
  }

  async #withDeadline<T>(answer: Promise<T>, timeoutMs: number | undefined, signal: AbortSignal | undefined, cancel: () => void, what: string): Promise<T> {
    const limit = timeoutMs ?? this.#options.taskTimeoutMs;
    const stop = deferred<never>();
    const clock = this.#options.clock;
    const timer = clock.setTimeout(() => stop.reject(new TimeoutError('task', limit, `${what} got no answer within ${limit} ms`)), limit);
    const removeAbort = onAbort(signal, (reason) => stop.reject(reason));
    try {
      return await Promise.race([answer, stop.promise]);
    } catch (error) {
      cancel();
      throw error;
    } finally {
      clock.clearTimeout(timer);
      removeAbort();
    }
  }
}
