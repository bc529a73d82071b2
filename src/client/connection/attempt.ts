// One socket attempt: open the socket, authenticate, keep it alive, and report every message and
// the one way it ended. It owns its timers and listeners through one disposer; once disposed,
// nothing it registered can call back, so a late event of an old socket does nothing.
import type { Clock } from '../../internal/clock.js';
import { Disposer } from '../../internal/disposer.js';
import { encodeClientFrame, type AuthenticationResult, type AuthenticationTask } from '../../protocol/index.js';
import { AuthenticationError, ConnectionError, TimeoutError, authenticationCodes, errorFromItem, type ImagewireError } from '../errors.js';
import { decodeInbound, type Inbound } from '../socket/inbound.js';
import { Keepalive, type KeepAliveOptions } from './keepalive.js';
import { binaryTypeFor, readyStates, type SocketCloseEvent, type SocketErrorEvent, type SocketLike, type SocketMessageEvent, type WebSocketConstructor } from '../socket/socket.js';

/** Close code of the `session takeover` rule: another socket authenticated with this session. */
export const SESSION_TAKEN_OVER = 4000;
/** Close code of a server that is shutting down or restarting (RFC 6455 "going away"): reconnect at once, elsewhere. */
export const GOING_AWAY = 1001;
/** How long a graceful close may take before the socket is dropped hard. */
const CLOSE_GRACE_MS = 1_000;

/** How an attempt ended, which decides what the connection does next. */
export type AttemptFailure =
  /** The key was refused: close for good. */
  | 'fatal'
  /** Anything else: reconnect with backoff. */
  | 'retry';

export interface AttemptConfig {
  readonly id: number;
  readonly url: string;
  readonly WebSocket: WebSocketConstructor;
  readonly clock: Clock;
  readonly connectTimeoutMs: number;
  readonly authTimeoutMs: number;
  readonly keepAlive: Required<KeepAliveOptions>;
  /** Builds the authentication task (calls the key provider). */
  buildAuth(): Promise<AuthenticationTask>;
  /** True when apiKey is a provider: an expired token is then worth another attempt (a fresh one). */
  readonly refreshableKey: boolean;
  /** The ping frame to send (carries `ack` under the ack extension). */
  pingFrame(): string;
}

export interface AttemptHooks {
  opened(attempt: Attempt): void;
  authenticated(attempt: Attempt, reply: AuthenticationResult): void;
  message(attempt: Attempt, inbound: Inbound): void;
  failed(attempt: Attempt, error: ImagewireError, failure: AttemptFailure): void;
}

/** One socket, from `new WebSocket()` to its end. */
export class Attempt {
  readonly id: number;
  readonly #config: AttemptConfig;
  readonly #hooks: AttemptHooks;
  readonly #disposer = new Disposer();
  #socket: SocketLike | undefined;
  #keepalive: Keepalive | undefined;
  #authenticated = false;
  #ended = false;
  #lastError: unknown;
  #cancelConnectTimer: () => void = () => undefined;
  #cancelAuthTimer: () => void = () => undefined;

  constructor(config: AttemptConfig, hooks: AttemptHooks) {
    this.id = config.id;
    this.#config = config;
    this.#hooks = hooks;
  }

  /** True when timers were probably frozen and the socket may be dead (see Keepalive.stale). */
  get stale(): boolean {
    return this.#keepalive?.stale ?? false;
  }

