// Sessions by connectionSessionUUID: who owns each (a key digest), the socket attached to it, its
// extension flags, the frames held for resume (with their sequence numbers under the ack extension)
// and the resume window timer. Bounded by count and by bytes, in total and per key; what happens at
// each bound is in limits.ts.
import { randomUUID } from 'node:crypto';
import { closeCodes } from './close-codes.js';
import type { ServerLimits } from '../limits.js';
import type { Logger } from '../logger.js';
import type { OutputTarget } from '../core/output-target.js';
import { heldSize, taskOf, type ServerFrame } from '../core/server-frame.js';
import { OwnerShares, type ShareBound, type ShareNode } from '../owner-shares.js';
import type { SessionExtension } from '../../protocol/index.js';

/** The socket side of a session, implemented by SocketSession. */
export interface SessionSocket {
  /** True when frames can be written now (open, not frozen by a fault). */
  readonly writable: boolean;
  /** Writes a task-output frame; false when it was not written (the socket may have been cut by a fault). */
  writeTaskFrame(frame: ServerFrame, seq: number | undefined): boolean;
  /** Writes a frame that is never held (a preview); dropped when it cannot be written now. */
  writePreview(frame: ServerFrame): void;
  /** The session no longer belongs to this socket (taken over, or dropped): close it and never touch the session again. */
  evict(code: number, reason: string): void;
}

/** One held frame: written (awaiting an ack) when it lies in the session's written prefix, else not written yet. */
interface HeldFrame {
  readonly seq: number | undefined;
  readonly frame: ServerFrame;
  readonly bytes: number;
}

/** Session extensions that are on. */
export interface SessionFlags {
  readonly ack: boolean;
  readonly binary: boolean;
}

const noFlags: SessionFlags = { ack: false, binary: false };

/** The flags of a list of session extension names (repeats allowed). */
export function flagsOf(names: readonly SessionExtension[]): SessionFlags {
  return { ack: names.includes('ack'), binary: names.includes('binaryResults') };
}

/** The names of the extensions on, in the protocol's order. */
export function namesOf(flags: SessionFlags): SessionExtension[] {
  const names: SessionExtension[] = [];
  if (flags.ack) names.push('ack');
  if (flags.binary) names.push('binaryResults');
  return names;
}

type SessionState = { name: 'attached'; socket: SessionSocket } | { name: 'held'; expiry: NodeJS.Timeout } | { name: 'discarded' };

/** A session's entry in one of the store's per-key accounts (a session counts in two). */
class SessionShare implements ShareNode {
  readonly session: Session;
  shareAccount: object | undefined = undefined;
  sharePrev: ShareNode | undefined = undefined;
  shareNext: ShareNode | undefined = undefined;
  sharePinned = false;
  shareAmount = 0;

  constructor(session: Session) {
    this.session = session;
  }
}

/** A protocol session: outlives its sockets for the resume window. */
export class Session implements OutputTarget {
  readonly uuid: string;
  readonly owner: string;
  readonly reattachable = true;
  readonly #store: SessionStore;
  #state: SessionState;
  #flags: SessionFlags = noFlags;
  /**
   * Who set the flags: an enableExtensions task (they belong to the session and carry over to the
   * socket that resumes it), or an authentication task of an older client, which asks again on
   * every authentication (they last for that socket, as they always did).
   */
  #flagsSetBy: 'authentication' | 'enableExtensions' = 'authentication';
  #nextSeq = 1;
  /** Held frames, oldest first: the first #writtenCount were written (awaiting an ack), the rest not yet. */
  #held: HeldFrame[] = [];
  #writtenCount = 0;
  #heldBytes = 0;
  /** Guards against re-entering the pump from a write that cut the socket. */
  #pumping = false;
  /** Its places in the store's per-key accounts of sessions and of held bytes. */
  readonly counted = new SessionShare(this);
  readonly bytesHeld = new SessionShare(this);

  constructor(store: SessionStore, owner: string, uuid: string) {
    this.#store = store;
    this.owner = owner;
    this.uuid = uuid;
    this.#state = { name: 'held', expiry: store.expiryTimer(this) };
  }

