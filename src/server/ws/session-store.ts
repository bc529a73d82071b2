// Sessions by connectionSessionUUID: who owns each (a key digest), the socket attached to it, and the
// frames it holds for resume, bounded by count and by bytes, in total and per key (what happens at
// each bound is in limits.ts), and its resume window. The store alone counts and expires: a session's
// own state (session-record.ts) never calls back into it.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../internal/clock.js';
import { Disposer } from '../../internal/disposer.js';
import { closeCodes } from './close-codes.js';
import type { ServerLimits } from '../limits.js';
import type { Logger } from '../logger.js';
import type { OutputTarget } from '../core/output-target.js';
import type { ServerFrame } from '../core/server-frame.js';
import { OwnerShares, type ShareBound, type ShareNode } from '../owner-shares.js';
import { SessionRecord, type SessionFlags, type SessionSocket } from './session-record.js';

/**
 * A session as the rest of the server holds it: the output target of its tasks, and what a socket
 * reads of it. Every change goes through the {@link SessionStore} that gave it out.
 */
export interface Session extends OutputTarget {
  readonly uuid: string;
  /** The extensions on for its socket now. */
  readonly flags: SessionFlags;
  /** The flags a socket that resumes it without asking for any starts with (see flagsOnAttach). */
  readonly carriedFlags: SessionFlags;
}

/**
 * The sessions and their held frames, as the WebSocket face and the server use them. Every change
 * to a session goes through here, so the store alone keeps the byte and count accounts and the
 * resume windows. A shared implementation (cluster mode) answers `create` and `find` (an
 * authentication, already awaited) with promises, may reject them with {@link SessionStoreUnavailable},
 * and keeps the held frames where a socket that resumes on another node can read them; `attach`,
 * `writeHeld` and the deliveries write to a socket of this process and stay synchronous. The memory
 * store answers synchronously, so its authentication path costs no turn of the event loop.
 */
export interface SessionStore {
  /** Sessions kept, with a socket or held for resume. */
  readonly size: number;
  /** Frames held for resume or awaiting an acknowledgement. */
  readonly heldFrames: number;
  /** Approximate bytes of those frames. */
  readonly heldBytes: number;
  /**
   * A new session for `owner`, its resume window running until a socket attaches. Older sessions
   * without a socket may go to make room; undefined when none may (see {@link refusal}).
   */
  create(owner: string): Session | undefined | Promise<Session | undefined>;
  /** Why {@link create} refused `owner` a session, for the `sessionLimitReached` error. */
  refusal(owner: string): string;
  /**
   * The session `uuid` if it is still kept and belongs to `owner`; another key's session is not
   * found. `resume` says what the socket's {@link attach} will ask, so a shared store may attach in
   * the same step (the socket then attaches in the same turn, asking the same); without it the
   * lookup changes nothing.
   */
  find(uuid: string, owner: string, resume?: ResumeRequest): Session | undefined | Promise<Session | undefined>;
  /**
   * Attaches a socket that authenticated with `session`: its resume window stops, a socket already
   * attached is taken over (closed with 4000), the flags become {@link flagsOnAttach}`(asked)`,
   * `ack` (an older client's resume under ack) forgets what it acknowledges, and every frame still
   * held is written, in order.
   */
  attach(session: Session, socket: SessionSocket, asked: SessionFlags | undefined, ack: number | undefined): void;
  /** `socket` went away: what `session` holds waits for the resume window. */
  detach(session: Session, socket: SessionSocket): void;
  /** An enableExtensions task: `ack` first forgets what the client has, then `flags` are the session's. */
  enable(session: Session, flags: SessionFlags, ack: number | undefined): void;
  /** ack extension: the client has every sequenced frame up to `seq`. */
  acknowledge(session: Session, seq: number): void;
  /** The socket can take more again: writes what the session holds, as far as it takes it. */
  writeHeld(session: Session): void;
  /** Drops every session (a restart without keepState). */
  clear(): void;
  /** Drops every session and stops every timer; the store is not used again. */
  close(): void;
}

/** What a resuming socket's authentication asks of the session it attaches to (see SessionStore.attach). */
export interface ResumeRequest {
  readonly asked: SessionFlags | undefined;
  readonly ack: number | undefined;
}

/** A shared session store could not be reached: the authentication is answered `serviceUnavailable` (retryable). */
export class SessionStoreUnavailable extends Error {
  readonly code = 'serviceUnavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SessionStoreUnavailable';
  }
}

/** A session's entry in one of the store's per-key accounts (a session counts in two). */
class SessionShare implements ShareNode {
  readonly entry: Entry;
  shareAccount: object | undefined = undefined;
  sharePrev: ShareNode | undefined = undefined;
  shareNext: ShareNode | undefined = undefined;
  sharePinned = false;
  shareAmount = 0;

  constructor(entry: Entry) {
    this.entry = entry;
  }
}

