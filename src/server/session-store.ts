// Sessions by connectionSessionUUID: who owns each (a key digest), the socket attached to it, the
// frames held for resume (with their sequence numbers under the ack extension) and the resume
// window timer. Bounded by count and by bytes; what happens at each bound is in limits.ts.
import { randomUUID } from 'node:crypto';
import { closeCodes } from './close-codes.js';
import type { ServerLimits } from './limits.js';
import type { Logger } from './logger.js';
import { heldSize, taskOf, type Outbound } from './outbound.js';

/** The socket side of a session, implemented by SocketSession. */
export interface SessionSocket {
  /** True when frames can be written now (open, not frozen by a fault). */
  readonly writable: boolean;
  /** Writes a task-output frame; false when it was not written (the socket may have been cut by a fault). */
  writeTaskFrame(frame: Outbound, seq: number | undefined): boolean;
  /** Writes a frame that is never held (a preview); dropped when it cannot be written now. */
  writeLive(frame: Outbound): void;
  /** The session no longer belongs to this socket (taken over, or dropped): close it and never touch the session again. */
  evict(code: number, reason: string): void;
}

/** Where a task's outputs go: a session (WebSocket) or an HTTP request's collector. */
export interface OutputTarget {
  /** Task-output frames: finals, task errors, async acknowledgements, cancel answers. Held when not deliverable. */
  deliver(frame: Outbound): void;
  /** Previews: written if possible, otherwise dropped. */
  deliverLive(frame: Outbound): void;
  /** True while a peer is attached and can receive frames. */
  readonly live: boolean;
  /** True when `getResponse` may move a running task's outputs here (sessions, not HTTP requests). */
  readonly reattachable: boolean;
  /** Forgets frames of a task that were not delivered yet (its outputs moved to another target). */
  forgetTask(taskUUID: string): void;
}

/** One held frame: written (awaiting an ack) when it lies in the session's written prefix, else not written yet. */
interface HeldFrame {
  readonly seq: number | undefined;
  readonly frame: Outbound;
  readonly bytes: number;
}

/** Session extensions a socket turned on. */
export interface SessionFlags {
  readonly ack: boolean;
  readonly binary: boolean;
}

type SessionState = { name: 'attached'; socket: SessionSocket } | { name: 'held'; expiry: NodeJS.Timeout } | { name: 'discarded' };

/** A protocol session: outlives its sockets for the resume window. */
export class Session implements OutputTarget {
  readonly uuid: string;
  readonly owner: string;
  readonly reattachable = true;
  readonly #store: SessionStore;
  #state: SessionState;
  #flags: SessionFlags = { ack: false, binary: false };
  #nextSeq = 1;
  /** Held frames, oldest first: the first #writtenCount were written (awaiting an ack), the rest not yet. */
  #held: HeldFrame[] = [];
  #writtenCount = 0;
  #heldBytes = 0;
  /** Guards against re-entering the pump from a write that cut the socket. */
  #pumping = false;

  constructor(store: SessionStore, owner: string, uuid: string) {
    this.#store = store;
    this.owner = owner;
    this.uuid = uuid;
    this.#state = { name: 'held', expiry: store.expiryTimer(this) };
  }

