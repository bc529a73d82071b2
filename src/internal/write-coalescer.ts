// Merges the frames written to a socket during one turn of the event loop into fewer system calls.
// The first frame of a turn goes out at once (a lone answer waits for nothing); from the second on
// the socket is corked, and uncorked once the turn's I/O callbacks have run or when
// `framesPerWrite` frames are held, so the peer can start on a batch while the next one forms.
// Frames stay separate WebSocket frames; only the writes to the kernel merge.
import type { Duplex } from 'node:stream';

/** Frames merged into one write at most. */
export const FRAMES_PER_WRITE = 16;

export class WriteCoalescer {
  /** Sockets written to in this turn, with the frames they hold corked (0: not corked). */
  #turn = new Map<Duplex, number>();
  #endOfTurn: NodeJS.Immediate | undefined;
  readonly #framesPerWrite: number;

  constructor(framesPerWrite = FRAMES_PER_WRITE) {
    this.#framesPerWrite = framesPerWrite;
  }

  /** Call before writing a frame to `socket`. */
  beforeWrite(socket: Duplex): void {
    const held = this.#turn.get(socket);
    if (held === undefined) {
      this.#turn.set(socket, 0);
      this.#endOfTurn ??= setImmediate(this.#releaseAll);
      return;
    }
    if (held === 0) socket.cork();
    this.#turn.set(socket, held + 1);
  }

  /** Call after writing a frame: writes the batch out once it is full. */
  afterWrite(socket: Duplex): void {
    const held = this.#turn.get(socket);
    if (held === undefined || held < this.#framesPerWrite) return;
    this.#turn.set(socket, 0);
    socket.uncork();
  }

  /** Writes out what `socket` holds now: before it is closed or cut, so nothing written is lost. */
  release(socket: Duplex): void {
    const held = this.#turn.get(socket);
    if (held === undefined) return;
    this.#turn.delete(socket);
    if (held > 0) socket.uncork();
  }

  /** Writes out everything held and cancels the end-of-turn flush. */
  close(): void {
    clearImmediate(this.#endOfTurn);
    this.#releaseAll();
  }

  readonly #releaseAll = (): void => {
    this.#endOfTurn = undefined;
    const turn = this.#turn;
    if (turn.size === 0) return;
    this.#turn = new Map();
    for (const [socket, held] of turn) if (held > 0) socket.uncork();
  };
}
