// The WebSocket face's SessionStore on the session log: a session resumes on any node, the node
// that holds its socket pumps its frames on wake-ups (and re-reads busy ones every second), takes
// over from and is evicted by other nodes by attachment generation, and renews its resume windows.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../internal/clock.js';
import { Disposer } from '../../internal/disposer.js';
import { isUnavailable } from '../cluster/errors.js';
import type { NodeMessage, SessionLog } from '../cluster/session-log.js';
import type { ServerLimits } from '../limits.js';
import { errorMessage, type Logger } from '../logger.js';
import type { ServerFrame } from '../core/server-frame.js';
import { closeCodes } from '../ws/close-codes.js';
import { noFlags, type SessionFlags, type SessionSocket } from '../ws/session-record.js';
import { SessionStoreUnavailable, type ResumeRequest, type Session, type SessionStore } from '../ws/session-store.js';
import { ClusterSession, type Claim, type EnableRequest, type SessionNode } from './cluster-session.js';

/** Held frames read with a resume's attachment (under ack; the pump reads the rest in pages). */
const FIRST_PAGE = 16;

/** How often a session with tasks in flight is re-read without a wake-up (a lost one only delays). */
export const BUSY_POLL_MS = 1_000;
/** How often the resume windows of attached sessions are renewed (and each is re-read once), at most. */
export const REFRESH_MS = 30_000;

/** The renewal period for a resume window: a third of it when that is shorter, so an attached session never lapses. */
export function refreshPeriodMs(resumeWindowMs: number): number {
  return Math.max(1, Math.min(REFRESH_MS, Math.floor(resumeWindowMs / 3)));
}

/** Options of {@link ClusterSessionStore}. */
export interface ClusterSessionStoreOptions {
  readonly log: SessionLog;
  readonly nodeId: string;
  readonly limits: ServerLimits;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Every task-output frame written to a socket of this node. */
  readonly written: (session: ClusterSession, frame: ServerFrame) => void;
}

/** Turns a Redis failure into the face's typed one; anything else is a bug and stays as it is. */
function unavailable(error: unknown): unknown {
  return isUnavailable(error) ? new SessionStoreUnavailable(errorMessage(error), { cause: error }) : error;
}


/** Whether an attachment asks what a lookup's `resume` said it would. */
function sameRequest(resume: ResumeRequest | undefined, asked: SessionFlags | undefined, ack: number | undefined): boolean {
  if (resume === undefined || resume.ack !== ack) return false;
  if (resume.asked === undefined || asked === undefined) return resume.asked === asked;
  return resume.asked.ack === asked.ack && resume.asked.binary === asked.binary;
}

/** The sessions of every node, as this node's sockets use them. */
export class ClusterSessionStore implements SessionStore {
  readonly #options: ClusterSessionStoreOptions;
  readonly #node: SessionNode;
  /** Sessions with a socket of this node attached (or attaching). */
  readonly #attached = new Map<string, ClusterSession>();
  readonly #timers = new Disposer();
  readonly #refusals = new Map<string, 'perOwner' | 'total'>();
  /** The checks that let go of attachments no socket took (see {@link find}), until they ran. */
  readonly #claimChecks = new Set<NodeJS.Immediate>();
  /** What each resume's lookup attached with, so {@link attach} takes its claim only when it asks the same. */
  readonly #claimedFor = new WeakMap<Claim, ResumeRequest>();

  constructor(options: ClusterSessionStoreOptions) {
    this.#options = options;
    this.#node = { log: options.log, nodeId: options.nodeId, logger: options.logger, written: options.written };
    this.#timers.every(options.clock, BUSY_POLL_MS, () => this.#pumpWhere((session) => session.busy > 0));
    this.#timers.every(options.clock, refreshPeriodMs(options.log.resumeWindowMs), () => this.#refreshAll());
  }

  get size(): number {
    return this.#attached.size;
  }

  /** Held frames live in Redis, counted there (SessionLog.info); this node holds none. */
  get heldFrames(): number {
    return 0;
  }

