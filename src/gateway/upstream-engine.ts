// An Engine that runs each task on a Runware-compatible upstream service through imagewire's own
// client: one long-lived connection, the same taskUUID upstream, and the client's recovery rules, so
// a task is asked about (getResponse) before it is ever submitted again.
import { createClient, type ClientOptions, type FinalEvent as ClientFinalEvent, type ImagewireClient, type PreviewEvent as ClientPreviewEvent, type WebSocketConstructor } from '../index.js';
import { EngineError, resultSeed, type Engine, type EngineEvent, type EngineModel, type EngineRequest, type FinalEvent, type ImageFormat } from '../engine/index.js';
import { systemClock, type Clock } from '../internal/clock.js';
import { Availability } from './availability.js';
import { engineErrorOf } from './upstream-errors.js';
import { upstreamRequest } from './upstream-request.js';

/** Where the gateway reports what its operator must know: the upstream's connection and refusals. Never given a key. */
export interface UpstreamLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Options of {@link createUpstreamEngine}. */
export interface UpstreamEngineOptions {
  /** The upstream's WebSocket URL, e.g. `wss://ws-api.runware.ai/v1` or another imagewire server's `ws://host:port/v1`. */
  url: string;
  /** The upstream key (read it from the environment, never a command line). A function is asked at every authentication. */
  apiKey: string | (() => string | Promise<string>);
  /** Models listed to clients (`models()`); any AIR id is passed upstream, which decides. @default [] */
  models?: readonly EngineModel[];
  /**
   * Model ids rewritten before a task goes upstream. The OpenAI-style and imagine faces name their
   * presets by imagewire's catalogue ids (`imagewire:1@1`…), which a hosted service does not know;
   * by default those run on `runware:101@1`. Give your own map to pick other upstream models.
   * @default {@link defaultModelAliases}
   */
  modelAliases?: Readonly<Record<string, string>>;
  /** Deadline of one task upstream, ms; past it the task fails with the retryable `upstreamTimeout`. @default 300000 */
  taskTimeoutMs?: number;
  /** How long a running task waits for a disconnected upstream before it fails with the retryable `upstreamUnavailable`, ms. @default 10000 */
  unavailableAfterMs?: number;
  /** After the upstream refused the key, tasks fail at once with `upstreamAuthFailed` for this long before the key is tried again, ms. @default 30000 */
  authRetryAfterMs?: number;
  /** Tasks in flight upstream at once; more wait in the client's queue. @default 64 */
  maxInFlight?: number;
  /** Receives connection changes and key refusals (never the key). @default nothing is logged */
  logger?: UpstreamLogger;
  /** For tests: the WebSocket constructor and the clock. */
  WebSocket?: WebSocketConstructor;
  clock?: Clock;
}

/** An {@link Engine} backed by an upstream service; close it when the server using it has closed. */
export interface UpstreamEngine extends Engine {
  /** The upstream connection's state, as the client names it (`open` when tasks can go upstream). */
  readonly state: string;
  /** Closes the upstream connection; running tasks end with `upstreamUnavailable`. */
  close(): Promise<void>;
}

/** The catalogue ids of imagewire's own looks, run upstream on a hosted model. */
export const defaultModelAliases: Readonly<Record<string, string>> = { 'imagewire:1@1': 'runware:101@1', 'imagewire:2@1': 'runware:101@1', 'imagewire:3@1': 'runware:101@1' };

/** An AIR id (`provider:id@version`): anything else is refused locally, the rest is the upstream's to judge. */
const AIR_ID = /^[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9_.-]{1,64}@[A-Za-z0-9_.-]{1,64}$/;

function positive(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved <= 0) throw new RangeError(`${name} must be a positive number of ms; got ${resolved}`);
  return resolved;
}

function formatOf(value: string | undefined, fallback: ImageFormat): ImageFormat {
  return value === 'PNG' || value === 'JPG' || value === 'WEBP' ? value : fallback;
}

