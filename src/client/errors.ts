// The client's errors: one base class with a stable `code`, and subclasses split by how the caller
// must react. `instanceof` works across bundles and duplicate installs through a Symbol.for brand.
import type { ErrorCode, ProtocolErrorItem } from '../protocol/index.js';

const brand = Symbol.for('imagewire.error');

/**
 * Codes the client raises itself (the server's codes are in `src/protocol/error-codes.ts`).
 * `taskTimeout` shares its name and meaning with the wire code.
 */
export const clientErrorCodes = {
  connectionClosed: 'The socket closed or failed; the client reconnects unless it was closed.',
  connectionFailed: 'A socket could not be created (bad URL, no WebSocket implementation).',
  unreachable: 'The client never reached the server within firstConnectTimeoutMs: refused, host not found, an HTTP answer instead of a WebSocket, or silence. `reason`, `httpStatus` and `cause` say which.',
  reconnectFailed: 'reconnect.maxAttempts attempts in a row failed, or reconnecting is off; the client is closed.',
  sessionTakenOver: 'The server closed the socket with code 4000: another connection took the session over.',
  apiKeyProviderFailed: 'The apiKey function threw or gave something other than a non-empty string.',
  clientClosed: 'close() was called before the task finished, or a task was started after it.',
  connectTimeout: 'The socket did not open within connectTimeoutMs.',
  authTimeout: 'No authentication reply arrived within authTimeoutMs.',
  pongTimeout: 'Nothing arrived within keepAlive.pongTimeoutMs of a ping: the socket was treated as dead.',
  taskTimeout: 'The task did not end within its timeoutMs.',
  clientQueueFull: 'maxWaiting tasks already wait for a slot and whenFull is "reject".',
  outboxFull: 'The outbox of frames waiting for a connection is full (outbox.maxFrames or outbox.maxBytes).',
  sessionLost: 'The session was not resumed and the server no longer knows the task under its taskUUID.',
  streamAlreadyConsumed: 'A task stream can be iterated once.',
  imageNotLoaded: 'The image came as a URL only; call load() to fetch its bytes.',
  invalidResponse: 'The server sent a frame or HTTP body the client cannot read.',
  httpError: 'The HTTP transport got a status without an error body it could read.',
} as const;

/** A code the client raises itself. */
export type ClientErrorCode = keyof typeof clientErrorCodes;

declare const unknownErrorCode: unique symbol;

/**
 * A code this version of imagewire does not list: one a newer server sends, or another service's
 * (the images API's snake_case codes such as `model_not_found`). At run time it is the string the
 * server sent. The brand keeps {@link ImagewireErrorCode} from collapsing to `string`: editors
 * complete the known codes, a `switch` on `error.code` lists them, and a misspelt code does not
 * type-check where a code is expected. (TypeScript compares strings loosely, so `error.code ===
 * 'newCode'` compiles for any string: that is how a code this version does not know is tested.)
 */
export type UnknownErrorCode = string & { readonly [unknownErrorCode]: true };

/** A code an error from a server carries: one of the protocol's codes, or one this version does not know. */
export type ServerErrorCode = ErrorCode | UnknownErrorCode;

/**
 * Every `code` an {@link ImagewireError} can have: the client's own ({@link clientErrorCodes}), the
 * protocol's (`src/protocol/error-codes.ts`, docs/errors.md), or an {@link UnknownErrorCode} from a
 * server.
 */
export type ImagewireErrorCode = ClientErrorCode | ServerErrorCode;

/** The code of an error item as the client types it: the same string, known or not. */
export function serverErrorCode(code: string): ServerErrorCode {
  return code as ServerErrorCode;
}

/** Options every error class accepts. */
export interface ImagewireErrorOptions {
  /** The underlying error, kept as the standard `cause`. */
  cause?: unknown;
}

function isBranded(value: unknown): value is ImagewireError {
  return typeof value === 'object' && value !== null && (value as { [brand]?: unknown })[brand] === true;
}

