// The connection manager: the only owner of the connection state and of the current socket
// attempt. Every state change goes through transition(), checked against the edge table.
import type { Clock } from '../../internal/clock.js';
import { Disposer } from '../../internal/disposer.js';
import { deferred, type Deferred } from '../../internal/deferred.js';
import type { AuthenticationResult } from '../../protocol/index.js';
import { ACK_AFTER_MS, ACK_EVERY_FRAMES } from './ack-tracker.js';
import { Attempt, GOING_AWAY, type AttemptFailure } from './attempt.js';
import { Backoff } from './backoff.js';
import { canTransition, holdsSocket, type ConnectionState } from './connection-state.js';
import { ConnectionError, type ImagewireError } from '../errors.js';
import type { EventHub } from './events.js';
import { ENABLE_EXTENSIONS, ClientSession, type ClientSessionConfig, type SessionInfo } from './client-session.js';
import type { Inbound } from '../socket/inbound.js';
import { failureDescriber, type WebSocketConstructor } from '../socket/socket.js';
import type { KeepAliveOptions } from './keepalive.js';
import type { ReconnectPolicy } from './backoff.js';
import { defaultNetworkEventSources, watchNetwork, type NetworkEventSources, type NetworkHint } from './network-events.js';
import { Outbox, type OutboxEntry, type OutboxOptions } from './outbox.js';
import type { FrameSender } from './outgoing.js';
import { Pings } from './pings.js';
import { unreachableError } from './unreachable.js';

export type { SessionInfo } from './client-session.js';

/** What the connection needs of the client's options (the resolved options fit it). */
export interface ConnectionConfig extends ClientSessionConfig {
  readonly url: string;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly clock: Clock;
  readonly random: () => number;
  readonly connectTimeoutMs: number;
  readonly authTimeoutMs: number;
  readonly firstConnectTimeoutMs: number;
  readonly keepAlive: Required<KeepAliveOptions>;
  readonly reconnect: Required<ReconnectPolicy> | false;
  readonly outbox: Required<OutboxOptions>;
  readonly closeWhenIdleMs: number | undefined;
  readonly networkEvents: NetworkEventSources | false | undefined;
}

/** How the connection reports to the task layer. */
export interface ConnectionHooks {
  /** Authenticated on socket attempt `attempt`; the outbox has been written. */
  open(attempt: number, session: SessionInfo): void;
  /** A frame or binary result after authentication (sequenced duplicates already dropped). */
  inbound(inbound: Inbound): void;
  /** Closed for good: every task must end with `error`. */
  closed(error: ImagewireError): void;
  /**
   * The server was never reached within firstConnectTimeoutMs: every open task must end with
   * `error`; the connection is idle again and the client stays usable.
   */
  unreachable(error: ImagewireError): void;
}

/** Counters for tests and diagnostics. */
export interface ConnectionStats {
  attempts: number;
  duplicateFrames: number;
}

/** Owns the state machine, the socket attempts, reconnects, the outbox and the ack bookkeeping. */
export class Connection implements FrameSender {
  readonly #options: ConnectionConfig;
  readonly #clock: Clock;
  readonly #events: EventHub;
  readonly #hooks: ConnectionHooks;
  readonly #backoff: Backoff | undefined;
  readonly #outbox: Outbox;
  readonly #session: ClientSession;
  readonly #pings: Pings;
  readonly #lifetime = new Disposer();
  readonly #stats: ConnectionStats = { attempts: 0, duplicateFrames: 0 };
  #state: ConnectionState = { name: 'idle' };
  #attempt: Attempt | undefined;
  /** Timers that live as long as the current attempt (ack flush, idle close). */
  #attemptScope = new Disposer();
  /** The reconnect wait. */
  #waitScope = new Disposer();
  /** The first-connection budget, armed while the server has never been reached. */
  #firstConnectScope = new Disposer();
  /** True once an authentication reply arrived: from then on drops are reconnected, not given up. */
  #everOpened = false;
  /** Attempts and the last failure of the first connection, for the unreachable error. */
  #firstConnect: { attempts: number; last: ImagewireError | undefined } | undefined;
  #busy = false;
  #cancelIdleTimer: (() => void) | undefined;
  #cancelAckTimer: (() => void) | undefined;
  readonly #waiters = new Set<Deferred<void>>();
  readonly #closed = deferred<void>();

