// Every option of the WebSocket client, with its default in one resolved object. Times carry
// their unit in their name (ms); related options are grouped (keepAlive, reconnect, outbox).
import type { Clock } from '../internal/clock.js';
import { systemClock } from '../internal/clock.js';
import type { ApiKeyProvider } from './api-key.js';
import { defaultReconnect, type ReconnectPolicy } from './connection/backoff.js';
import { defaultKeepAlive, type KeepAliveOptions } from './connection/keepalive.js';
import type { NetworkEventSources } from './connection/network-events.js';
import { defaultOutbox, type OutboxOptions } from './connection/outbox.js';
import type { SessionStorageLike } from './connection/session-storage.js';
import type { WebSocketConstructor } from './socket/socket.js';
import type { RequestValidator } from './tasks/request-validator.js';

export type { ApiKeyProvider } from './api-key.js';

/** The public Runware WebSocket endpoint. */
export const DEFAULT_URL = 'wss://ws-api.runware.ai/v1';

/** Options of {@link createClient}. Only `apiKey` is required. */
export interface ClientOptions {
  /** The API key, or a function returning it (called at every authentication, never cached). */
  apiKey: ApiKeyProvider;
  /**
   * WebSocket endpoint.
   * @default "wss://ws-api.runware.ai/v1"
   */
  url?: string;
  /**
   * WebSocket constructor. A static `describeFailure(error)` on it, when present, tells the
   * `unreachable` error why no connection opened (refused, host not found, an HTTP status); the
   * Node entry's default socket has one, browsers report none of that. A static `binaryType`
   * string, when present, is the `binaryType` the client sets on its sockets (else `arraybuffer`);
   * the Node entry's socket asks for `ws`'s `fragments`, so a fragmented image is not joined.
   * @default `ws` in Node (the `imagewire` Node entry), `globalThis.WebSocket` in browsers
   */
  WebSocket?: WebSocketConstructor;
  /**
   * Connect on the first task (true) or at once (false). `connect()` connects either way.
   * @default true
   */
  lazy?: boolean;
  /**
   * Close the socket after this many ms with no open task (state goes back to `idle`; the next
   * task connects again). Undefined keeps the connection open.
   * @default undefined
   */
  closeWhenIdleMs?: number | undefined;
  /**
   * The socket must open within this many ms (`connectTimeout`, retried).
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * The authentication reply must arrive within this many ms of the socket opening (`authTimeout`, retried).
   * @default 10000
   */
  authTimeoutMs?: number;
  /**
   * While the client has never reached the server (no authentication reply yet in its life), it
   * keeps trying for this many ms; then every open task, and `connect()`, fail with a
   * ConnectionError `unreachable` that says why (refused, host not found, the HTTP status that
   * answered the upgrade, silence), and the client goes back to `idle` (a new task tries again).
   * Once connected, a drop is retried by the reconnect policy instead.
   * @default 5000
   */
  firstConnectTimeoutMs?: number;
  /**
   * Checks every request before it is sent: `validateRequests` (from `imagewire/validate`) is the
   * protocol's own check, so a bad request ends at once with a ValidationError naming the
   * parameter. Without it (false) the server checks the request and answers with the same error
   * items, which end the task with an ApiError; only the taskUUID is checked locally.
   * @default validateRequests in the Node entry; none in the browser entry (it would ship the
   *   protocol's rule tables to every app)
   */
  validate?: RequestValidator | false;
  /** Keepalive ping and pong deadline. */
  keepAlive?: KeepAliveOptions;
  /** Reconnect policy, or false to end every task with a ConnectionError when the socket drops. */
  reconnect?: ReconnectPolicy | false;
  /**
   * Session extensions to ask an imagewire server for. They are used only when the server's
   * authentication reply enables them; against a plain Runware server nothing changes.
   * @default { ack: true, binaryResults: true }
   */
  extensions?: { ack?: boolean; binaryResults?: boolean };
  /**
   * Most tasks in flight at once (sent and not ended); further tasks wait for a slot.
   * @default 16
   */
  maxInFlight?: number;
  /**
   * Most tasks waiting for a slot.
   * @default 1024
   */
  maxWaiting?: number;
  /**
   * When maxWaiting tasks already wait: "reject" fails the new task with a QueueFullError,
   * "wait" lets it wait for room (its deadline and signal still apply).
   * @default "reject"
   */
  whenFull?: 'reject' | 'wait';
  /** Bounds of the outbox of frames waiting for a connection. */
  outbox?: OutboxOptions;
  /**
   * First interval of getResponse polling, in ms, for `deliveryMethod: "async"` tasks and for
   * tasks recovered from a server that cannot re-attach them; grows ×1.5 per poll up to 10 s.
   * @default 1000
   */
  pollIntervalMs?: number;
  /**
   * Deadline of every task, from submission to its last result, in ms; per task with `timeoutMs`.
   * @default 300000
   */
  taskTimeoutMs?: number;
  /**
   * Keep the session UUID in this storage (e.g. `window.sessionStorage`) so a page reload
   * inside the server's resume window resumes the session.
   * @default undefined
   */
  sessionStorage?: SessionStorageLike | undefined;
  /**
   * Storage key for the session UUID.
   * @default "imagewire:session:" + url
   */
  sessionStorageKey?: string;
  /**
   * Where `online`/`offline` and page visibility events come from; each triggers an immediate
   * health check (or an immediate reconnect). False turns this off.
   * @default globalThis and globalThis.document when they have addEventListener (browsers)
   */
  networkEvents?: NetworkEventSources | false;
  /**
   * Receives errors thrown by your event listeners; they never reach the client's own code.
   * @default globalThis.reportError where it exists, else console.error
   */
  onListenerError?: (error: unknown) => void;
  /**
   * Time source and timers, for tests with fake time.
   * @default the global timers, unref'd in Node
   */
  clock?: Clock;
  /**
   * Random source of the reconnect jitter, for tests.
   * @default Math.random
   */
  random?: () => number;
}

