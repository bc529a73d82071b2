// One WebSocket connection: its state machine (awaitingAuth → authenticating → active → closing →
// closed, moved by one transition function), authentication and pipelining, keepalive, the session
// extensions it turns on (enableExtensions), its timers (the authentication deadline, close grace,
// delayed pongs; all owned by one Disposer), the bounds before authentication, the time of its last
// frame (the server's idle sweep reads it), and which of its session's frames go out when (the
// writes themselves, within the send buffer's bound, are its SocketWriter's). Everything it
// registers is undone on the way to `closed`.
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { decodeClientFrame, isRecord, protocolError, validateTask, type AuthenticationTask, type ProtocolErrorItem } from '../../protocol/index.js';
import type { MonotonicClock } from '../../internal/clock.js';
import { Disposer } from '../../internal/disposer.js';
import { authError, type AuthOutcome, type Authenticator } from '../auth/auth.js';
import { closeCodes } from './close-codes.js';
import type { AdmissionTicket, KeyConnections } from './connection-caps.js';
import type { Faults } from '../faults.js';
import type { ServerLimits } from '../limits.js';
import { errorMessage, type Logger } from '../logger.js';
import { dataFrame, encodeServerMessage, errorsFrame, type ServerFrame, type WireMessage } from '../core/server-frame.js';
import { PreAuthGuard, type PreAuthPhase } from './preauth-guard.js';
import { negotiate, resumeRequest, sessionToResume, type Negotiation } from './negotiation.js';
import { flagsOf, namesOf, type SessionSocket } from './session-record.js';
import { SessionStoreUnavailable, type Session, type SessionStore } from './session-store.js';
import type { TaskContext } from '../core/task-router.js';
import type { TokenGrant } from '../usage/token-scope.js';
import type { TaskCore } from '../core/task-core.js';
import type { WriteCoalescer } from '../../internal/write-coalescer.js';
import type { ServerObserver } from '../observability/events.js';
import { keyIdOf } from '../observability/key-id.js';
import { SocketWriter } from './socket-writer.js';

/** What a socket session needs from its server. */
export interface SocketDeps {
  readonly router: TaskCore;
  readonly sessions: SessionStore;
  readonly authenticate: Authenticator;
  readonly faults: Faults;
  readonly limits: ServerLimits;
  readonly logger: Logger;
  /** Merges each turn's writes to a socket into one system call. */
  readonly writes: WriteCoalescer;
  /** Authenticated sockets per key (`maxConnectionsPerKey`). */
  readonly connections: KeyConnections;
  /** The server's clock: the socket's timers, and the time of its last frame. */
  readonly clock: MonotonicClock;
  /** Told of the connection's end, resumes, error answers and bytes written. */
  readonly observer: ServerObserver;
  /** Called once, when the socket reaches `closed`. */
  closed(socket: SocketSession): void;
}

/** The socket's state, with the data that exists only in that state. */
export type SocketState =
  | { readonly name: 'awaitingAuth' }
  | { readonly name: 'authenticating' }
  | { readonly name: 'active'; readonly session: Session; readonly ctx: TaskContext }
  | { readonly name: 'closing' }
  | { readonly name: 'closed' };

type StateName = SocketState['name'];