/** Creates an engine that runs every task on the upstream at `options.url`. */
export function createUpstreamEngine(options: UpstreamEngineOptions): UpstreamEngine {
  if (typeof options.url !== 'string' || !/^wss?:\/\//i.test(options.url)) throw new TypeError(`upstream url must be a ws:// or wss:// URL; got ${JSON.stringify(options.url)}`);
  if (options.apiKey === '' || (typeof options.apiKey !== 'string' && typeof options.apiKey !== 'function')) throw new TypeError('the upstream key must be a non-empty string or a function returning one');
  return new GatewayEngine(options);
}

class GatewayEngine implements UpstreamEngine {
  readonly name = 'upstream';
  readonly #options: UpstreamEngineOptions;
  readonly #clock: Clock;
  readonly #taskTimeoutMs: number;
  readonly #authRetryAfterMs: number;
  readonly #availability: Availability;
  readonly #aliases: Readonly<Record<string, string>>;
  #client: ImagewireClient | undefined;
  /** Until when tasks fail at once because the upstream refused the key (clock ms). */
  #authRefusedUntil = 0;
  #closed = false;

  constructor(options: UpstreamEngineOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#taskTimeoutMs = positive('taskTimeoutMs', options.taskTimeoutMs, 300_000);
    this.#authRetryAfterMs = positive('authRetryAfterMs', options.authRetryAfterMs, 30_000);
    this.#aliases = options.modelAliases ?? defaultModelAliases;
    this.#availability = new Availability(this.#clock, positive('unavailableAfterMs', options.unavailableAfterMs, 10_000));
  }

  get state(): string {
    return this.#client?.state ?? 'idle';
  }

  models(): readonly EngineModel[] {
    return this.#options.models ?? [];
  }

  hasModel(model: string): boolean {
    return AIR_ID.test(model);
  }

  async *generate(request: EngineRequest, { signal }: { signal: AbortSignal }): AsyncGenerator<EngineEvent, void, undefined> {
    if (this.#closed) throw new EngineError('upstreamUnavailable', 'the gateway is closing; try again shortly');
    if (this.#clock.now() < this.#authRefusedUntil) throw new EngineError('upstreamAuthFailed', 'the upstream service refused this server\'s key; the operator has been told');
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const unavailable = new EngineError('upstreamUnavailable', 'the upstream service has been unreachable too long; try again shortly');
    const unwatch = this.#availability.watch(() => stop.abort(unavailable));
    try {
      const model = Object.hasOwn(this.#aliases, request.model) ? (this.#aliases[request.model] ?? request.model) : request.model;
      const task = this.#connection().imageInference(upstreamRequest({ ...request, model }, stop.signal, this.#taskTimeoutMs));
      for await (const event of task) yield event.type === 'preview' ? previewOf(event) : finalOf(event, request);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (stop.signal.aborted && stop.signal.reason === unavailable) throw unavailable;
      throw this.#failed(error);
    } finally {
      unwatch();
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    await client?.close();
  }

  /** The upstream client, made on first use and again after the key was refused (which closes a client for good). */
  #connection(): ImagewireClient {
    const current = this.#client;
    if (current !== undefined && current.state !== 'closed') return current;
    const client = createClient(this.#clientOptions());
    client.on('connected', (event) => {
      this.#availability.up();
      this.#options.logger?.info('upstream connected', { url: this.#options.url, resumed: event.resumed, extensions: event.enabledExtensions });
    });
    client.on('disconnected', (event) => {
      this.#availability.down();
      this.#options.logger?.warn('upstream disconnected', { url: this.#options.url, error: event.error.code, willReconnect: event.willReconnect });
    });
    this.#availability.down();
    this.#client = client;
    return client;
  }

  #clientOptions(): ClientOptions {
    const options: ClientOptions = {
      apiKey: this.#options.apiKey,
      url: this.#options.url,
      lazy: true,
      networkEvents: false,
      // Down is bounded per task by unavailableAfterMs; the connection itself keeps trying.
      firstConnectTimeoutMs: Number.POSITIVE_INFINITY,
      maxInFlight: this.#options.maxInFlight ?? 64,
      whenFull: 'wait',
      taskTimeoutMs: this.#taskTimeoutMs,
      clock: this.#clock,
    };
    if (this.#options.WebSocket !== undefined) options.WebSocket = this.#options.WebSocket;
    return options;
  }

  /** Maps a failure; a refused key is told to the operator once and fails tasks fast for a while. */
  #failed(error: unknown): EngineError {
    const mapped = engineErrorOf(error);
    if (mapped.code === 'upstreamAuthFailed' && this.#clock.now() >= this.#authRefusedUntil) {
      this.#authRefusedUntil = this.#clock.now() + this.#authRetryAfterMs;
      this.#options.logger?.warn('upstream refused the gateway key: check IMAGEWIRE_UPSTREAM_KEY', { url: this.#options.url, code: error instanceof Error && 'code' in error ? String(error.code) : 'unknown' });
    }
    return mapped;
  }
}

function previewOf(event: ClientPreviewEvent): EngineEvent {
  const image = event.image;
  return { kind: 'preview', index: event.index, step: event.step, steps: event.steps, image: image.bytes, format: image.format === 'WEBP' ? 'WEBP' : 'JPG', width: image.width ?? 0, height: image.height ?? 0 };
}

function finalOf(event: ClientFinalEvent, request: EngineRequest): FinalEvent {
  const image = event.image;
  const seed = image.seed !== undefined && Number.isSafeInteger(image.seed) ? image.seed : resultSeed(request.seed, event.index);
  const common = {
    kind: 'final' as const,
    index: event.index,
    seed,
    format: formatOf(image.format, request.outputFormat),
    width: image.width ?? request.width,
    height: image.height ?? request.height,
    ...(image.cost === undefined ? {} : { cost: image.cost }),
    ...(image.NSFWContent === undefined ? {} : { NSFWContent: image.NSFWContent }),
  };
  if (image.hasBytes) return { ...common, image: image.bytes };
  if (image.imageURL !== undefined && request.acceptsURL === true) return { ...common, imageURL: image.imageURL };
  throw new EngineError('upstreamRejected', 'the upstream sent neither the image nor a URL the client can use');
}