  /** Opens the socket. Failures are reported through `failed`, never thrown, never synchronously. */
  start(): void {
    const { WebSocket, url, clock, connectTimeoutMs } = this.#config;
    let socket: SocketLike;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      queueMicrotask(() => this.#fail(new ConnectionError('connectionFailed', `cannot open a WebSocket to ${url}: ${describe(error)}`, { cause: error }), 'fatal'));
      return;
    }
    this.#socket = socket;
    socket.binaryType = binaryTypeFor(WebSocket);
    // `ws` throws an uncaught 'error' when a socket that lost its listeners is aborted (sdk-js#9),
    // so a no-op error listener stays on the socket for its whole life.
    socket.addEventListener('error', ignore);
    this.#disposer.listen<SocketErrorEvent>(socket as never, 'error', (event) => {
      this.#lastError = event.error ?? event.message;
    });
    this.#disposer.listen<SocketCloseEvent>(socket as never, 'close', (event) => this.#onClose(event));
    this.#disposer.listen(socket as never, 'open', () => {
      // #onOpen handles what it expects; anything else ends this attempt rather than floating away.
      this.#onOpen().catch((error: unknown) => this.#fail(new ConnectionError('connectionFailed', `the authentication could not be sent: ${describe(error)}`, { cause: error }), 'retry'));
    });
    this.#disposer.listen<SocketMessageEvent>(socket as never, 'message', (event) => this.#onMessage(event.data));
    this.#cancelConnectTimer = this.#disposer.timeout(clock, connectTimeoutMs, () => {
      this.#fail(new TimeoutError('connect', connectTimeoutMs, `the socket to ${url} did not open within ${connectTimeoutMs} ms`), 'retry');
    });
  }

  /** Writes a frame; false when the socket is not open (the frame was not written). */
  send(text: string): boolean {
    const socket = this.#socket;
    if (this.#ended || socket === undefined || socket.readyState !== readyStates.open) return false;
    try {
      socket.send(text);
    } catch (error) {
      queueMicrotask(() => this.#fail(new ConnectionError('connectionClosed', `writing to the socket failed: ${describe(error)}`, { cause: error }), 'retry'));
      return false;
    }
    this.#keepalive?.sent();
    return true;
  }

  /** Pings now unless a ping is already out (network change, page visible again). */
  checkHealth(): void {
    this.#keepalive?.check();
  }

  /**
   * Ends the attempt from our side: a normal close handshake, bounded by a short grace period.
   * Resolves once the socket is closed. No hook is called.
   */
  close(code = 1000, reason = 'client closed'): Promise<void> {
    const socket = this.#socket;
    this.#ended = true;
    this.#disposer.dispose();
    if (socket === undefined || socket.readyState === readyStates.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const { clock } = this.#config;
      const done = () => {
        clock.clearTimeout(timer);
        socket.removeEventListener('close', done);
        resolve();
      };
      const timer = clock.setTimeout(() => {
        socket.removeEventListener('close', done);
        terminate(socket);
        resolve();
      }, CLOSE_GRACE_MS);
      socket.addEventListener('close', done);
      if (socket.readyState === readyStates.connecting) terminate(socket);
      else safeClose(socket, code, reason);
    });
  }

  /** Drops the attempt at once (no handshake). No hook is called. */
  dispose(): void {
    if (this.#ended && this.#disposer.disposed) return;
    this.#ended = true;
    this.#disposer.dispose();
    if (this.#socket !== undefined) terminate(this.#socket);
  }

  async #onOpen(): Promise<void> {
    this.#cancelConnectTimer();
    if (this.#ended) return;
    const { clock, authTimeoutMs } = this.#config;
    this.#cancelAuthTimer = this.#disposer.timeout(clock, authTimeoutMs, () => {
      this.#fail(new TimeoutError('auth', authTimeoutMs, `no authentication reply within ${authTimeoutMs} ms`), 'retry');
    });
    this.#hooks.opened(this);
    let auth: AuthenticationTask;
    try {
      auth = await this.#config.buildAuth();
    } catch (error) {
      if (error instanceof AuthenticationError) this.#fail(error, 'fatal');
      else this.#fail(new ConnectionError('apiKeyProviderFailed', `the apiKey function failed: ${describe(error)}`, { cause: error }), 'retry');
      return;
    }
    // The attempt may have ended while the key provider ran.
    if (this.#ended) return;
    this.send(encodeClientFrame([auth]));
  }

  #onMessage(data: unknown): void {
    if (this.#ended) return;
    this.#keepalive?.received();
    const inbound = decodeInbound(data);
    if (this.#authenticated) {
      this.#hooks.message(this, inbound);
      return;
    }
    if (inbound.kind !== 'frame') return;
    const reply = inbound.data.find((item) => item.taskType === 'authentication' && typeof item.connectionSessionUUID === 'string');
    if (reply !== undefined) {
      this.#authenticated = true;
      this.#cancelAuthTimer();
      this.#keepalive = new Keepalive(this.#config.clock, this.#disposer, this.#config.keepAlive, {
        sendPing: () => this.send(this.#config.pingFrame()),
        dead: () => this.#fail(new TimeoutError('pong', this.#config.keepAlive.pongTimeoutMs, `no answer to a ping within ${this.#config.keepAlive.pongTimeoutMs} ms: the socket is treated as dead`), 'retry'),
      });
      this.#hooks.authenticated(this, reply as unknown as AuthenticationResult);
      return;
    }
    // Before the reply, an error can only be about the authentication.
    const item = inbound.errors[0];
    if (item === undefined) return;
    const expiredForGood = item.code === 'expiredToken' && !this.#config.refreshableKey;
    if (authenticationCodes.has(item.code) || expiredForGood) this.#fail(new AuthenticationError(item), 'fatal');
    else this.#fail(errorFromItem(item), 'retry');
  }

  #onClose(event: SocketCloseEvent): void {
    if (this.#ended) return;
    const code = event.code;
    const reason = event.reason;
    if (code === SESSION_TAKEN_OVER) {
      this.#fail(new ConnectionError('sessionTakenOver', `the server closed the socket (${code} ${reason}): another connection took the session over`, { closeCode: code, closeReason: reason }), 'retry');
      return;
    }
    const detail = this.#lastError === undefined ? '' : `: ${describe(this.#lastError)}`;
    this.#fail(
      new ConnectionError('connectionClosed', `the connection to ${this.#config.url} closed (code ${code}${reason === '' ? '' : `, ${reason}`})${detail}`, {
        closeCode: code,
        closeReason: reason,
        cause: this.#lastError,
      }),
      'retry',
    );
  }

  #fail(error: ImagewireError, failure: AttemptFailure): void {
    if (this.#ended) return;
    this.dispose();
    this.#hooks.failed(this, error, failure);
  }
}

function ignore(): void {
  // See start(): keeps `ws` from throwing on an error nobody listens to.
}

function terminate(socket: SocketLike): void {
  try {
    if (typeof socket.terminate === 'function') socket.terminate();
    else socket.close();
  } catch {
    // Already closing or closed.
  }
}

function safeClose(socket: SocketLike, code: number, reason: string): void {
  try {
    socket.close(code, reason);
  } catch {
    terminate(socket);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  return 'unknown error';
}