  constructor(options: ConnectionConfig, events: EventHub, hooks: ConnectionHooks) {
    this.#options = options;
    this.#clock = options.clock;
    this.#events = events;
    this.#hooks = hooks;
    this.#backoff = options.reconnect === false ? undefined : new Backoff(options.reconnect, options.random);
    this.#outbox = new Outbox(options.outbox);
    this.#session = new ClientSession(options);
    this.#pings = new Pings(options.clock, this);
    const sources = options.networkEvents === false ? undefined : (options.networkEvents ?? defaultNetworkEventSources());
    if (sources !== undefined) watchNetwork(sources, this.#lifetime, (hint) => this.#onNetworkHint(hint));
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The id of the socket attempt that is open now; undefined unless open. */
  get openAttempt(): number | undefined {
    return this.#state.name === 'open' ? this.#state.attempt : undefined;
  }

  /** The session as the latest authentication left it: kept while reconnecting, undefined before the first. */
  get sessionInfo(): SessionInfo | undefined {
    return this.#session.info;
  }

  /** The last session UUID (kept across reconnects for resume). */
  get sessionUUID(): string | undefined {
    return this.#session.sessionUUID;
  }

  get stats(): Readonly<ConnectionStats> & { outboxFrames: number; outboxBytes: number } {
    return { ...this.#stats, outboxFrames: this.#outbox.size, outboxBytes: this.#outbox.bytes };
  }

  /** Resolves once open; rejects if the client closes first. Connects when idle. */
  connect(): Promise<void> {
    if (this.#state.name === 'open') return Promise.resolve();
    if (this.#state.name === 'closed' || this.#state.name === 'closing') return Promise.reject(this.#closedError());
    const waiter = deferred<void>();
    this.#waiters.add(waiter);
    this.#events.batch(() => {
      if (this.#state.name === 'idle') this.#connectNow();
    });
    return waiter.promise;
  }

  /** Tells the connection whether tasks are open: lazy connect, and the optional close when idle. */
  setBusy(busy: boolean): void {
    this.#busy = busy;
    this.#events.batch(() => {
      if (busy) {
        this.#cancelIdleTimer?.();
        this.#cancelIdleTimer = undefined;
        if (this.#state.name === 'idle') this.#connectNow();
      } else {
        this.#armIdleTimer();
      }
    });
  }

  /**
   * Writes the frame now when open, otherwise queues it until the next authentication.
   * Returns the function that takes it out of the outbox. Throws QueueFullError when full.
   */
  send(entry: OutboxEntry): () => void {
    if (this.#state.name === 'closed' || this.#state.name === 'closing') throw this.#closedError();
    if (this.#state.name === 'open' && this.#outbox.size === 0 && this.#write(entry)) return () => undefined;
    return this.#outbox.push(entry);
  }

  /** Pings now if open (used before writing to a socket whose timers may have been frozen). */
  checkHealthIfStale(): void {
    if (this.#attempt?.stale === true) this.#attempt.checkHealth();
  }

  /**
   * Sends a ping and resolves with the round trip in ms when its pong arrives (keepalive pings in
   * between are told apart). Written again if the socket drops first.
   */
  ping(): { answer: Promise<number>; cancel(): void } {
    return this.#pings.ask();
  }

  /** Closes for good: no reconnect after it, every timer and listener cleared. */
  close(error: ImagewireError = new ConnectionError('clientClosed', 'the client was closed')): Promise<void> {
    const state = this.#state.name;
    if (state === 'closed' || state === 'closing') return this.#closed.promise;
    this.#events.batch(() => {
      if (!holdsSocket(state)) {
        this.#transition({ name: 'closed', error });
        return;
      }
      const attempt = this.#attempt;
      this.#transition({ name: 'closing' });
      const closing = attempt?.close() ?? Promise.resolve();
      // close() only resolves; the rejection handler keeps a broken socket from leaving us in `closing`.
      const closed = (): void => this.#events.batch(() => this.#transition({ name: 'closed', error }));
      closing.then(closed, closed);
    });
    return this.#closed.promise;
  }

  // ---- the state machine -------------------------------------------------------------------

  #transition(next: ConnectionState): void {
    const from = this.#state;
    if (!canTransition(from.name, next.name)) {
      throw new Error(`imagewire internal error: illegal connection transition ${from.name} -> ${next.name}`);
    }
    // Exit steps.
    if (from.name === 'reconnecting') this.#resetScope('wait');
    if (holdsSocket(from.name) && !holdsSocket(next.name)) this.#dropAttempt(next.name === 'idle');
    this.#state = next;
    this.#events.emit('state', { from: from.name, to: next.name, state: next });
    // Entry steps.
    switch (next.name) {
      case 'connecting':
        this.#startAttempt();
        break;
      case 'open':
        this.#enterOpen(next.attempt);
        break;
      case 'reconnecting':
        this.#waitScope.timeout(this.#clock, next.delayMs, () => this.#events.batch(() => this.#connectNow()));
        break;
      case 'closed':
        this.#enterClosed(next.error ?? new ConnectionError('clientClosed', 'the client was closed'));
        break;
      default:
        break;
    }
  }

  #connectNow(): void {
    if (!this.#everOpened && this.#firstConnect === undefined) this.#armFirstConnectBudget();
    if (this.#firstConnect !== undefined) this.#firstConnect.attempts++;
    this.#transition({ name: 'connecting', attempt: this.#stats.attempts + 1 });
  }

  /** Until the server is first reached, tasks wait at most firstConnectTimeoutMs for it. */
  #armFirstConnectBudget(): void {
    const budgetMs = this.#options.firstConnectTimeoutMs;
    this.#firstConnect = { attempts: 0, last: undefined };
    if (!Number.isFinite(budgetMs)) return;
    this.#firstConnectScope.timeout(this.#clock, budgetMs, () => this.#events.batch(() => this.#giveUpFirstConnect()));
  }

  /** The server was never reached in time: fail the open tasks, go back to idle, stay usable. */
  #giveUpFirstConnect(): void {
    const first = this.#firstConnect;
    const state = this.#state.name;
    if (first === undefined || state === 'open' || state === 'idle' || state === 'closing' || state === 'closed') return;
    const error = unreachableError(this.#options.url, this.#options.firstConnectTimeoutMs, first.attempts, first.last, failureDescriber(this.#options.WebSocket));
    this.#endFirstConnect();
    this.#transition({ name: 'idle' });
    this.#outbox.drain();
    this.#backoff?.reset();
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
    this.#pings.rejectAll(error);
    this.#hooks.unreachable(error);
  }

  #endFirstConnect(): void {
    this.#firstConnect = undefined;
    this.#firstConnectScope.dispose();
    this.#firstConnectScope = new Disposer();
  }

  #startAttempt(): void {
    const WebSocket = this.#options.WebSocket;
    this.#stats.attempts++;
    if (WebSocket === undefined) {
      const error = new ConnectionError('connectionFailed', 'no WebSocket implementation: pass the WebSocket option (Node: import from "imagewire", which uses ws)');
      queueMicrotask(() => this.#events.batch(() => this.#transition({ name: 'closed', error })));
      return;
    }
    const attempt = new Attempt(
      {
        id: this.#stats.attempts,
        url: this.#options.url,
        WebSocket,
        clock: this.#clock,
        connectTimeoutMs: this.#options.connectTimeoutMs,
        authTimeoutMs: this.#options.authTimeoutMs,
        keepAlive: this.#options.keepAlive,
        buildAuth: () => this.#session.authenticationTask(),
        refreshableKey: typeof this.#options.apiKey === 'function',
        pingFrame: () => this.#pingFrame(),
      },
      {
        opened: (from) => this.#ifCurrent(from, () => this.#transition({ name: 'authenticating', attempt: from.id })),
        authenticated: (from, reply) => this.#ifCurrent(from, () => this.#onAuthenticated(from, reply)),
        message: (from, inbound) => this.#ifCurrent(from, () => this.#onInbound(inbound)),
        failed: (from, error, failure) => this.#ifCurrent(from, () => this.#onAttemptFailed(error, failure)),
      },
    );
    this.#attempt = attempt;
    this.#attemptScope = new Disposer();
    this.#pings.newSocket();
    attempt.start();
  }

  /** Runs `work` only for the current attempt: callbacks of an older socket do nothing. */
  #ifCurrent(attempt: Attempt, work: () => void): void {
    if (attempt !== this.#attempt) return;
    this.#events.batch(work);
  }

  #pingFrame(): string {
    this.#pings.internalWritten();
    return this.#session.pingFrame();
  }

  #onAuthenticated(attempt: Attempt, reply: AuthenticationResult): void {
    const info = this.#session.accept(reply);
    this.#backoff?.up(this.#clock.now());
    this.#transition({ name: 'open', attempt: attempt.id, sessionUUID: info.sessionUUID, resumed: info.resumed });
  }