/** Options with every default applied. */
export interface ResolvedClientOptions {
  readonly apiKey: ApiKeyProvider;
  readonly url: string;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly lazy: boolean;
  readonly closeWhenIdleMs: number | undefined;
  readonly connectTimeoutMs: number;
  readonly authTimeoutMs: number;
  readonly firstConnectTimeoutMs: number;
  readonly validate: RequestValidator | undefined;
  readonly keepAlive: Required<KeepAliveOptions>;
  readonly reconnect: Required<ReconnectPolicy> | false;
  readonly extensions: { readonly ack: boolean; readonly binaryResults: boolean };
  readonly maxInFlight: number;
  readonly maxWaiting: number;
  readonly whenFull: 'reject' | 'wait';
  readonly outbox: Required<OutboxOptions>;
  readonly pollIntervalMs: number;
  readonly taskTimeoutMs: number;
  readonly sessionStorage: SessionStorageLike | undefined;
  readonly sessionStorageKey: string;
  readonly networkEvents: NetworkEventSources | false | undefined;
  readonly onListenerError: (error: unknown) => void;
  readonly clock: Clock;
  readonly random: () => number;
}

function defaultListenerErrorReporter(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') report(error);
  else console.error('imagewire: an event listener threw', error);
}

function positive(name: string, value: number | undefined, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw new TypeError(`imagewire: ${name} must be a positive number of ms or a count; got ${String(value)}`);
  }
  return value;
}

/** Applies the defaults; throws a TypeError for an option that cannot work. */
export function resolveClientOptions(options: ClientOptions, defaultWebSocket: WebSocketConstructor | undefined): ResolvedClientOptions {
  if (typeof options.apiKey !== 'string' && typeof options.apiKey !== 'function') {
    throw new TypeError('imagewire: apiKey must be a string or a function returning one');
  }
  const url = options.url ?? DEFAULT_URL;
  const reconnect = options.reconnect === false ? false : { ...defaultReconnect, ...withoutUndefined(options.reconnect ?? {}) };
  if (reconnect !== false) {
    positive('reconnect.maxDelayMs', reconnect.maxDelayMs, defaultReconnect.maxDelayMs);
    positive('reconnect.maxAttempts', reconnect.maxAttempts, defaultReconnect.maxAttempts, true);
  }
  return {
    apiKey: options.apiKey,
    url,
    WebSocket: options.WebSocket ?? defaultWebSocket,
    lazy: options.lazy ?? true,
    closeWhenIdleMs: options.closeWhenIdleMs === undefined ? undefined : positive('closeWhenIdleMs', options.closeWhenIdleMs, 0),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    authTimeoutMs: positive('authTimeoutMs', options.authTimeoutMs, 10_000),
    firstConnectTimeoutMs: positive('firstConnectTimeoutMs', options.firstConnectTimeoutMs, 5_000, true),
    validate: options.validate === false ? undefined : options.validate,
    keepAlive: {
      intervalMs: positive('keepAlive.intervalMs', options.keepAlive?.intervalMs, defaultKeepAlive.intervalMs),
      pongTimeoutMs: positive('keepAlive.pongTimeoutMs', options.keepAlive?.pongTimeoutMs, defaultKeepAlive.pongTimeoutMs),
    },
    reconnect,
    extensions: { ack: options.extensions?.ack ?? true, binaryResults: options.extensions?.binaryResults ?? true },
    maxInFlight: positive('maxInFlight', options.maxInFlight, 16),
    maxWaiting: positive('maxWaiting', options.maxWaiting, 1024, true),
    whenFull: options.whenFull ?? 'reject',
    outbox: {
      maxFrames: positive('outbox.maxFrames', options.outbox?.maxFrames, defaultOutbox.maxFrames),
      maxBytes: positive('outbox.maxBytes', options.outbox?.maxBytes, defaultOutbox.maxBytes),
    },
    pollIntervalMs: positive('pollIntervalMs', options.pollIntervalMs, 1_000),
    taskTimeoutMs: positive('taskTimeoutMs', options.taskTimeoutMs, 300_000),
    sessionStorage: options.sessionStorage,
    sessionStorageKey: options.sessionStorageKey ?? `imagewire:session:${url}`,
    networkEvents: options.networkEvents,
    onListenerError: options.onListenerError ?? defaultListenerErrorReporter,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