  get live(): boolean {
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
   * Attaches a socket that authenticated with this session. A socket already attached is taken
   * over (closed with 4000). `ack` (resume under the ack extension) forgets the frames up to it;
   * every frame still held is then written, in order, with its original sequence number.
   */
  attach(socket: SessionSocket, flags: SessionFlags, ack: number | undefined): void {
    if (this.#state.name === 'discarded') throw new Error('internal: attach to a discarded session');
    const previous = this.#state.name === 'attached' ? this.#state.socket : undefined;
    this.#moveTo({ name: 'attached', socket });
    previous?.evict(closeCodes.sessionTakenOver, 'session taken over');
    this.#flags = flags;
    if (ack !== undefined) this.acknowledge(ack);
    // Frames written to an earlier socket but never acknowledged are replayed.
    this.#writtenCount = 0;
    this.pump();
  }

  /** The socket went away: hold what is undelivered for the resume window. */
  detach(socket: SessionSocket): void {
    if (this.#state.name !== 'attached' || this.#state.socket !== socket) return;
    this.#moveTo({ name: 'held', expiry: this.#store.expiryTimer(this) });
    this.#store.checkTotal();
  }

  /** Drops the session and everything it holds. */
  discard(): void {
    if (this.#state.name === 'discarded') return;
    this.#moveTo({ name: 'discarded' });
    this.#store.adjustBytes(-this.#heldBytes);
    this.#held = [];
    this.#writtenCount = 0;
    this.#heldBytes = 0;
    this.#store.remove(this);
  }

  deliver(frame: Outbound): void {
    if (this.#state.name === 'discarded') return;
    const seq = this.#flags.ack ? this.#nextSeq++ : undefined;
    const bytes = heldSize(frame);
    this.#held.push({ seq, frame, bytes });
    this.#grow(bytes);
    this.pump();
    this.#enforceLimits();
  }

  deliverLive(frame: Outbound): void {
    if (this.#state.name === 'attached') this.#state.socket.writeLive(frame);
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
    this.#store.adjustBytes(bytes);
  }

  /** Per-session byte bound: written frames go first (they probably arrived); a detached session over it is dropped. */
  #enforceLimits(): void {
    const max = this.#store.limits.maxHeldBytesPerSession;
    if (this.#heldBytes <= max) {
      this.#store.checkTotal();
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
    this.#store.checkTotal();
  }

  /** Forgets written frames (awaiting ack) to free memory; used by the store's total bound. */
  trimWritten(): void {
    this.#remove((_held, written) => written);
  }
}

/** Every session of the server, bounded by count and total held bytes. */
export class SessionStore {
  readonly limits: ServerLimits;
  readonly logger: Logger;
  #resumeWindowMs: number;
  /** Insertion order = age, which the count and byte bounds evict by. */
  readonly #sessions = new Map<string, Session>();
  #heldBytes = 0;

  constructor(options: { limits: ServerLimits; logger: Logger; resumeWindowMs: number }) {
    this.limits = options.limits;
    this.logger = options.logger;
    this.#resumeWindowMs = options.resumeWindowMs;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get heldBytes(): number {
    return this.#heldBytes;
  }

  get heldFrames(): number {
    let frames = 0;
    for (const session of this.#sessions.values()) frames += session.heldFrames;
    return frames;
  }

  /** A new session for `owner`, or undefined at `maxHeldSessions` when no held session can make room. */
  create(owner: string): Session | undefined {
    if (this.#sessions.size >= this.limits.maxHeldSessions && !this.#evictOldestHeld()) return undefined;
    const session = new Session(this, owner, randomUUID());
    this.#sessions.set(session.uuid, session);
    return session;
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

  remove(session: Session): void {
    if (this.#sessions.get(session.uuid) === session) this.#sessions.delete(session.uuid);
  }

  adjustBytes(delta: number): void {
    this.#heldBytes += delta;
  }

  /** Total byte bound: drop the oldest detached sessions, then written-but-unacknowledged frames. */
  checkTotal(): void {
    if (this.#heldBytes <= this.limits.maxHeldBytesTotal) return;
    for (const session of [...this.#sessions.values()]) {
      if (this.#heldBytes <= this.limits.maxHeldBytesTotal) return;
      if (session.attached || session.heldBytes === 0) continue;
      this.logger.warn('session dropped: held results exceed limits.maxHeldBytesTotal', { session: session.uuid });
      session.discard();
    }
    for (const session of this.#sessions.values()) {
      if (this.#heldBytes <= this.limits.maxHeldBytesTotal) return;
      session.trimWritten();
    }
  }

  #evictOldestHeld(): boolean {
    for (const session of this.#sessions.values()) {
      if (session.attached) continue;
      this.logger.warn('session dropped to make room: limits.maxHeldSessions', { session: session.uuid });
      session.discard();
      return true;
    }
    return false;
  }

  /** Drops every session (a restart without keepState, or close). */
  clear(): void {
    for (const session of [...this.#sessions.values()]) session.discard();
  }
}
