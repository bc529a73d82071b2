// One session of a cluster node as the WebSocket face holds it: its frames live in the session log
// (Redis), and while a socket of this node is attached it pumps them to that socket in seq order.
import { errorMessage, type Logger } from '../logger.js';
import type { ServerFrame } from '../core/server-frame.js';
import type { AttachResult, HeldEntry, LogFlags, SessionLog } from '../cluster/session-log.js';
import { flagsOnAttach, noFlags, type SessionFlags, type SessionSocket } from '../ws/session-record.js';
import type { Session } from '../ws/session-store.js';

/** Frames read from the log per round trip. */
const PAGE = 64;

/** An enableExtensions task as the log gets it. */
export interface EnableRequest {
  readonly flags: SessionFlags;
  readonly ack: number | undefined;
}

/** An attachment the log confirmed while a resume looked the session up, not yet bound to its socket. */
export type Claim = Extract<AttachResult, { readonly ownerMatches: true }>;

/** What a session needs from its node. */
export interface SessionNode {
  readonly log: SessionLog;
  readonly nodeId: string;
  readonly logger: Logger;
  /** Every task-output frame written to a socket (the task watch sees task ends in them). */
  written(session: ClusterSession, frame: ServerFrame): void;
}

/**
 * A session kept in the session log. `gen` is this node's attachment generation (0 while none is
 * confirmed): the log refuses `take`, `delivered`, `enable` and `detach` of a stale one, so a node
 * that lost the session to another can never write or trim for it.
 */
export class ClusterSession implements Session {
  readonly uuid: string;
  readonly owner: string;
  readonly reattachable = true;
  readonly #node: SessionNode;
  #flags: SessionFlags = noFlags;
  #carried: SessionFlags;
  #socket: SessionSocket | undefined = undefined;
  #gen = 0;
  /** The highest generation another node was told to take over with while ours was not confirmed yet. */
  #evictedAt = 0;
  /** The last seq written to the socket (under ack: frames after it are read; without: taken). */
  #cursor = 0;
  /** Under ack, the last seq the log was told was written (`delivered`): acks are clamped to it. */
  #marked = 0;
  /** An enableExtensions task met before the log confirmed the attachment: sent to the log once it does. */
  pendingEnable: EnableRequest | undefined = undefined;
  /**
   * The last enableExtensions task the log has not confirmed: a socket of this node that takes the
   * session over meanwhile sends it again under its own attachment (the log refuses the old one's).
   */
  unconfirmedEnable: EnableRequest | undefined = undefined;
  /** Frames taken (without ack) that the socket could not take yet; written first. */
  #leftovers: HeldEntry[] = [];
  /** Under ack, the first held frames, read with the attachment: the first pump writes them without another read. */
  #prefetched: Promise<readonly HeldEntry[]> | undefined = undefined;
  /** The attachment a resume's lookup made (see ClusterSessionStore.find), until its socket takes it. */
  claim: Claim | undefined = undefined;
  /** The pump in progress, if any. */
  #running: Promise<void> | undefined = undefined;
  #again = false;
  /** Tasks in flight that target this session: while any, the node re-reads it every second. */
  busy = 0;
  /** True once dropped by the log (a bound) or discarded: nothing more is written. */
  discarded = false;

  constructor(node: SessionNode, uuid: string, owner: string, carried: SessionFlags) {
    this.#node = node;
    this.uuid = uuid;
    this.owner = owner;
    this.#carried = carried;
  }

  get flags(): SessionFlags {
    return this.#flags;
  }

  get carriedFlags(): SessionFlags {
    return this.#carried;
  }

  get socket(): SessionSocket | undefined {
    return this.#socket;
  }

  get gen(): number {
    return this.#gen;
  }

  get reachable(): boolean {
    return this.#socket?.writable === true;
  }