/** What the store does after a session's output changed what it holds. */
interface EntryHooks {
  /** A task output was delivered: the bounds are checked. */
  delivered(entry: Entry): void;
  /** Frames were forgotten: the accounts follow. */
  changed(entry: Entry): void;
}

/** What the memory store keeps of one session; the task core holds it as the session's output target. */
class Entry implements Session {
  readonly record: SessionRecord;
  readonly reattachable = true;
  /** Its places in the store's per-key accounts of sessions and of held bytes. */
  readonly counted = new SessionShare(this);
  readonly bytesHeld = new SessionShare(this);
  /** Cancels the resume window; set while the session has no socket. */
  expiry: (() => void) | undefined = undefined;
  readonly #hooks: EntryHooks;

  constructor(record: SessionRecord, hooks: EntryHooks) {
    this.record = record;
    this.#hooks = hooks;
  }

  get uuid(): string {
    return this.record.uuid;
  }

  get flags(): SessionFlags {
    return this.record.flags;
  }

  get carriedFlags(): SessionFlags {
    return this.record.carriedFlags;
  }

  get reachable(): boolean {
    return this.record.reachable;
  }

  deliver(frame: ServerFrame): void {
    if (this.record.discarded) return;
    this.record.deliver(frame);
    this.#hooks.delivered(this);
  }

  deliverPreview(frame: ServerFrame): void {
    this.record.deliverPreview(frame);
  }

  forgetTask(taskUUID: string): void {
    this.record.forgetTask(taskUUID);
    this.#hooks.changed(this);
  }
}

/** The limit named in logs and errors for each bound of the session store. */
const countLimits: Readonly<Record<ShareBound, string>> = { perOwner: 'limits.maxHeldSessionsPerKey', total: 'limits.maxHeldSessions' };
const byteLimits: Readonly<Record<ShareBound, string>> = { perOwner: 'limits.maxHeldBytesPerKey', total: 'limits.maxHeldBytesTotal' };

/**
 * Every session of the server in this process's memory, bounded by count and by held bytes, in
 * total and per key. A key past its share loses its own oldest sessions without a socket; past a
 * total, the key holding the most does. Sessions with a socket are never dropped to make room.
 */
