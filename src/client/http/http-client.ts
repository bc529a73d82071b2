// The HTTP transport: one `POST /v1` per task, for one-shot use where a socket is not wanted
// (serverless functions, scripts). Same task methods and results as the WebSocket client; no
// previews, no resume: a request either answers with the task's results or fails.
import { onAbort } from '../../internal/abort.js';
import { systemClock, type Clock } from '../../internal/clock.js';
import { Deadlines } from '../../internal/deadlines.js';
import { decodeServerFrame, encodeClientFrame, type ClientTask, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';
import { AuthenticationError, ConnectionError, ImagewireError, errorFromItem } from '../errors.js';
import { resolveFetch } from './fetch.js';
import { readGetResponse } from '../tasks/get-response.js';
import type { ImageResult } from '../image-result.js';
import type { ApiKeyProvider } from '../api-key.js';
import type {
  GetResponseRequest,
  GetResponseResult,
  ImageInferenceEvent,
  ImageInferenceRequest,
  ImageUploadRequest,
  PingOptions,
  PingResult,
  UploadedImage,
} from '../tasks/requests.js';
import { runTask, type RunnableTask, type RunResult, type TaskApi } from '../tasks/task-api.js';
import { prepareImageInference, prepareImageUpload, validateGetResponse } from '../tasks/task-factory.js';
import type { RequestValidator } from '../tasks/request-validator.js';
import { validateRequests } from '../validate-requests.js';
import type { AnyTaskRun } from '../tasks/task-run.js';
import { TaskStream } from '../tasks/task-stream.js';

/** The public Runware HTTP endpoint. */
export const DEFAULT_HTTP_URL = 'https://api.runware.ai/v1';

/** `ws(s)://` becomes `http(s)://`; a bare origin gets the API path `/v1`. */
function httpEndpoint(url: string): string {
  const parsed = new URL(url.replace(/^ws(s?):\/\//i, 'http$1://'));
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/v1';
  return parsed.toString();
}

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions {
  /** The API key, or a function returning it (called for every request). */
  apiKey: ApiKeyProvider;
  /**
   * Endpoint; `ws://`/`wss://` URLs are turned into `http://`/`https://`, and a bare origin gets `/v1`.
   * @default "https://api.runware.ai/v1"
   */
  url?: string;
  /**
   * The fetch implementation.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * Deadline of every request, in ms; per task with `timeoutMs`.
   * @default 300000
   */
  taskTimeoutMs?: number;
  /**
   * Checks every request before it is sent (see `ClientOptions.validate`); false leaves it to
   * the server, whose error items then end the task with an ApiError.
   * @default validateRequests
   */
  validate?: RequestValidator | false;
  /**
   * Timers, for tests.
   * @default the global timers
   */
  clock?: Clock;
}

interface Answer {
  readonly data: ServerDataItem[];
  readonly errors: ProtocolErrorItem[];
}

/** The task methods over `POST /v1`. */
export class ImagewireHttpClient implements TaskApi {
  readonly #apiKey: ApiKeyProvider;
  readonly #url: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #validate: RequestValidator | undefined;
  /** The deadlines of this client's tasks, behind one timer. */
  readonly #deadlines: Deadlines;

  constructor(options: HttpClientOptions) {
    this.#apiKey = options.apiKey;
    this.#url = httpEndpoint(options.url ?? DEFAULT_HTTP_URL);
    this.#fetch = resolveFetch(options.fetch);
    this.#timeoutMs = options.taskTimeoutMs ?? 300_000;
    this.#clock = options.clock ?? systemClock;
    this.#validate = options.validate === false ? undefined : (options.validate ?? validateRequests);
    this.#deadlines = new Deadlines(this.#clock);
  }

  /** Generates images; the stream yields each final image once the response arrived (no previews). */
  imageInference(request: ImageInferenceRequest): TaskStream<ImageInferenceEvent, ImageResult[]> {
    const { run, timeoutMs, signal } = prepareImageInference(request, this.#validate);
    this.#execute(run, timeoutMs, signal, run.wireTask({ previews: false }));
    return new TaskStream(run);
  }

  /** Stores an image; resolves with its imageUUID. */
  imageUpload(request: ImageUploadRequest): Promise<UploadedImage> {
    const { run, timeoutMs, signal } = prepareImageUpload(request, this.#validate);
    this.#execute(run, timeoutMs, signal, run.wireTask());
    return run.result;
  }

  /** Asks what a task produced so far. */
  async getResponse(request: GetResponseRequest | string): Promise<GetResponseResult> {
    const asked = typeof request === 'string' ? { taskUUID: request } : request;
    const task = validateGetResponse(asked, this.#validate);
    const answer = await this.#post([task], asked.timeoutMs, asked.signal);
    const item = answer.errors[0];
    if (item !== undefined && !answer.data.some((entry) => entry.taskUUID === task.taskUUID)) throw errorFromItem(item);
    return readGetResponse(task.taskUUID, answer.data, answer.errors);
  }

  /** Round trip of one `POST /v1` with a ping task. */
  async ping(options: PingOptions = {}): Promise<PingResult> {
    const started = this.#clock.now();
    const answer = await this.#post([{ taskType: 'ping', ping: true }], options.timeoutMs, options.signal);
    const item = answer.errors[0];
    if (item !== undefined) throw errorFromItem(item);
    return { roundTripMs: this.#clock.now() - started };
  }

  /** Runs any task object by its taskType. */
  run<T extends RunnableTask>(task: T): RunResult<T> {
    return runTask(this, task);
  }

  #execute(run: AnyTaskRun, timeoutMs: number | undefined, signal: AbortSignal | undefined, task: ClientTask): void {
    if (run.ended) return;
    const request = new AbortController();
    run.start(this.#deadlines, timeoutMs ?? this.#timeoutMs, signal, { taskEnded: () => request.abort() });
    void this.#post([task], undefined, request.signal).then(
      (answer) => {
        if (run.ended) return;
        const error = answer.errors.find((item) => item.taskUUID === undefined || item.taskUUID === run.taskUUID);
        if (error !== undefined) {
          run.fail(errorFromItem(error));
          return;
        }
        for (const item of answer.data) if (item.taskUUID === run.taskUUID) run.handleItem(item);
        // The response holds everything the task made: it is the server's completion signal.
        run.serverDone();
        if (!run.ended) run.fail(new ImagewireError('invalidResponse', `the HTTP answer for task ${run.taskUUID} holds no result`));
      },
      (error: unknown) => run.fail(error),
    );
  }

  async #post(tasks: readonly (ClientTask | Record<string, unknown>)[], timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<Answer> {
    const controller = new AbortController();
    const removeAbort = onAbort(signal, (reason) => controller.abort(reason));
    const timer = timeoutMs === undefined ? undefined : this.#clock.setTimeout(() => controller.abort(new ImagewireError('taskTimeout', `no HTTP answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      const apiKey = typeof this.#apiKey === 'function' ? await this.#apiKey() : this.#apiKey;
      let response: Response;
      try {
        response = await this.#fetch(this.#url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: encodeClientFrame(tasks as readonly Record<string, unknown>[]),
          signal: controller.signal,
        });
      } catch (error) {
        if (controller.signal.aborted) throw controller.signal.reason;
        throw new ConnectionError('connectionFailed', `POST ${this.#url} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      const text = await response.text();
      const frame = decodeServerFrame(text);
      if (!frame.ok) {
        throw new ImagewireError(response.ok ? 'invalidResponse' : 'httpError', `POST ${this.#url} answered HTTP ${response.status} with a body the client cannot read (${frame.reason})`);
      }
      const first = frame.errors[0];
      if (response.status === 401 && first !== undefined) throw new AuthenticationError(first);
      return { data: frame.data, errors: frame.errors };
    } finally {
      removeAbort();
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    }
  }
}

/**
 * Creates an HTTP client: the same task methods as the WebSocket client over `POST /v1`, one
 * request per task.
 * @example
 * const http = createHttpClient({ apiKey, url: 'https://api.runware.ai/v1' });
 * const [image] = await http.imageInference({ positivePrompt: 'a fox', model: 'runware:101@1', width: 512, height: 512 }).result();
 */
export function createHttpClient(options: HttpClientOptions): ImagewireHttpClient {
  return new ImagewireHttpClient(options);
}