/**
 * Base class of every error imagewire raises. `code` is stable (camelCase, the wire's style): the
 * server's code for errors the server sent, one of {@link clientErrorCodes} otherwise.
 */
export class ImagewireError extends Error {
  /** The stable error code: a client code, a protocol code, or an {@link UnknownErrorCode} from a server. */
  readonly code: ImagewireErrorCode;
  /** @internal the class name checked by `instanceof` across copies (minifiers rename classes). */
  static readonly kind: string = 'ImagewireError';

  constructor(code: ImagewireErrorCode, message: string, options: ImagewireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = (new.target as typeof ImagewireError).kind;
    // The brand makes `instanceof` work across copies of the package; not enumerable, so it stays
    // out of logs and JSON.
    Object.defineProperty(this, brand, { value: true });
  }

  /** `instanceof` by brand and class kind, so two copies of imagewire recognise each other's errors. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (!isBranded(value)) return false;
    return this.kind === 'ImagewireError' || value.name === this.kind;
  }
}

/** True for any error raised by imagewire (any copy of it). */
export function isImagewireError(value: unknown): value is ImagewireError {
  return isBranded(value);
}

/** Fields a server error item carries, kept verbatim. */
interface ServerErrorFields {
  readonly parameter: string | undefined;
  readonly type: string | undefined;
  readonly taskType: string | undefined;
  readonly taskUUID: string | undefined;
}

/**
 * The server refused a task: `code` and `message` are the server's, with the `parameter` it names,
 * the `taskType` and the `taskUUID` as sent.
 */
export class ApiError extends ImagewireError implements ServerErrorFields {
  static override readonly kind: string = 'ApiError';
  /** The server's code. */
  declare readonly code: ServerErrorCode;
  readonly parameter: string | undefined;
  readonly type: string | undefined;
  readonly taskType: string | undefined;
  readonly taskUUID: string | undefined;
  /** The error item exactly as the server sent it. */
  readonly item: ProtocolErrorItem;

  constructor(item: ProtocolErrorItem, options: ImagewireErrorOptions = {}) {
    super(serverErrorCode(item.code), item.message, options);
    this.item = item;
    this.parameter = item.parameter;
    this.type = item.type;
    this.taskType = item.taskType;
    this.taskUUID = item.taskUUID;
  }
}

/** The server refused the API key. Fatal: the client closes and never retries on its own. */
export class AuthenticationError extends ImagewireError implements ServerErrorFields {
  static override readonly kind: string = 'AuthenticationError';
  /** The server's code (`invalidApiKey`, `missingApiKey`, `notAuthenticated`, `expiredToken`, ...). */
  declare readonly code: ServerErrorCode;
  readonly parameter: string | undefined;
  readonly type: string | undefined;
  readonly taskType: string | undefined;
  readonly taskUUID: string | undefined;

  constructor(item: ProtocolErrorItem, options: ImagewireErrorOptions = {}) {
    super(serverErrorCode(item.code), item.message, options);
    this.parameter = item.parameter;
    this.type = item.type;
    this.taskType = item.taskType;
    this.taskUUID = item.taskUUID;
  }
}

/** Server codes that mean "this key will not work": no reconnect loop after them. */
export const authenticationCodes: ReadonlySet<string> = new Set(['invalidApiKey', 'missingApiKey', 'notAuthenticated']);

/** The error class for a server error item: {@link AuthenticationError} for key problems. */
export function errorFromItem(item: ProtocolErrorItem): ApiError | AuthenticationError {
  return authenticationCodes.has(item.code) ? new AuthenticationError(item) : new ApiError(item);
}

/** Why a server could not be reached, as far as the platform tells (browsers tell little). */
export type UnreachableReason = 'refused' | 'notFound' | 'httpStatus' | 'connectTimeout' | 'authTimeout' | 'closed' | 'unknown';

/** The codes of a {@link ConnectionError}. */
export type ConnectionErrorCode = 'connectionClosed' | 'connectionFailed' | 'reconnectFailed' | 'sessionTakenOver' | 'apiKeyProviderFailed' | 'clientClosed' | 'unreachable';

/** The transport failed or closed. Retryable; the client reconnects on its own unless closed. */
export class ConnectionError extends ImagewireError {
  static override readonly kind: string = 'ConnectionError';
  declare readonly code: ConnectionErrorCode;
  /** WebSocket close code, when the socket closed with one. */
  readonly closeCode: number | undefined;
  /** WebSocket close reason, when the socket closed with one. */
  readonly closeReason: string | undefined;
  /** `unreachable` only: what went wrong on the last attempt. */
  readonly reason: UnreachableReason | undefined;
  /** `unreachable` with reason `httpStatus`: the status the server answered the upgrade with. */
  readonly httpStatus: number | undefined;

