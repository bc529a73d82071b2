// Fault injection: hooks that make the real server misbehave the way networks do (cut sockets,
// lost frames, silent peers). Inert until a test calls them; the production path only asks
// cheap questions of it (a counter compare per task frame).

/** The fault-injection surface of a server, for tests of clients against it. */
export interface ServerFaults {
  /** Terminates every socket now, without a close frame, like a network cut. */
  dropAll(): void;
  /** After the server writes `n` more task-output frames (finals, previews, task errors), terminates that socket right after the nth write. */
  dropAfterFrames(n: number): void;
  /** Terminates the socket instead of writing the nth next task-output frame; a final or task error stays held for resume. */
  dropBeforeFrame(n: number): void;
  /** Ignores pings (a half-open peer) while on. */
  withholdPongs(on: boolean): void;
  /** Answers pings after this many milliseconds (0 = at once). */
  delayPongsMs(ms: number): void;
  /** Writes nothing to any socket while on (half-open): task frames are held, replies queued; on `false` everything is written. */
  freeze(on: boolean): void;
  /** Terminates the next `n` sockets right after the upgrade, before authentication. */
  closeOnConnect(n: number): void;
  /** Terminates the next `n` sockets right after their authentication reply. */
  closeAfterAuth(n: number): void;
  /** Turns every fault off. */
  reset(): void;
}

/** What the server does about one task-output frame. */
export type FrameFault = 'write' | 'dropBefore' | 'dropAfter';

function count(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`faults.${name}(n) needs an integer n >= 0; got ${n}`);
  return n;
}

/** The server's side of {@link ServerFaults}: the state the write and accept paths consult. */
export class Faults implements ServerFaults {
  readonly #terminateAll: () => void;
  readonly #unfreeze: () => void;
  #dropAfter = 0;
  #dropBefore = 0;
  #withholdPongs = false;
  #pongDelayMs = 0;
  #frozen = false;
  #closeOnConnect = 0;
  #closeAfterAuth = 0;

  constructor(hooks: { terminateAll(): void; unfreeze(): void }) {
    this.#terminateAll = hooks.terminateAll;
    this.#unfreeze = hooks.unfreeze;
  }

  dropAll(): void {
    this.#terminateAll();
  }

  dropAfterFrames(n: number): void {
    this.#dropAfter = count(n, 'dropAfterFrames');
  }

  dropBeforeFrame(n: number): void {
    this.#dropBefore = count(n, 'dropBeforeFrame');
  }

  withholdPongs(on: boolean): void {
    this.#withholdPongs = on;
  }

  delayPongsMs(ms: number): void {
    this.#pongDelayMs = count(ms, 'delayPongsMs');
  }

  freeze(on: boolean): void {
    const wasFrozen = this.#frozen;
    this.#frozen = on;
    if (wasFrozen && !on) this.#unfreeze();
  }

  closeOnConnect(n: number): void {
    this.#closeOnConnect = count(n, 'closeOnConnect');
  }

  closeAfterAuth(n: number): void {
    this.#closeAfterAuth = count(n, 'closeAfterAuth');
  }

  reset(): void {
    this.#dropAfter = 0;
    this.#dropBefore = 0;
    this.#withholdPongs = false;
    this.#pongDelayMs = 0;
    this.#closeOnConnect = 0;
    this.#closeAfterAuth = 0;
    this.freeze(false);
  }

  // ---- consulted by the server ----

  /** True while writes are suspended. */
  get frozen(): boolean {
    return this.#frozen;
  }

  /** 'withhold', or the delay before a pong (0 = now). */
  pongPolicy(): 'withhold' | number {
    return this.#withholdPongs ? 'withhold' : this.#pongDelayMs;
  }

  /** Called once per task-output frame about to be written; counts it against the drop faults. */
  nextFrame(): FrameFault {
    if (this.#dropBefore > 0) {
      this.#dropBefore--;
      if (this.#dropBefore === 0) return 'dropBefore';
    }
    if (this.#dropAfter > 0) {
      this.#dropAfter--;
      if (this.#dropAfter === 0) return 'dropAfter';
    }
    return 'write';
  }

  /** True when a new socket must be cut right after the upgrade. */
  takeCloseOnConnect(): boolean {
    if (this.#closeOnConnect === 0) return false;
    this.#closeOnConnect--;
    return true;
  }

  /** True when a socket must be cut right after its authentication reply. */
  takeCloseAfterAuth(): boolean {
    if (this.#closeAfterAuth === 0) return false;
    this.#closeAfterAuth--;
    return true;
  }
}
