// One session's socket, extension flags and frames held for resume (with their sequence numbers under
// the ack extension): a value the session store manages. It never sees the store; the store reads
// `heldBytes` after each change, and keeps the accounts, the bounds and the resume window itself.
import { closeCodes } from './close-codes.js';
import { heldSize, taskOf, type ServerFrame } from '../core/server-frame.js';
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

/** Session extensions that are on. */
export interface SessionFlags {
  readonly ack: boolean;
  readonly binary: boolean;
}

/** No extension on. */
export const noFlags: SessionFlags = Object.freeze({ ack: false, binary: false });

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

/**
 * The flags a socket that authenticates with a session starts with: those its authentication task
 * asked for (older clients ask there, for that socket), else those the session carries.
 */
export function flagsOnAttach(asked: SessionFlags | undefined, carried: SessionFlags): SessionFlags {
  return asked ?? carried;
}

/** One held frame: written (awaiting an ack) when it lies in the session's written prefix, else not written yet. */
interface HeldFrame {
  readonly seq: number | undefined;
  readonly frame: ServerFrame;
  readonly bytes: number;
}

/** A protocol session's own state: outlives its sockets for the resume window. */
export class SessionRecord {
  readonly uuid: string;
  readonly owner: string;
  #socket: SessionSocket | undefined = undefined;
  #discarded = false;
  #flags: SessionFlags = noFlags;
  /**
   * The flags a socket that resumes the session without asking starts with: those an
   * enableExtensions task set (they belong to the session); none when an authentication task of an
   * older client set them, since it asks again on every authentication (they last for its socket).
   */
  #carried: SessionFlags = noFlags;
  #nextSeq = 1;
  /** Held frames, oldest first: the first #writtenCount were written (awaiting an ack), the rest not yet. */
  #held: HeldFrame[] = [];
  #writtenCount = 0;
  #heldBytes = 0;
  /** Guards against re-entering the pump from a write that cut the socket. */
  #pumping = false;

  constructor(owner: string, uuid: string) {
    this.owner = owner;
    this.uuid = uuid;
  }

  /** The socket attached, if any. */
  get socket(): SessionSocket | undefined {
    return this.#socket;
  }

  get discarded(): boolean {
    return this.#discarded;
  }

  /** True when a frame delivered now would be written now. */
  get reachable(): boolean {
    return this.#socket?.writable === true;
  }

  get flags(): SessionFlags {
    return this.#flags;
  }

  get carriedFlags(): SessionFlags {
    return this.#carried;
  }

  get heldFrames(): number {
    return this.#held.length;
  }

  get heldBytes(): number {
    return this.#heldBytes;
  }

  /**
   * Attaches a socket that authenticated with this session, with {@link flagsOnAttach}. A socket
   * already attached is taken over (closed with 4000). `ack` (an older client's resume under the ack
   * extension) forgets the frames up to it; every frame still held is then written, in order, with
   * its original sequence number under ack.
   */
  attach(socket: SessionSocket, asked: SessionFlags | undefined, ack: number | undefined): void {
    if (this.#discarded) throw new Error('internal: attach to a discarded session');
    const previous = this.#socket;
    this.#socket = socket;
    previous?.evict(closeCodes.sessionTakenOver, 'session taken over');
    this.#flags = flagsOnAttach(asked, this.#carried);
    if (asked !== undefined) this.#carried = noFlags;
    if (ack !== undefined && this.#flags.ack) this.acknowledge(ack);
    // Frames written to an earlier socket but never acknowledged are replayed.
    this.#writtenCount = 0;
    this.pump();
  }

  /** `socket` went away; false when it was not the one attached. */
  detach(socket: SessionSocket): boolean {
    if (this.#discarded || this.#socket !== socket) return false;
    this.#socket = undefined;
    return true;
  }

  /**
   * An enableExtensions task: `ack` first forgets the frames the client has, then `flags` are the
   * session's from the next frame on, and carry over to the sockets that resume it. Turning ack off
   * forgets the frames written and not yet acknowledged: nothing will acknowledge them now, and
   * without ack a written frame counts as delivered.
   */
  enable(flags: SessionFlags, ack: number | undefined): void {
    if (this.#discarded) return;
    if (ack !== undefined) this.acknowledge(ack);
    this.#flags = flags;
    this.#carried = flags;
    if (!flags.ack) this.#remove((_held, written) => written);
  }

  /** Drops everything held; the socket, if any, is left to whoever discards. */
  discard(): void {
    this.#discarded = true;
    this.#socket = undefined;
    this.#held = [];
    this.#writtenCount = 0;
    this.#heldBytes = 0;
  }

  /** Holds a task output, numbered under ack, and writes what the socket takes. */
  deliver(frame: ServerFrame): void {
    if (this.#discarded) return;
    const seq = this.#flags.ack ? this.#nextSeq++ : undefined;
    const bytes = heldSize(frame);
    this.#held.push({ seq, frame, bytes });
    this.#heldBytes += bytes;
    this.pump();
  }

  /** A preview goes to the socket now or nowhere. */
  deliverPreview(frame: ServerFrame): void {
    this.#socket?.writePreview(frame);
  }

  /** Forgets the unwritten frames of a task that moved to another session. */
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
    this.#heldBytes -= bytes;
  }

  /** Writes every unwritten held frame while the socket takes them. */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      // Starting after the written prefix keeps a deliver O(1) however many frames await an ack.
      let index = this.#writtenCount;
      while (index < this.#held.length) {
        const socket = this.#socket;
        if (socket === undefined || !socket.writable) return;
        const held = this.#held[index];
        if (held === undefined) return;
        // A frame numbered under an earlier socket's ack goes out plain to a socket without it.
        if (!socket.writeTaskFrame(held.frame, this.#flags.ack ? held.seq : undefined)) return;
        if (this.#flags.ack && held.seq !== undefined) {
          index++;
          this.#writtenCount = index;
        } else {
          this.#held.splice(index, 1);
          this.#heldBytes -= held.bytes;
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Forgets written frames (awaiting ack), oldest first, until at most `max` bytes are held or none is left. */
  trimWrittenTo(max: number): void {
    let drop = 0;
    while (this.#heldBytes > max && drop < this.#writtenCount) {
      const held = this.#held[drop];
      if (held === undefined) break;
      this.#heldBytes -= held.bytes;
      drop++;
    }
    this.#held.splice(0, drop);
    this.#writtenCount -= drop;
  }

  /** Forgets every written frame (awaiting ack) to free memory; true when it freed any. */
  trimWritten(): boolean {
    const before = this.#heldBytes;
    this.#remove((_held, written) => written);
    return this.#heldBytes < before;
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
    this.#heldBytes -= bytes;
  }
}