  constructor(
    code: ConnectionErrorCode,
    message: string,
    details: { closeCode?: number | undefined; closeReason?: string | undefined; reason?: UnreachableReason | undefined; httpStatus?: number | undefined } & ImagewireErrorOptions = {},
  ) {
    super(code, message, details);
    this.closeCode = details.closeCode;
    this.closeReason = details.closeReason;
    this.reason = details.reason;
    this.httpStatus = details.httpStatus;
  }
}

/** Which deadline ran out. */
export type TimeoutPhase = 'connect' | 'auth' | 'pong' | 'task';

/** A deadline ran out. `code` is `${phase}Timeout`. */
export class TimeoutError extends ImagewireError {
  static override readonly kind: string = 'TimeoutError';
  declare readonly code: `${TimeoutPhase}Timeout`;
  readonly phase: TimeoutPhase;
  /** The deadline that ran out, in milliseconds. */
  readonly timeoutMs: number;

  constructor(phase: TimeoutPhase, timeoutMs: number, message: string) {
    super(`${phase}Timeout`, message);
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A request broke a rule of the protocol and was not sent. `code` and `parameter` are those of
 * the first problem; `errors` lists every problem, each naming its parameter.
 */
export class ValidationError extends ImagewireError {
  static override readonly kind: string = 'ValidationError';
  /** The first problem's code. */
  declare readonly code: ServerErrorCode;
  readonly errors: readonly ProtocolErrorItem[];
  readonly parameter: string | undefined;
  readonly taskType: string | undefined;
  readonly taskUUID: string | undefined;

  constructor(errors: readonly ProtocolErrorItem[], taskType?: string, taskUUID?: string) {
    const first = errors[0] ?? { code: 'invalidTask', message: 'the task is not valid' };
    const rest = errors.length > 1 ? ` (and ${errors.length - 1} more: ${errors.slice(1).map((e) => e.parameter ?? e.code).join(', ')})` : '';
    super(serverErrorCode(first.code), `${first.message}${rest}`);
    this.errors = errors;
    this.parameter = first.parameter;
    this.taskType = taskType ?? first.taskType;
    this.taskUUID = taskUUID ?? first.taskUUID;
  }
}

/** A bounded queue is full: nothing was dropped silently, this task was refused. */
export class QueueFullError extends ImagewireError {
  static override readonly kind: string = 'QueueFullError';
  declare readonly code: 'clientQueueFull' | 'outboxFull';
  /** `tasks`: the queue of tasks waiting for a slot; `outbox`: frames waiting for a connection. */
  readonly queue: 'tasks' | 'outbox';
  /** The limit that was reached (a count, or bytes for the outbox's byte limit). */
  readonly limit: number;

  constructor(queue: 'tasks' | 'outbox', limit: number, message: string) {
    super(queue === 'tasks' ? 'clientQueueFull' : 'outboxFull', message);
    this.queue = queue;
    this.limit = limit;
  }
}

/** The session was not resumed and the task could not be recovered under its taskUUID. */
export class SessionLostError extends ImagewireError {
  static override readonly kind: string = 'SessionLostError';
  declare readonly code: 'sessionLost';
  readonly taskUUID: string;

  constructor(taskUUID: string, message: string, options: ImagewireErrorOptions = {}) {
    super('sessionLost', message, options);
    this.taskUUID = taskUUID;
  }
}