  /** Holds a task output in the log; it reaches the socket (here or on whichever node has the session) from there. */
  deliver(frame: ServerFrame): void {
    this.#node.log.append(this.uuid, this.owner, frame).then(
      (result) => {
        if (result.kind === 'appended') this.wake();
      },
      (error: unknown) => {
        // Redis is away: the frame cannot be held, so it goes out now, unnumbered, if it can.
        this.#node.logger.warn('session append failed; frame written without seq', { session: this.uuid, error: errorMessage(error) });
        this.#socket?.writeTaskFrame(frame, undefined);
      },
    );
  }

  deliverPreview(frame: ServerFrame): void {
    this.#socket?.writePreview(frame);
  }

  forgetTask(): void {
    // The log keeps what it holds; a retarget only changes where new frames go.
  }

  /** A socket attaches (the log's attach is in flight): flags as the log will set them, the socket waits for `confirm`. */
  begin(socket: SessionSocket, asked: SessionFlags | undefined): SessionSocket | undefined {
    const previous = this.#socket;
    this.#socket = socket;
    this.#gen = 0;
    this.#evictedAt = 0;
    this.#leftovers = [];
    this.#prefetched = undefined;
    // An enableExtensions task the log has not confirmed set the session's flags (they carry over to
    // this socket), so the log gets it again, under this attachment; unless this socket asked for its own.
    if (asked !== undefined) this.unconfirmedEnable = undefined;
    this.pendingEnable = this.unconfirmedEnable;
    this.#flags = flagsOnAttach(asked, this.#carried);
    if (asked !== undefined) this.#carried = noFlags;
    return previous;
  }

  /**
   * The log confirmed the attachment of `socket`: false when it was taken over meanwhile. `entries`:
   * the first held frames, read with it (under ack), written by the next pump without a read.
   */
  confirm(socket: SessionSocket, gen: number, flags: LogFlags, acknowledged: number, entries?: Promise<readonly HeldEntry[]>): boolean {
    if (this.#socket !== socket) return false;
    this.#gen = gen;
    this.#marked = acknowledged;
    // An enableExtensions task already set this socket's flags; the log gets them next.
    if (this.pendingEnable === undefined) this.#flags = flags;
    this.#cursor = acknowledged;
    this.#prefetched = entries;
    return this.#evictedAt <= gen;
  }

  /** Another node took the session with generation `gen`: true when our socket must go. */
  takenOverAt(gen: number): boolean {
    if (this.#socket === undefined) return false;
    if (this.#gen === 0) {
      this.#evictedAt = Math.max(this.#evictedAt, gen);
      return false;
    }
    return gen > this.#gen;
  }

  /** `socket` went away; false when it was not the one attached (see {@link leftBehind}). */
  end(socket: SessionSocket): boolean {
    if (this.#socket !== socket) return false;
    this.#socket = undefined;
    return true;
  }

  /**
   * After an end (read once the write that cut the socket returned): what the log must still hear
   * before the detach. Under ack, the last seq written (a frame written just before the cut counts,
   * so the client's ack for it is not clamped); without, the frames taken but never written (they go
   * back in front of the log, so they keep their order, rather than being lost).
   */
  leftBehind(): { readonly written: number | undefined; readonly untaken: readonly HeldEntry[] } {
    const written = this.#flags.ack && this.#cursor > this.#marked ? this.#cursor : undefined;
    this.#marked = this.#cursor;
    const untaken = this.#leftovers;
    this.#leftovers = [];
    return { written, untaken };
  }

  /** An enableExtensions task on this node's socket. */
  setFlags(flags: SessionFlags): void {
    this.#flags = flags;
    this.#carried = flags;
  }

  /** Starts a {@link pump} without waiting for it (it never rejects); `carried`: the frame the wake-up brought, if any. */
  wake(carried?: HeldEntry): void {
    if (carried !== undefined && this.#writeCarried(carried)) return;
    this.pump().catch(() => undefined);
  }

  /**
   * Under ack, writes the frame a wake-up carried when it is the next one and no pump is under way,
   * saving the read of the log (the frame is the log's entry, from the same script). Anything else
   * (a gap, a pump running, no socket) is left to a pump, which writes in seq order. False when not written.
   */
  #writeCarried(entry: HeldEntry): boolean {
    const socket = this.#socket;
    const gen = this.#gen;
    if (this.#running !== undefined || !this.#flags.ack || socket === undefined || gen === 0 || this.discarded) return false;
    if (entry.seq !== this.#cursor + 1 || entry.clientSeq === undefined || !socket.writable || !socket.writeTaskFrame(entry.frame, entry.clientSeq)) return false;
    this.#cursor = entry.seq;
    this.#node.written(this, entry.frame);
    this.#marked = entry.seq;
    this.#node.log.delivered(this.uuid, this.#node.nodeId, gen, entry.seq).catch((error: unknown) => {
      this.#node.logger.warn('session delivered mark failed', { session: this.uuid, error: errorMessage(error) });
    });
    return true;
  }

  /**
   * Writes what the log holds for this session to its socket, in seq order, as far as the socket
   * takes it. A call during a pump joins it (and makes it read once more): the promise settles once
   * everything the log held at the call was written. Never rejects.
   */
  pump(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#pumpLoop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pumpLoop(): Promise<void> {
    try {
      do {
        this.#again = false;
        await this.#pumpPages();
      } while (this.#again);
    } catch (error) {
      this.#node.logger.warn('session pump failed', { session: this.uuid, error: errorMessage(error) });
    }
  }

  async #pumpPages(): Promise<void> {
    for (;;) {
      const socket = this.#socket;
      const gen = this.#gen;
      if (socket === undefined || gen === 0 || !socket.writable || this.discarded) return;
      const more = this.#flags.ack ? await this.#pumpRead(socket, gen) : await this.#pumpTake(socket, gen);
      if (!more) return;
    }
  }

  /** Under ack: frames after the cursor are read (they stay until acknowledged) and marked delivered once written. */
  async #pumpRead(socket: SessionSocket, gen: number): Promise<boolean> {
    const prefetched = this.#prefetched;
    this.#prefetched = undefined;
    const read = (): Promise<readonly HeldEntry[]> => this.#node.log.read(this.uuid, this.#cursor, PAGE);
    const entries = await (prefetched === undefined ? read() : prefetched.catch(read));
    if (this.#socket !== socket || this.#gen !== gen) return false;
    const from = this.#cursor;
    let blocked = false;
    for (const entry of entries) {
      if (entry.seq <= this.#cursor) continue;
      // A write may cut the socket (a fault, or a failed write); the cursor then says what went out.
      if (!socket.writeTaskFrame(entry.frame, entry.clientSeq)) {
        blocked = true;
        break;
      }
      this.#cursor = entry.seq;
      this.#node.written(this, entry.frame);
    }
    if (this.#cursor > from && this.#socket === socket) {
      this.#marked = this.#cursor;
      await this.#node.log.delivered(this.uuid, this.#node.nodeId, gen, this.#cursor);
    }
    // A prefetched page may have been read before the attachment took effect: one plain read follows.
    return !blocked && (prefetched !== undefined || entries.length === PAGE);
  }

  /** Without ack: frames are taken (each handed out once); what the socket cannot take now waits here. */
  async #pumpTake(socket: SessionSocket, gen: number): Promise<boolean> {
    if (!this.#writeLeftovers(socket)) return false;
    const entries = await this.#node.log.take(this.uuid, this.#node.nodeId, gen, PAGE);
    if (entries.length === 0) return false;
    const last = entries[entries.length - 1];
    if (last !== undefined) this.#cursor = Math.max(this.#cursor, last.seq);
    this.#leftovers.push(...entries);
    if (this.#socket !== socket) return false;
    return this.#writeLeftovers(socket) && entries.length === PAGE;
  }

  #writeLeftovers(socket: SessionSocket): boolean {
    while (this.#leftovers.length > 0) {
      const entry = this.#leftovers[0];
      if (entry === undefined || !socket.writeTaskFrame(entry.frame, undefined)) return false;
      this.#leftovers.shift();
      this.#node.written(this, entry.frame);
    }
    return true;
  }
}