  get heldBytes(): number {
    return 0;
  }

  /** A session of this node's sockets, by UUID. */
  attachedSession(uuid: string): ClusterSession | undefined {
    return this.#attached.get(uuid.toLowerCase());
  }

  async create(owner: string): Promise<Session | undefined> {
    const result = await this.#options.log.create(owner, randomUUID()).catch((error: unknown) => {
      throw unavailable(error);
    });
    if (result.kind === 'full') {
      this.#refusals.set(owner, result.bound);
      return undefined;
    }
    if (result.kind === 'exists') throw new Error('internal: a new session UUID is taken');
    return this.#sessionOf(result.session, owner, noFlags);
  }

  refusal(owner: string): string {
    const bound = this.#refusals.get(owner);
    this.#refusals.delete(owner);
    const { maxHeldSessionsPerKey, maxHeldSessions } = this.#options.limits;
    if (bound === 'perOwner') return `this API key has ${maxHeldSessionsPerKey} sessions, each with an open connection, and may keep at most ${maxHeldSessionsPerKey} (limits.maxHeldSessionsPerKey); close one first`;
    return `the cluster keeps at most ${maxHeldSessions} sessions (limits.maxHeldSessions) and every one it could drop has an open connection; try again later`;
  }

  /**
   * A resume's lookup is its attachment: one script checks the owner and attaches this node, and the
   * first held frames come in the same round trip, so the first replayed frame follows the
   * authentication's answer without another trip to Redis. The socket takes the attachment in
   * {@link attach}, in the same turn; if it went away before, the attachment is let go.
   */
  async find(uuid: string, owner: string, resume?: ResumeRequest): Promise<Session | undefined> {
    const id = uuid.toLowerCase();
    if (resume === undefined) return this.#lookUp(id, owner);
    const { asked, ack } = resume;
    // Prefetched frames serve only under ack (without, frames are taken); a short first page then.
    const prefetch = asked?.ack === false ? {} : { prefetch: FIRST_PAGE };
    const options = { ...prefetch, ...(ack === undefined ? {} : { ack }), ...(asked === undefined ? {} : { asked }) };
    const result = await this.#options.log.attach(id, owner, this.#options.nodeId, options).catch((error: unknown) => {
      throw unavailable(error);
    });
    if (!result.found || !result.ownerMatches) return undefined;
    // The flags the session carries: those the log set when the authentication asked for none.
    const session = this.#sessionOf(id, owner, asked === undefined ? result.flags : noFlags);
    session.claim = result;
    this.#claimedFor.set(result, resume);
    const check = setImmediate(() => {
      this.#claimChecks.delete(check);
      this.#releaseClaim(session, result);
    });
    this.#claimChecks.add(check);
    return session;
  }

  /** A lookup that attaches nothing (no socket is about to): the session's owner and the flags it carries. */
  async #lookUp(id: string, owner: string): Promise<Session | undefined> {
    const info = await this.#options.log.info(id).catch((error: unknown) => {
      throw unavailable(error);
    });
    if (info === undefined || info.owner !== owner) return undefined;
    return this.#sessionOf(id, owner, info.flagsSetBy === 'enableExtensions' ? info.flags : noFlags);
  }

  /** An attachment no socket took (it went away during the lookup): the session waits for a resume again. */
  #releaseClaim(session: ClusterSession, claim: Claim): void {
    if (session.claim !== claim) return;
    session.claim = undefined;
    this.#detachLate(session, claim.gen);
  }

  /** The one object of a session on this node: a resume on the node that holds it reuses it. */
  #sessionOf(uuid: string, owner: string, carried: SessionFlags): ClusterSession {
    return this.#attached.get(uuid) ?? new ClusterSession(this.#node, uuid, owner, carried);
  }

  attach(session: Session, socket: SessionSocket, asked: SessionFlags | undefined, ack: number | undefined): void {
    const entry = this.#entryOf(session);
    const claim = entry.claim;
    entry.claim = undefined;
    // A socket that asks for something other than what its lookup attached with attaches again, on its own terms.
    if (claim !== undefined && sameRequest(this.#claimedFor.get(claim), asked, ack)) {
      this.#attachClaimed(entry, socket, asked, claim);
      return;
    }
    this.#attachLog(entry, socket, asked, ack).then(
      (attached) => {
        if (attached) this.#afterConfirm(entry);
      },
      (error: unknown) => {
        this.#options.logger.warn('session attach failed', { session: entry.uuid, error: errorMessage(error) });
        socket.evict(closeCodes.internalError, 'session store unavailable');
      },
    );
  }

  /** Attaches a socket of this node's own (a transient session's collector) and waits for the log; rejects when Redis is away. */
  async attachNow(session: ClusterSession, socket: SessionSocket): Promise<void> {
    if (!(await this.#attachLog(session, socket, undefined, undefined))) throw new Error('internal: a transient session was lost at attach');
  }

  /**
   * Attaches in the log: the socket is the session's at once (a socket of this node attached before
   * is taken over), frames follow once the log confirmed; false when the socket was evicted instead.
   */
  async #attachLog(entry: ClusterSession, socket: SessionSocket, asked: SessionFlags | undefined, ack: number | undefined): Promise<boolean> {
    const previous = entry.begin(socket, asked);
    this.#attached.set(entry.uuid, entry);
    previous?.evict(closeCodes.sessionTakenOver, 'session taken over');
    const options = { ...(ack === undefined ? {} : { ack }), ...(asked === undefined ? {} : { asked }) };
    const result = await this.#options.log.attach(entry.uuid, entry.owner, this.#options.nodeId, options);
    if (!result.found || !result.ownerMatches) {
      // Expired between the authentication's lookup and now: the client starts a new session.
      if (entry.end(socket)) this.#attached.delete(entry.uuid);
      socket.evict(closeCodes.policyViolation, 'session expired');
      return false;
    }
    if (!entry.confirm(socket, result.gen, result.flags, result.acknowledged)) {
      this.#detachLate(entry, result.gen);
      if (entry.socket === socket) socket.evict(closeCodes.sessionTakenOver, 'session taken over');
      return false;
    }
    return true;
  }

  /** Binds the attachment a resume's lookup made to its socket, and writes the frames read with it. */
  #attachClaimed(entry: ClusterSession, socket: SessionSocket, asked: SessionFlags | undefined, claim: Claim): void {
    const previous = entry.begin(socket, asked);
    this.#attached.set(entry.uuid, entry);
    previous?.evict(closeCodes.sessionTakenOver, 'session taken over');
    if (!entry.confirm(socket, claim.gen, claim.flags, claim.acknowledged, claim.entries)) {
      this.#detachLate(entry, claim.gen);
      if (entry.socket === socket) socket.evict(closeCodes.sessionTakenOver, 'session taken over');
      return;
    }
    this.#afterConfirm(entry);
  }

  /** Frames follow a confirmed attachment, after an enableExtensions task met before it (they are numbered, or not, under the flags it set). */
  #afterConfirm(entry: ClusterSession): void {
    const pending = entry.pendingEnable;
    entry.pendingEnable = undefined;
    if (pending === undefined) entry.wake();
    else this.#sendEnable(entry, pending);
  }

  /** An attachment confirmed after its socket left: the log is told, so the session waits for a resume. */
  #detachLate(entry: ClusterSession, gen: number): void {
    this.#options.log.detach(entry.uuid, this.#options.nodeId, gen).catch(this.#logFailure('session detach'));
  }

  detach(session: Session, socket: SessionSocket): void {
    if (!(session instanceof ClusterSession) || !session.end(socket)) return;
    if (this.#attached.get(session.uuid) === session) this.#attached.delete(session.uuid);
    const gen = session.gen;
    // gen 0: the attach is still in flight; its answer sees the socket gone and detaches then.
    if (gen === 0) return;
    // A socket cut inside a write ends here before the pump counted that write: read after it.
    queueMicrotask(() => {
      const { written, untaken } = session.leftBehind();
      const { log, nodeId } = this.#options;
      // Sent before the detach on the same connection, so Redis runs them first.
      if (written !== undefined) log.delivered(session.uuid, nodeId, gen, written).catch(this.#logFailure('session delivered'));
      if (untaken.length > 0) log.giveBack(session.uuid, session.owner, untaken).then((back) => back || this.#logLost(session, untaken.length), this.#logFailure('session give back'));
      this.#detachLate(session, gen);
    });
  }

  enable(session: Session, flags: SessionFlags, ack: number | undefined): void {
    const entry = this.#entryOf(session);
    entry.setFlags(flags);
    const request = { flags, ack };
    entry.unconfirmedEnable = request;
    // Before the log confirmed the attachment, the enable waits for it (#sendEnable after confirm).
    if (entry.gen === 0) {
      entry.pendingEnable = request;
      return;
    }
    this.#sendEnable(entry, request);
  }

  #sendEnable(entry: ClusterSession, request: EnableRequest): void {
    // Applied, it is done. Refused, its attachment was already taken over: by a socket of this node
    // (whose lookup attached in Redis before this enable got there; it sends the enable again once it
    // binds) or by another node's, which took the session and with it the say.
    this.#options.log.enable(entry.uuid, this.#options.nodeId, entry.gen, request.flags, request.ack).then((applied) => {
      if (applied && entry.unconfirmedEnable === request) entry.unconfirmedEnable = undefined;
      entry.wake();
    }, this.#logFailure('session enable'));
  }

  acknowledge(session: Session, seq: number): void {
    this.#options.log.acknowledge(session.uuid, seq).catch(this.#logFailure('session acknowledge'));
  }

  writeHeld(session: Session): void {
    if (session instanceof ClusterSession) session.wake();
  }

  /** A restart without keepState: the state is the cluster's, not this node's; nothing is dropped. */
  clear(): void {
    this.#attached.clear();
  }

  close(): void {
    this.#attached.clear();
    this.#timers.dispose();
    for (const check of this.#claimChecks) clearImmediate(check);
    this.#claimChecks.clear();
  }

  /** Acts on a message of this node's channel. */
  onMessage(message: NodeMessage): void {
    const session = this.#attached.get(message.session);
    if (session === undefined) return;
    switch (message.kind) {
      case 'wake':
        session.wake(message.entry);
        return;
      case 'evict':
        if (session.takenOverAt(message.gen)) session.socket?.evict(closeCodes.sessionTakenOver, 'session taken over');
        return;
      case 'drop':
        session.discarded = true;
        session.socket?.evict(closeCodes.policyViolation, 'held results limit');
        return;
      case 'preview':
        session.deliverPreview(message.frame);
        return;
    }
  }

  /** Pumps every attached session (after the channel reconnected: wake-ups may have been lost). */
  pumpAll(): void {
    this.#pumpWhere(() => true);
  }

  #pumpWhere(predicate: (session: ClusterSession) => boolean): void {
    for (const session of this.#attached.values()) if (predicate(session)) session.wake();
  }

  #refreshAll(): void {
    const { log, nodeId } = this.#options;
    for (const session of this.#attached.values()) {
      if (session.gen === 0) continue;
      log.refresh(session.uuid, nodeId, session.gen).catch(this.#logFailure('session refresh'));
      session.wake();
    }
    log.sweep().catch(this.#logFailure('session sweep'));
  }

  #entryOf(session: Session): ClusterSession {
    if (!(session instanceof ClusterSession)) throw new Error('internal: a session this store did not give out');
    return session;
  }

  #logLost(session: ClusterSession, frames: number): void {
    this.#options.logger.warn('frames taken and not written were lost: the session moved on meanwhile', { session: session.uuid, frames });
  }

  #logFailure(what: string): (error: unknown) => void {
    return (error) => this.#options.logger.warn(`${what} failed`, { error: errorMessage(error) });
  }
}