  get reachable(): boolean {
    return this.#state.name === 'attached' && this.#state.socket.writable;
  }

  get attached(): boolean {
    return this.#state.name === 'attached';
  }

  get discarded(): boolean {
    return this.#state.name === 'discarded';
  }

  get flags(): SessionFlags {
    return this.#flags;
  }

  get heldFrames(): number {
    return this.#held.length;
  }

  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** The one place the session changes state; runs the exit step of the old state. */
  #moveTo(next: SessionState): void {
    const previous = this.#state;
    if (previous.name === 'discarded') return;
    if (previous.name === 'held') clearTimeout(previous.expiry);
    this.#state = next;
  }

  /**
   * The flags a socket that authenticates with this session starts with: those its authentication
   * task asked for (`asked`, older clients), else the session's own when an enableExtensions task
   * set them, else none.
   */
  flagsOnAttach(asked: SessionFlags | undefined): SessionFlags {
    if (asked !== undefined) return asked;
    return this.#flagsSetBy === 'enableExtensions' ? this.#flags : noFlags;
  }

  /**
   * Attaches a socket that authenticated with this session, with {@link flagsOnAttach}`(asked)`. A
   * socket already attached is taken over (closed with 4000). `ack` (an older client's resume under
   * the ack extension) forgets the frames up to it; every frame still held is then written, in
   * order, with its original sequence number under ack.
   */
  attach(socket: SessionSocket, asked: SessionFlags | undefined, ack: number | undefined): void {
    if (this.#state.name === 'discarded') throw new Error('internal: attach to a discarded session');
    const previous = this.#state.name === 'attached' ? this.#state.socket : undefined;
    this.#moveTo({ name: 'attached', socket });
    this.#store.attached(this, true);
    previous?.evict(closeCodes.sessionTakenOver, 'session taken over');
    this.#flags = this.flagsOnAttach(asked);
    if (asked !== undefined) this.#flagsSetBy = 'authentication';
    if (ack !== undefined && this.#flags.ack) this.acknowledge(ack);
    // Frames written to an earlier socket but never acknowledged are replayed.
    this.#writtenCount = 0;
    this.pump();
  }

  /**
   * An enableExtensions task: `ack` first forgets the frames the client has, then `flags` are the
   * session's from the next frame on, and carry over to the sockets that resume it. Turning ack off
   * forgets the frames written and not yet acknowledged: nothing will acknowledge them now, and
   * without ack a written frame counts as delivered.
   */
  enable(flags: SessionFlags, ack: number | undefined): void {
    if (this.#state.name === 'discarded') return;
    if (ack !== undefined) this.acknowledge(ack);
    this.#flags = flags;
    this.#flagsSetBy = 'enableExtensions';
    if (!flags.ack) this.#remove((_held, written) => written);
  }

  /** The socket went away: hold what is undelivered for the resume window. */
  detach(socket: SessionSocket): void {
    if (this.#state.name !== 'attached' || this.#state.socket !== socket) return;
    this.#moveTo({ name: 'held', expiry: this.#store.expiryTimer(this) });
    this.#store.attached(this, false);
    this.#store.checkBytes(this.owner);
  }

  /** Drops the session and everything it holds. */
  discard(): void {
    if (this.#state.name === 'discarded') return;
    this.#moveTo({ name: 'discarded' });
    this.#store.adjustBytes(this, -this.#heldBytes);
    this.#held = [];
    this.#writtenCount = 0;
    this.#heldBytes = 0;
    this.#store.remove(this);
  }

  deliver(frame: ServerFrame): void {
    if (this.#state.name === 'discarded') return;
    const seq = this.#flags.ack ? this.#nextSeq++ : undefined;
    const bytes = heldSize(frame);
    this.#held.push({ seq, frame, bytes });
    this.#grow(bytes);
    this.pump();
    this.#enforceLimits();
  }

  deliverPreview(frame: ServerFrame): void {
    if (this.#state.name === 'attached') this.#state.socket.writePreview(frame);
  }

  forgetTask(taskUUID: string): void {
    this.#remove((held, written) => !written && taskOf(held.frame) === taskUUID);
  }

  /** ack extension: the client has every sequenced frame up to `seq`. */
  acknowledge(seq: number): void {
    let drop = 0;
    // Only frames that were written can have been received; a larger ack is clamped.
    while (drop < this.#writtenCount) {
      const held = this.#held[drop];
      if (held === undefined || held.seq === undefined || held.seq > seq) break;
      drop++;
    }
    if (drop === 0) return;
    let bytes = 0;
    for (const held of this.#held.splice(0, drop)) bytes += held.bytes;
    this.#writtenCount -= drop;
    this.#grow(-bytes);
  }

  /** Writes every unwritten held frame while the socket takes them. */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      // Starting after the written prefix keeps a deliver O(1) however many frames await an ack.
      let index = this.#writtenCount;
      while (index < this.#held.length) {
        const state = this.#state;
        if (state.name !== 'attached' || !state.socket.writable) return;
        const held = this.#held[index];
        if (held === undefined) return;
        // A frame numbered under an earlier socket's ack goes out plain to a socket without it.
        if (!state.socket.writeTaskFrame(held.frame, this.#flags.ack ? held.seq : undefined)) return;
        if (this.#flags.ack && held.seq !== undefined) {
          index++;
          this.#writtenCount = index;
        } else {
          this.#held.splice(index, 1);
          this.#grow(-held.bytes);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #remove(predicate: (held: HeldFrame, written: boolean) => boolean): void {
    let bytes = 0;
    let writtenKept = 0;
    this.#held = this.#held.filter((held, index) => {
      const written = index < this.#writtenCount;
      if (!predicate(held, written)) {
        if (written) writtenKept++;
        return true;
      }
      bytes += held.bytes;
      return false;
    });
    this.#writtenCount = writtenKept;
    this.#grow(-bytes);
  }

  #grow(bytes: number): void {
    this.#heldBytes += bytes;
    this.#store.adjustBytes(this, bytes);
  }

  /** Per-session byte bound: written frames go first (they probably arrived); a detached session over it is dropped. */
  #enforceLimits(): void {
    const max = this.#store.limits.maxHeldBytesPerSession;
    if (this.#heldBytes <= max) {
      this.#store.checkBytes(this.owner);
      return;
    }
    while (this.#heldBytes > max && this.#writtenCount > 0) {
      const held = this.#held.shift();
      if (held !== undefined) {
        this.#writtenCount--;
        this.#grow(-held.bytes);
      }
    }
    if (this.#heldBytes > max) {
      this.#store.logger.warn('session dropped: held results exceed limits.maxHeldBytesPerSession', { session: this.uuid, heldBytes: this.#heldBytes });
      const state = this.#state;
      this.discard();
      if (state.name === 'attached') state.socket.evict(closeCodes.policyViolation, 'held results limit');
    }
    this.#store.checkBytes(this.owner);
  }

  /** Forgets written frames (awaiting ack) to free memory; used by the store's byte bounds. True when it freed any. */
  trimWritten(): boolean {
    const before = this.#heldBytes;
    this.#remove((_held, written) => written);
    return this.#heldBytes < before;
  }
}

/** The limit named in logs and errors for each bound of the session store. */
const countLimits: Readonly<Record<ShareBound, string>> = { perOwner: 'limits.maxHeldSessionsPerKey', total: 'limits.maxHeldSessions' };
const byteLimits: Readonly<Record<ShareBound, string>> = { perOwner: 'limits.maxHeldBytesPerKey', total: 'limits.maxHeldBytesTotal' };

/**
 * Every session of the server, bounded by count and by held bytes, in total and per key. A key past
 * its share loses its own oldest sessions without a socket; past a total, the key holding the most
 * does. Sessions with a socket are never dropped to make room.
 */
export class SessionStore {
  readonly limits: ServerLimits;
  readonly logger: Logger;
  #resumeWindowMs: number;
  readonly #sessions = new Map<string, Session>();
  /** Sessions by owner: those without a socket are evictable, oldest detached first; attached ones are pinned. */
  readonly #counts: OwnerShares<SessionShare>;
  /** Held bytes by owner, one pinned entry per session (the sessions to drop come from #counts' order). */
  readonly #bytes: OwnerShares<SessionShare>;

  constructor(options: { limits: ServerLimits; logger: Logger; resumeWindowMs: number }) {
    this.limits = options.limits;
    this.logger = options.logger;
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
    for (const session of this.#sessions.values()) frames += session.heldFrames;
    return frames;
  }

  /**
   * A new session for `owner`. To make room, the owner's own oldest session without a socket goes
   * when it is at its share, and the largest holder's when the total is reached. Undefined when
   * nothing may go (every session in the way has a socket): see {@link refusal}.
   */
  create(owner: string): Session | undefined {
    for (;;) {
      const room = this.#counts.room(owner, 1);
      if (room.kind === 'fits') break;
      if (room.kind === 'full') return undefined;
      this.logger.warn(`session dropped to make room: ${countLimits[room.bound]}`, { session: room.key.session.uuid });
      room.key.session.discard();
    }
    const session = new Session(this, owner, randomUUID());
    this.#sessions.set(session.uuid, session);
    this.#counts.add(owner, session.counted, 1);
    // Pinned: byte pressure picks the owner here, and the session to drop from #counts' order.
    this.#bytes.add(owner, session.bytesHeld, 0, true);
    return session;
  }

  /** Why {@link create} refused `owner` a session, for the `sessionLimitReached` error. */
  refusal(owner: string): string {
    const mine = this.#counts.amountOf(owner);
    if (mine + 1 > this.limits.maxHeldSessionsPerKey) {
      return `this API key has ${mine} sessions, each with an open connection, and may keep at most ${this.limits.maxHeldSessionsPerKey} (limits.maxHeldSessionsPerKey); close one first`;
    }
    return `the server keeps at most ${this.limits.maxHeldSessions} sessions (limits.maxHeldSessions) and every one it could drop has an open connection; try again later`;
  }

  /** The session `uuid` if it is still kept and belongs to `owner`; another key's session is not found. */
  find(uuid: string, owner: string): Session | undefined {
    const session = this.#sessions.get(uuid.toLowerCase());
    return session !== undefined && session.owner === owner ? session : undefined;
  }

  /** The resume window timer of a held session. */
  expiryTimer(session: Session): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.logger.debug('session expired', { session: session.uuid });
      session.discard();
    }, this.#resumeWindowMs);
    timer.unref();
    return timer;
  }

  /** A socket attached to (true) or left (false) a session: only sessions without one may be dropped to make room. */
  attached(session: Session, attached: boolean): void {
    if (attached) this.#counts.pin(session.counted);
    else this.#counts.unpin(session.counted);
  }

  remove(session: Session): void {
    if (this.#sessions.get(session.uuid) !== session) return;
    this.#sessions.delete(session.uuid);
    this.#counts.delete(session.counted);
    this.#bytes.delete(session.bytesHeld);
  }

  adjustBytes(session: Session, delta: number): void {
    this.#bytes.resize(session.bytesHeld, delta);
  }

  /**
   * Byte bounds after `owner`'s sessions grew: past its share the owner's own held results go, past
   * the total those of the key holding the most: its oldest session without a socket that holds
   * results, then written-but-unacknowledged frames of its sessions.
   */
  checkBytes(owner: string): void {
    for (;;) {
      const room = this.#bytes.room(owner, 0);
      if (room.kind === 'fits') return;
      if (this.#shrink(room.owner, room.bound)) continue;
      if (room.owner === owner || !this.#shrink(owner, room.bound)) return;
    }
  }

  /** Frees some held bytes of `owner`; false when it holds nothing that may go. */
  #shrink(owner: string, bound: ShareBound): boolean {
    for (const { session } of this.#counts.entriesOf(owner)) {
      if (session.heldBytes === 0) continue;
      this.logger.warn(`session dropped: held results exceed ${byteLimits[bound]}`, { session: session.uuid });
      session.discard();
      return true;
    }
    let freed = false;
    for (const { session } of this.#counts.pinnedOf(owner)) if (session.trimWritten()) freed = true;
    return freed;
  }

  /** Drops every session (a restart without keepState, or close). */
  clear(): void {
    for (const session of [...this.#sessions.values()]) session.discard();
  }
}