/** The allowed edges; any other move is a bug and throws. */
const edges: Readonly<Record<StateName, readonly StateName[]>> = {
  awaitingAuth: ['authenticating', 'closing', 'closed'],
  authenticating: ['awaitingAuth', 'active', 'closing', 'closed'],
  active: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

/** How long a closing socket may wait for the peer's close frame before it is cut. */
const CLOSE_GRACE_MS = 1_000;
/** Replies kept while a freeze fault is on; more are dropped, as a dead peer would lose them. */
const MAX_FROZEN_REPLIES = 1_024;

function frameBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

const noop = (): void => undefined;

/** The session an authentication got, and whether it is the one it asked to resume. */
interface OpenedSession {
  readonly session: Session | undefined;
  readonly resumed: boolean;
}

export class SocketSession implements SessionSocket {
  readonly #ws: WebSocket;
  /** The TCP socket under `#ws`, corked while a turn's frames are written. */
  readonly #tcp: Duplex;
  readonly #deps: SocketDeps;
  readonly #peer: string;
  #state: SocketState = { name: 'awaitingAuth' };
  /** Entries of received frames not handled yet (pipelined behind an authentication). */
  #pending: { entry: unknown; index: number }[] = [];
  #failedAuths = 0;
  /** The scope of the session token this socket authenticated with (none for an API key). */
  #grant: TokenGrant | undefined;
  /** The clock's monotonic time of the last frame received; the server's idle sweep reads it. */
  #lastFrameAt: number;
  /** Owns the socket's timers (authentication deadline, close grace, delayed pongs); disposed at `closed`. */
  readonly #timers = new Disposer();
  /** Ends the authentication deadline (on leaving the unauthenticated states). */
  #cancelAuthDeadline: () => void;
  #frozenReplies: WireMessage[] = [];
  /** Counts raw input until the socket authenticates; dropped then. */
  #guard: PreAuthGuard | undefined;
  /** This socket's place among the unauthenticated ones; given back when it authenticates or closes. */
  #ticket: AdmissionTicket | undefined;
  /** The write side: frames within the send buffer's bound, and the watch on a peer that stops reading. */
  readonly #writer: SocketWriter;
  /** The clock's monotonic time of the upgrade. */
  readonly #openedAt: number;
  /** What the end's log line names, known once the socket authenticated. */
  #identity: { readonly keyId: string; readonly session: string; readonly resumed: boolean } | undefined;
  /** The close code and who chose it: the first close or cut decides. */
  #ending: { readonly code: number; readonly by: 'server' | 'client' } | undefined;

  constructor(ws: WebSocket, tcp: Duplex, deps: SocketDeps, peer: string, ticket: AdmissionTicket | undefined) {
    this.#ws = ws;
    this.#tcp = tcp;
    this.#deps = deps;
    this.#peer = peer;
    this.#ticket = ticket;
    this.#lastFrameAt = deps.clock.monotonic();
    this.#openedAt = this.#lastFrameAt;
    this.#writer = new SocketWriter(ws, tcp, deps, peer, { full: this.#sendBufferFull, drained: this.#writeHeld });
    this.#cancelAuthDeadline = this.#timers.timeout(deps.clock, deps.limits.authTimeoutMs, () => this.close(closeCodes.policyViolation, 'authentication timeout'));
    ws.on('message', this.#socketOnMessage);
    ws.on('close', this.#socketOnClose);
    ws.on('error', this.#socketOnError);
    // Added after the listener of `ws` (attached during the handshake), so it sees each chunk after `ws` parsed it.
    const { maxUnauthenticatedFrameBytes, maxFrameBytes } = deps.limits;
    this.#guard = new PreAuthGuard(tcp, maxUnauthenticatedFrameBytes, maxFrameBytes + maxUnauthenticatedFrameBytes, this.#preAuthExceeded);
  }

  get state(): SocketState {
    return this.#state;
  }

  /** Closes with 1000 "idle timeout" when nothing arrived since `since` (the clock's monotonic time). */
  closeIfSilentSince(since: number): void {
    if (this.#lastFrameAt <= since && this.#state.name !== 'closing' && this.#state.name !== 'closed') this.close(closeCodes.normal, 'idle timeout');
  }

  /** True while tasks this connection submitted are running: a drain keeps the socket open for their results. */
  get busy(): boolean {
    return this.#state.name === 'active' && this.#state.ctx.connection.inFlight > 0;
  }

  get writable(): boolean {
    return this.#state.name === 'active' && this.#ws.readyState === this.#ws.OPEN && !this.#deps.faults.frozen;
  }

  /** The one transition function: checks the edge, runs the exit step, then the entry step. */
  #moveTo(next: SocketState): void {
    const from = this.#state;
    if (!edges[from.name].includes(next.name)) throw new Error(`internal: socket state ${from.name} -> ${next.name} is not allowed`);
    if (from.name === 'active') {
      this.#deps.sessions.detach(from.session, this);
      this.#deps.connections.release(from.ctx.owner);
    }
    this.#state = next;
    if (next.name === 'active' || next.name === 'closing' || next.name === 'closed') {
      this.#cancelAuthDeadline();
      // Not kept: the cancel function holds the timer, which an idle socket should not carry.
      this.#cancelAuthDeadline = noop;
      this.#guard?.dispose();
      this.#guard = undefined;
      this.#ticket?.release();
      this.#ticket = undefined;
    } else {
      this.#guard?.enter(next.name);
    }
    if (next.name === 'closing' || next.name === 'closed') {
      // A delayed pong that comes due now finds nothing to answer (#reply writes nothing from here on).
      this.#pending = [];
      this.#frozenReplies = [];
    }
    if (next.name === 'closing') {
      this.#timers.timeout(this.#deps.clock, CLOSE_GRACE_MS, () => this.terminate('close grace elapsed'));
    }
    if (next.name === 'closing' || next.name === 'closed') this.#writer.stop();
    if (next.name === 'closed') {
      this.#timers.dispose();
      this.#ws.off('message', this.#socketOnMessage);
      this.#ws.off('close', this.#socketOnClose);
      // What this turn holds is written out before any cut, so a dropAfterFrames fault still
      // delivers the frames written before it.
      this.#writer.release();
      // The error listener stays: a late socket error must not become an uncaught exception.
      this.#deps.closed(this);
      this.#reportEnd();
    }
  }

  /** The connection's end, to the observer: one log line and the metrics. */
  #reportEnd(): void {
    const ending = this.#ending ?? { code: 1006, by: 'client' };
    this.#deps.observer.connectionClosed({
      peer: this.#peer,
      keyId: this.#identity?.keyId,
      session: this.#identity?.session,
      resumed: this.#identity?.resumed,
      durationMs: this.#deps.clock.monotonic() - this.#openedAt,
      closeCode: ending.code,
      closedBy: ending.by,
    });
  }

  // ---- socket events ----

  readonly #socketOnMessage = (data: RawData): void => {
    // A throw here would leave through the socket's 'data' event and end the process.
    try {
      this.#onMessage(data);
    } catch (error) {
      this.#internalFailure(error);
    }
  };

  #onMessage(data: RawData): void {
    const state = this.#state.name;
    if (state === 'closing' || state === 'closed') return;
    this.#lastFrameAt = this.#deps.clock.monotonic();
    this.#guard?.messageEnded();
    const decoded = decodeClientFrame(frameBytes(data), this.#deps.limits);
    if (!decoded.ok) {
      this.#reply(errorsFrame([decoded.error]));
      return;
    }
    if (state === 'authenticating' && this.#pending.length + decoded.entries.length > this.#deps.limits.maxTasksPerFrame) {
      this.#reply(errorsFrame([protocolError('tooManyTasks', `at most ${this.#deps.limits.maxTasksPerFrame} tasks may wait for the authentication in progress`, { type: 'array' })]));
      return;
    }
    decoded.entries.forEach((entry, index) => this.#pending.push({ entry, index }));
    this.#drain();
  }

  readonly #socketOnClose = (code: number): void => {
    // The peer's close frame (or 1006 when the TCP connection went without one).
    this.#ending ??= { code, by: 'client' };
    try {
      if (this.#state.name !== 'closed') this.#moveTo({ name: 'closed' });
    } catch (error) {
      this.#deps.logger.error('socket close failed', { peer: this.#peer, error: errorMessage(error) });
    }
  };

  /** The peer read output again: write what its session holds. */
  readonly #writeHeld = (): void => {
    try {
      if (this.#state.name === 'active') this.#deps.sessions.writeHeld(this.#state.session);
    } catch (error) {
      this.#internalFailure(error);
    }
  };

  readonly #sendBufferFull = (): void => {
    this.close(closeCodes.sendBufferFull, 'send buffer full');
  };

  readonly #preAuthExceeded = (phase: PreAuthPhase): void => {
    try {
      this.#deps.logger.info('unauthenticated input too large', { peer: this.#peer, phase });
      this.close(closeCodes.messageTooBig, phase === 'awaitingAuth' ? 'frame too large before authentication' : 'too much input behind the authentication');
      // Read no more: `ws` would otherwise buffer the rest of the announced frame while the close
      // handshake runs. The close frame is followed by the end of our side; the grace timer cuts it.
      this.#tcp.pause();
      this.#tcp.end();
    } catch (error) {
      this.#internalFailure(error);
    }
  };

  /** A bug met while handling this socket's input: logged, the socket closed with 1011, the process serving on. */
  #internalFailure(error: unknown): void {
    this.#deps.logger.error('socket input failed', { peer: this.#peer, error: errorMessage(error) });
    try {
      this.close(closeCodes.internalError, 'internal error');
    } catch {
      this.terminate('internal error');
    }
  }

  readonly #socketOnError = (error: Error): void => {
    this.#deps.logger.debug('socket error', { peer: this.#peer, error: error.message });
  };

  // ---- inbound ----

  /** Handles pending entries in order; pauses while an authentication is being checked. */
  #drain(): void {
    while (this.#pending.length > 0) {
      const state = this.#state;
      if (state.name !== 'awaitingAuth' && state.name !== 'active') return;
      const next = this.#pending.shift();
      if (next === undefined) return;
      const { entry, index } = next;
      const taskType = isRecord(entry) ? entry.taskType : undefined;
      if (taskType === 'ping') {
        this.#ping(entry, index);
      } else if (state.name === 'active' && taskType === 'enableExtensions') {
        this.#enableExtensions(entry, index, state.session);
      } else if (state.name === 'active') {
        this.#deps.router.dispatch(entry, index, state.ctx).catch(this.#dispatchFailed);
      } else if (taskType === 'authentication') {
        this.#authenticate(entry, index).catch((error: unknown) => this.#internalFailure(error));
      } else {
        const context = isRecord(entry) ? entry : {};
        this.#reply(
          errorsFrame([
            protocolError('notAuthenticated', 'authenticate first: the first task of a connection must be an authentication task', {
              taskType: typeof context.taskType === 'string' ? context.taskType : undefined,
              taskUUID: typeof context.taskUUID === 'string' ? context.taskUUID : undefined,
            }),
          ]),
        );
      }
    }
  }

  /** The router answers every task itself; a rejection is a bug, logged, and the socket goes on. */
  readonly #dispatchFailed = (error: unknown): void => {
    this.#deps.logger.error('task dispatch failed', { peer: this.#peer, error: errorMessage(error) });
    this.#reply(errorsFrame([protocolError('internalServerError', 'the server failed to handle this task')]));
  };

  #ping(entry: unknown, index: number): void {
    const result = validateTask(entry, index);
    if (!result.ok) {
      this.#reply(errorsFrame(result.errors));
      return;
    }
    const state = this.#state;
    if (result.task.taskType === 'ping' && result.task.ack !== undefined && state.name === 'active' && state.session.flags.ack) {
      this.#deps.sessions.acknowledge(state.session, result.task.ack);
    }
    const policy = this.#deps.faults.pongPolicy();
    if (policy === 'withhold') return;
    const pong = dataFrame({ taskType: 'ping', pong: true });
    if (policy === 0) {
      this.#reply(pong);
      return;
    }
    this.#timers.timeout(this.#deps.clock, policy, () => this.#reply(pong));
  }

  /** Sets the session's extensions; the tasks handled after it (this frame's rest included) get them. */
  #enableExtensions(entry: unknown, index: number, session: Session): void {
    const result = validateTask(entry, index);
    if (!result.ok || result.task.taskType !== 'enableExtensions') {
      this.#reply(errorsFrame(result.ok ? [] : result.errors));
      return;
    }
    this.#deps.sessions.enable(session, flagsOf(result.task.extensions), result.task.ack);
    this.#reply(dataFrame({ taskType: 'enableExtensions', enabledExtensions: namesOf(session.flags) }));
  }

  async #authenticate(entry: unknown, index: number): Promise<void> {
    const result = validateTask(entry, index);
    if (!result.ok || result.task.taskType !== 'authentication') {
      this.#authFailed(result.ok ? [] : result.errors);
      return;
    }
    const task: AuthenticationTask = result.task;
    this.#moveTo({ name: 'authenticating' });
    const outcome = await this.#deps.authenticate(task.apiKey);
    if (this.#state.name !== 'authenticating') return;
    if (outcome.ok) {
      this.#grant = outcome.grant;
      this.#admit(task, outcome.owner);
    } else this.#refuseKey(outcome.code);
  }

  /** A refused key: the socket may try again, up to maxFailedAuths. */
  #refuseKey(code: Extract<AuthOutcome, { ok: false }>['code']): void {
    this.#moveTo({ name: 'awaitingAuth' });
    this.#deps.logger.info('authentication refused', { peer: this.#peer, code });
    this.#authFailed([authError(code)]);
    this.#drain();
  }

  /** An accepted key: counted against its connections, given its session (resumed or new), then active. */
  #admit(task: AuthenticationTask, owner: string): void {
    const { connections } = this.#deps;
    // Counted from here; given back when the socket leaves `active`, or below if it never gets there.
    if (!connections.tryAcquire(owner)) {
      this.#deps.logger.info('authentication refused', { peer: this.#peer, code: 'tooManyConnections' });
      const message = `this API key has ${this.#deps.limits.maxConnectionsPerKey} open connections, as many as the server allows; close one first`;
      this.#reply(errorsFrame([protocolError('tooManyConnections', message, { taskType: 'authentication' })]));
      this.close(closeCodes.policyViolation, 'too many connections for this key');
      return;
    }
    const opened = this.#openSession(task, owner, sessionToResume(task));
    // The memory store answers at once: no turn of the event loop on its path.
    if (!(opened instanceof Promise)) {
      this.#opened(task, owner, opened);
      return;
    }
    opened.then(
      (result) => this.#opened(task, owner, result),
      (error: unknown) => this.#openFailed(owner, error),
    );
  }

  /** The session an authentication gets: the one it resumes when kept for this key, else a new one. */
  #openSession(task: AuthenticationTask, owner: string, wanted: string | undefined): OpenedSession | Promise<OpenedSession> {
    const { sessions } = this.#deps;
    const created = (): OpenedSession | Promise<OpenedSession> => {
      const session = sessions.create(owner);
      return session instanceof Promise ? session.then((value) => ({ session: value, resumed: false })) : { session, resumed: false };
    };
    const found = wanted === undefined ? undefined : sessions.find(wanted, owner, resumeRequest(task));
    if (found instanceof Promise) return found.then((value) => (value === undefined ? created() : { session: value, resumed: true }));
    return found === undefined ? created() : { session: found, resumed: true };
  }

  /** The session is had (or refused); a socket that went away meanwhile gives its connection back. */
  #opened(task: AuthenticationTask, owner: string, { session, resumed }: OpenedSession): void {
    const { connections, sessions } = this.#deps;
    if (this.#state.name !== 'authenticating') {
      connections.release(owner);
      return;
    }
    if (session === undefined) {
      connections.release(owner);
      this.#moveTo({ name: 'awaitingAuth' });
      this.#reply(errorsFrame([protocolError('sessionLimitReached', sessions.refusal(owner), { taskType: 'authentication' })]));
      this.#drain();
      return;
    }
    if (sessionToResume(task) !== undefined) this.#deps.observer.resumeAsked(resumed);
    this.#identity = { keyId: keyIdOf(owner), session: session.uuid, resumed };
    this.#activate(owner, session, negotiate(task, session, resumed));
  }

  /** The shared session store was unreachable: a retryable error, and the socket may authenticate again. */
  #openFailed(owner: string, error: unknown): void {
    this.#deps.connections.release(owner);
    if (this.#state.name !== 'authenticating') return;
    if (!(error instanceof SessionStoreUnavailable)) {
      this.#internalFailure(error);
      return;
    }
    this.#deps.logger.warn('session store unavailable', { peer: this.#peer, error: errorMessage(error) });
    this.#moveTo({ name: 'awaitingAuth' });
    this.#reply(errorsFrame([protocolError('serviceUnavailable', 'the server cannot reach its session store right now; authenticate again shortly', { taskType: 'authentication' })]));
    this.#drain();
  }

  /** Answers the authentication, then the session's held frames follow, in order, numbered under ack. */
  #activate(owner: string, session: Session, negotiation: Negotiation): void {
    const ctx: TaskContext = { owner, target: session, reply: (frame) => this.#reply(frame), connection: { inFlight: 0 }, previews: true, grant: this.#grant };
    this.#moveTo({ name: 'active', session, ctx });
    this.#deps.logger.debug('authenticated', { peer: this.#peer, session: session.uuid, resumed: negotiation.reply.resumed });
    this.#reply(dataFrame({ ...negotiation.reply }));
    this.#deps.sessions.attach(session, this, negotiation.asked, negotiation.ack);
    if (this.#deps.faults.takeCloseAfterAuth()) {
      this.terminate('fault: closeAfterAuth');
      return;
    }
    this.#drain();
  }

  #authFailed(errors: readonly ProtocolErrorItem[]): void {
    if (errors.length > 0) this.#reply(errorsFrame(errors));
    this.#failedAuths++;
    if (this.#failedAuths >= this.#deps.limits.maxFailedAuths) this.close(closeCodes.policyViolation, 'too many failed authentications');
  }

  // ---- outbound ----

  /** Writes a frame that is not a task output (auth reply, pong, getResponse answer, frame error). */
  #reply(frame: ServerFrame): void {
    const state = this.#state.name;
    if (state === 'closing' || state === 'closed') return;
    this.#countErrors(frame);
    const binary = this.#state.name === 'active' && this.#state.session.flags.binary;
    const data = encodeServerMessage(frame, { binary });
    if (this.#deps.faults.frozen) {
      if (this.#frozenReplies.length < MAX_FROZEN_REPLIES) this.#frozenReplies.push(data);
      return;
    }
    this.#writer.reply(data);
  }

  /** Error items going out, by code, counted as they are written (a frame written again on a resume counts again). */
  #countErrors(frame: ServerFrame): void {
    if (frame.kind === 'errors') for (const item of frame.errors) this.#deps.observer.errorAnswered(item.code, 'ws');
  }

  /** Called by the server's sweep with the clock's monotonic time (see {@link SocketWriter.check}). */
  checkSendBuffer(now: number): void {
    this.#writer.check(now);
  }

  writeTaskFrame(frame: ServerFrame, seq: number | undefined): boolean {
    const state = this.#state;
    if (!this.writable || state.name !== 'active') return false;
    if (this.#writer.blocked) return false;
    const data = encodeServerMessage(frame, { seq, binary: state.session.flags.binary });
    if (!this.#writer.fits(data)) {
      // The frame stays held in the session; the peer's reading ('drain', or the sweep) writes it.
      this.#writer.block();
      return false;
    }
    const fault = this.#deps.faults.nextFrame();
    if (fault === 'dropBefore') {
      this.terminate('fault: dropBeforeFrame');
      return false;
    }
    this.#writer.send(data);
    this.#countErrors(frame);
    if (fault === 'dropAfter') this.terminate('fault: dropAfterFrames');
    return true;
  }

  writePreview(frame: ServerFrame): void {
    const state = this.#state;
    if (!this.writable || state.name !== 'active') return;
    // A slow reader skips previews rather than queueing them: the next one or the final supersedes it.
    if (!this.#writer.previewsFlow) return;
    const data = encodeServerMessage(frame, { binary: false });
    if (!this.#writer.fits(data)) return;
    const fault = this.#deps.faults.nextFrame();
    if (fault === 'dropBefore') {
      this.terminate('fault: dropBeforeFrame');
      return;
    }
    this.#writer.send(data);
    if (fault === 'dropAfter') this.terminate('fault: dropAfterFrames');
  }

  evict(code: number, reason: string): void {
    this.close(code, reason);
  }

  /** A freeze fault ended: write the replies kept meanwhile, then the session's held frames. */
  unfreeze(): void {
    const replies = this.#frozenReplies;
    this.#frozenReplies = [];
    for (const data of replies) {
      if (this.#state.name === 'closing' || this.#state.name === 'closed') return;
      this.#writer.reply(data);
    }
    if (this.#state.name === 'active') this.#deps.sessions.writeHeld(this.#state.session);
  }

  // ---- ending ----

  /** Closes with a close frame; the socket is cut if the peer does not answer within a second. */
  close(code: number, reason: string): void {
    const state = this.#state.name;
    if (state === 'closing' || state === 'closed') return;
    this.#deps.logger.debug('closing socket', { peer: this.#peer, code, reason });
    this.#ending ??= { code, by: 'server' };
    this.#moveTo({ name: 'closing' });
    this.#ws.close(code, reason);
    this.#writer.release();
  }

  /** Cuts the socket at once, without a close frame (a network failure, or a fault). */
  terminate(reason: string): void {
    if (this.#state.name === 'closed') return;
    this.#deps.logger.debug('terminating socket', { peer: this.#peer, reason });
    this.#ending ??= { code: 1006, by: 'server' };
    this.#moveTo({ name: 'closed' });
    this.#ws.terminate();
  }
}