  #enterOpen(attempt: number): void {
    this.#everOpened = true;
    this.#endFirstConnect();
    // Extensions the server offered go on before any task is written (a plain server offers none).
    const enable = this.#session.enableFrame();
    if (enable !== undefined) this.#attempt?.send(enable);
    const info = this.#session.info;
    if (info === undefined) return;
    // If the socket fails while flushing, what was not written waits for the next connection.
    this.#outbox.flush((entry) => this.#write(entry));
    this.#events.emit('connected', {
      resumed: info.resumed,
      sessionUUID: info.sessionUUID,
      serverExtensions: [...info.serverExtensions],
      enabledExtensions: [...info.enabledExtensions],
    });
    this.#pings.reopened(attempt);
    for (const waiter of this.#waiters) waiter.resolve();
    this.#waiters.clear();
    this.#hooks.open(attempt, info);
    if (!this.#busy) this.#armIdleTimer();
  }

  #write(entry: OutboxEntry): boolean {
    const attempt = this.#attempt;
    if (attempt === undefined || !attempt.send(entry.encode())) return false;
    entry.written?.(attempt.id);
    return true;
  }

  #onInbound(inbound: Inbound): void {
    const attempt = this.#attempt;
    let acked = false;
    if (inbound.kind !== 'invalid' && inbound.seq !== undefined && this.#session.acking) {
      if (!this.#session.ack.accept(inbound.seq)) {
        this.#stats.duplicateFrames++;
        return;
      }
      acked = true;
    }
    if (inbound.kind === 'frame') {
      for (const item of inbound.data) {
        if (item.taskType === 'ping' && item.pong === true) this.#pings.pong();
        else if (item.taskType === ENABLE_EXTENSIONS) this.#session.enabled(Array.isArray(item.enabledExtensions) ? item.enabledExtensions.filter((name): name is string => typeof name === 'string') : []);
      }
      // A refused enable frame: nothing is on (the error itself is reported as every frame error is).
      if (inbound.errors.some((item) => item.taskType === ENABLE_EXTENSIONS)) this.#session.enabled([]);
    }
    this.#hooks.inbound(inbound);
    // The ack (a write every 16 frames) follows the delivery: the result does not wait for it. A
    // socket that ended meanwhile takes no ack; the next one's resume says what was received.
    if (acked && this.#attempt === attempt) this.#scheduleAck();
  }

  #scheduleAck(): void {
    const ack = this.#session.ack;
    if (ack.unacknowledged >= ACK_EVERY_FRAMES) {
      this.#cancelAckTimer?.();
      this.#cancelAckTimer = undefined;
      this.#attempt?.send(this.#pingFrame());
      return;
    }
    if (this.#cancelAckTimer !== undefined) return;
    this.#cancelAckTimer = this.#attemptScope.timeout(this.#clock, ACK_AFTER_MS, () => {
      this.#cancelAckTimer = undefined;
      if (ack.unacknowledged > 0) this.#attempt?.send(this.#pingFrame());
    });
  }

  #onAttemptFailed(error: ImagewireError, failure: AttemptFailure): void {
    const wasOpen = this.#state.name === 'open';
    this.#attempt = undefined;
    if (this.#firstConnect !== undefined) this.#firstConnect.last = error;
    this.#events.emit('error', error);
    if (this.#state.name === 'closing') return;
    if (error.code === 'sessionTakenOver') {
      // Someone else holds our session now; do not fight over it: start a fresh one and recover.
      this.#session.takenOver();
    }
    let next: ConnectionState;
    if (failure === 'fatal') {
      next = { name: 'closed', error };
    } else if (this.#backoff === undefined) {
      next = { name: 'closed', error };
    } else {
      const goingAway = error instanceof ConnectionError && error.closeCode === GOING_AWAY;
      const delayMs = this.#backoff.next(this.#clock.now(), goingAway ? 'goingAway' : 'drop');
      next =
        delayMs === undefined
          ? { name: 'closed', error: new ConnectionError('reconnectFailed', `gave up after ${this.#backoff.failures} failed attempts in a row: ${error.message}`, { cause: error }) }
          : { name: 'reconnecting', failures: this.#backoff.failures, delayMs, lastError: error };
    }
    if (wasOpen) this.#events.emit('disconnected', { error, willReconnect: next.name === 'reconnecting' });
    this.#transition(next);
  }

  #onNetworkHint(hint: NetworkHint): void {
    this.#events.batch(() => {
      const state = this.#state.name;
      if (state === 'open') this.#attempt?.checkHealth();
      else if (state === 'reconnecting' && hint !== 'offline') {
        // The network is back: try now, from the start of the backoff (ably-js RTN20c).
        this.#backoff?.reset();
        this.#connectNow();
      }
    });
  }

  #armIdleTimer(): void {
    const idleMs = this.#options.closeWhenIdleMs;
    if (idleMs === undefined || this.#state.name !== 'open' || this.#cancelIdleTimer !== undefined) return;
    this.#cancelIdleTimer = this.#attemptScope.timeout(this.#clock, idleMs, () => {
      this.#cancelIdleTimer = undefined;
      this.#events.batch(() => {
        if (!this.#busy && this.#state.name === 'open' && this.#outbox.size === 0) this.#transition({ name: 'idle' });
      });
    });
  }

  #dropAttempt(graceful: boolean): void {
    const attempt = this.#attempt;
    this.#attempt = undefined;
    this.#resetScope('attempt');
    // close() only resolves, and nothing waits for it: the attempt is already out of our hands.
    if (graceful) attempt?.close(1000, 'idle').catch(() => attempt.dispose());
    else attempt?.dispose();
  }

  #resetScope(which: 'attempt' | 'wait'): void {
    if (which === 'wait') {
      this.#waitScope.dispose();
      this.#waitScope = new Disposer();
      return;
    }
    this.#attemptScope.dispose();
    this.#attemptScope = new Disposer();
    this.#cancelAckTimer = undefined;
    this.#cancelIdleTimer = undefined;
  }

  #enterClosed(error: ImagewireError): void {
    this.#endFirstConnect();
    this.#waitScope.dispose();
    this.#attemptScope.dispose();
    this.#lifetime.dispose();
    this.#outbox.drain();
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
    this.#pings.rejectAll(error);
    this.#hooks.closed(error);
    this.#closed.resolve();
  }

  #closedError(): ImagewireError {
    return this.#state.name === 'closed' && this.#state.error !== undefined ? this.#state.error : new ConnectionError('clientClosed', 'the client was closed');
  }
}