export class MemorySessionStore implements SessionStore {
  readonly #limits: ServerLimits;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #resumeWindowMs: number;
  /** Owns the resume windows. */
  readonly #timers = new Disposer();
  readonly #sessions = new Map<string, Entry>();
  /** Sessions by owner: those without a socket are evictable, oldest detached first; attached ones are pinned. */
  readonly #counts: OwnerShares<SessionShare>;
  /** Held bytes by owner, one pinned entry per session (the sessions to drop come from #counts' order). */
  readonly #bytes: OwnerShares<SessionShare>;
  readonly #hooks: EntryHooks = {
    delivered: (entry) => this.#delivered(entry),
    changed: (entry) => this.#count(entry),
  };

  constructor(options: { limits: ServerLimits; logger: Logger; clock: Clock; resumeWindowMs: number }) {
    this.#limits = options.limits;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#resumeWindowMs = options.resumeWindowMs;
    this.#counts = new OwnerShares({ total: options.limits.maxHeldSessions, perOwner: options.limits.maxHeldSessionsPerKey });
    this.#bytes = new OwnerShares({ total: options.limits.maxHeldBytesTotal, perOwner: options.limits.maxHeldBytesPerKey });
  }

  get size(): number {
    return this.#sessions.size;
  }

  get heldBytes(): number {
    return this.#bytes.total;
  }

  get heldFrames(): number {
    let frames = 0;
    for (const entry of this.#sessions.values()) frames += entry.record.heldFrames;
    return frames;
  }

  create(owner: string): Session | undefined {
    for (;;) {
      const room = this.#counts.room(owner, 1);
      if (room.kind === 'fits') break;
      if (room.kind === 'full') return undefined;
      this.#logger.warn(`session dropped to make room: ${countLimits[room.bound]}`, { session: room.key.entry.uuid });
      this.#discard(room.key.entry);
    }
    const entry = new Entry(new SessionRecord(owner, randomUUID()), this.#hooks);
    this.#sessions.set(entry.uuid, entry);
    this.#counts.add(owner, entry.counted, 1);
    // Pinned: byte pressure picks the owner here, and the session to drop from #counts' order.
    this.#bytes.add(owner, entry.bytesHeld, 0, true);
    this.#startExpiry(entry);
    return entry;
  }

  refusal(owner: string): string {
    const mine = this.#counts.amountOf(owner);
    if (mine + 1 > this.#limits.maxHeldSessionsPerKey) {
      return `this API key has ${mine} sessions, each with an open connection, and may keep at most ${this.#limits.maxHeldSessionsPerKey} (limits.maxHeldSessionsPerKey); close one first`;
    }
    return `the server keeps at most ${this.#limits.maxHeldSessions} sessions (limits.maxHeldSessions) and every one it could drop has an open connection; try again later`;
  }

  find(uuid: string, owner: string): Session | undefined {
    const entry = this.#sessions.get(uuid.toLowerCase());
    return entry !== undefined && entry.record.owner === owner ? entry : undefined;
  }

  attach(session: Session, socket: SessionSocket, asked: SessionFlags | undefined, ack: number | undefined): void {
    const entry = this.#entryOf(session);
    if (entry === undefined) throw new Error('internal: attach to a session this store does not keep');
    this.#stopExpiry(entry);
    this.#counts.pin(entry.counted);
    entry.record.attach(socket, asked, ack);
    this.#count(entry);
  }

  detach(session: Session, socket: SessionSocket): void {
    const entry = this.#entryOf(session);
    if (entry === undefined || !entry.record.detach(socket)) return;
    // A socket cut in the middle of a write leaves the session mid-change: its account follows first.
    this.#count(entry);
    this.#startExpiry(entry);
    // Only sessions without a socket may be dropped to make room.
    this.#counts.unpin(entry.counted);
    this.#checkBytes(entry.record.owner);
  }

  enable(session: Session, flags: SessionFlags, ack: number | undefined): void {
    const entry = this.#entryOf(session);
    if (entry === undefined) return;
    entry.record.enable(flags, ack);
    this.#count(entry);
  }

  acknowledge(session: Session, seq: number): void {
    const entry = this.#entryOf(session);
    if (entry === undefined) return;
    entry.record.acknowledge(seq);
    this.#count(entry);
  }

  writeHeld(session: Session): void {
    const entry = this.#entryOf(session);
    if (entry === undefined) return;
    entry.record.pump();
    this.#count(entry);
  }

  clear(): void {
    for (const entry of [...this.#sessions.values()]) this.#discard(entry);
  }

  close(): void {
    this.clear();
    this.#timers.dispose();
  }

  /** The entry behind a session this store gave out and still keeps. */
  #entryOf(session: Session): Entry | undefined {
    return session instanceof Entry && !session.record.discarded ? session : undefined;
  }

  /** Brings the session's byte account to what it holds now (a no-op once it is dropped). */
  #count(entry: Entry): void {
    const delta = entry.record.heldBytes - entry.bytesHeld.shareAmount;
    if (delta !== 0) this.#bytes.resize(entry.bytesHeld, delta);
  }

  /**
   * After a task output: the per-session bound first (written frames go first, as they probably
   * arrived; a session still over it is dropped and its socket closed), then the key's and the
   * server's.
   */
  #delivered(entry: Entry): void {
    const record = entry.record;
    const max = this.#limits.maxHeldBytesPerSession;
    if (record.heldBytes > max) {
      record.trimWrittenTo(max);
      if (record.heldBytes > max) {
        this.#logger.warn('session dropped: held results exceed limits.maxHeldBytesPerSession', { session: record.uuid, heldBytes: record.heldBytes });
        const socket = record.socket;
        this.#discard(entry);
        socket?.evict(closeCodes.policyViolation, 'held results limit');
      }
    }
    this.#count(entry);
    this.#checkBytes(record.owner);
  }

  /** Drops a session and everything it holds. */
  #discard(entry: Entry): void {
    if (entry.record.discarded) return;
    this.#stopExpiry(entry);
    entry.record.discard();
    if (this.#sessions.get(entry.uuid) === entry) this.#sessions.delete(entry.uuid);
    this.#counts.delete(entry.counted);
    this.#bytes.delete(entry.bytesHeld);
  }

  #startExpiry(entry: Entry): void {
    this.#stopExpiry(entry);
    entry.expiry = this.#timers.timeout(this.#clock, this.#resumeWindowMs, () => {
      entry.expiry = undefined;
      this.#logger.debug('session expired', { session: entry.uuid });
      this.#discard(entry);
    });
  }

  #stopExpiry(entry: Entry): void {
    const cancel = entry.expiry;
    entry.expiry = undefined;
    cancel?.();
  }

  /**
   * Byte bounds after `owner`'s sessions grew: past its share the owner's own held results go, past
   * the total those of the key holding the most: its oldest session without a socket that holds
   * results, then written-but-unacknowledged frames of its sessions.
   */
  #checkBytes(owner: string): void {
    for (;;) {
      const room = this.#bytes.room(owner, 0);
      if (room.kind === 'fits') return;
      if (this.#shrink(room.owner, room.bound)) continue;
      if (room.owner === owner || !this.#shrink(owner, room.bound)) return;
    }
  }

  /** Frees some held bytes of `owner`; false when it holds nothing that may go. */
  #shrink(owner: string, bound: ShareBound): boolean {
    for (const { entry } of this.#counts.entriesOf(owner)) {
      if (entry.record.heldBytes === 0) continue;
      this.#logger.warn(`session dropped: held results exceed ${byteLimits[bound]}`, { session: entry.uuid });
      this.#discard(entry);
      return true;
    }
    let freed = false;
    for (const { entry } of this.#counts.pinnedOf(owner)) {
      if (entry.record.trimWritten()) {
        this.#count(entry);
        freed = true;
      }
    }
    return freed;
  }
}
