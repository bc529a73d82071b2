// One emulated socket: its state machine (open -> authenticating -> authenticated, and the ways it
// ends), its idle timer, and its write path, where the frame faults act (a held-back last frame,
// a cut right after a write, a half-open end that reads and discards).
import type { RawData, WebSocket } from 'ws';
import type { DropEffects } from './faults.js';
import type { OutFrame, Session, SessionPeer } from './sessions.js';
import type { Stats } from './stats.js';

/** What a connection needs from the service around it. */
export interface ConnectionHost {
  readonly stats: Stats;
  readonly idleTimeoutMs: number;
  readonly resumeWindowMs: number;
  /** Whether result frames are held back one frame (the loseLastFrameBeforeDrop fault). */
  readonly holdingLastFrame: boolean;
  /** Counts a result frame against the drop fault; true when the socket must be cut after it. */
  countResultFrame(): boolean;
  /** A frame to process (undefined text = a binary frame). */
  handleFrame(connection: Connection, text: string | undefined): void;
  /** This socket must be dropped now (a fault fired on it). */
  dropFromFault(connection: Connection): void;
  closed(connection: Connection): void;
}

type State =
  | { readonly name: 'open' }
  | { readonly name: 'authenticating'; readonly queue: (() => void)[]; readonly timer: NodeJS.Timeout | undefined }
  | { readonly name: 'authenticated'; readonly apiKey: string; readonly session: Session }
  /** Cut decided: nothing more is read or written; terminated once the writes in flight are out. */
  | { readonly name: 'dropping' }
  /** Dropped but not cut: every client frame is discarded until the timer cuts the socket. */
  | { readonly name: 'halfOpen'; readonly timer: NodeJS.Timeout }
  /** Closing politely (taken over by another socket): nothing more is read or written. */
  | { readonly name: 'closing' }
  | { readonly name: 'closed' };

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}

/** One socket of the emulator. */
export class Connection implements SessionPeer {
  readonly #ws: WebSocket;
  readonly #host: ConnectionHost;
  #state: State = { name: 'open' };
  #idle: NodeJS.Timeout | undefined;
  /** The latest result frame, held back while the loseLastFrameBeforeDrop fault is armed. */
  #held: OutFrame | undefined;
  #writesInFlight = 0;

  constructor(ws: WebSocket, host: ConnectionHost) {
    this.#ws = ws;
    this.#host = host;
    ws.on('message', (data, isBinary) => this.#onMessage(isBinary ? undefined : text(data)));
    // Pongs are answered here, not by ws, so that a half-open socket answers none.
    ws.on('ping', (data) => {
      if (this.#live) ws.pong(data);
    });
    ws.on('close', () => this.#onClose());
    ws.on('error', () => undefined);
    this.#armIdle();
  }

  /** The key and session of an authenticated socket. */
  get authenticated(): { readonly apiKey: string; readonly session: Session } | undefined {
    return this.#state.name === 'authenticated' ? this.#state : undefined;
  }

  get #live(): boolean {
    const name = this.#state.name;
    return name === 'open' || name === 'authenticating' || name === 'authenticated';
  }

  #onMessage(frame: string | undefined): void {
    const state = this.#state;
    if (state.name === 'halfOpen') {
      this.#host.stats.add('clientFramesLost');
      return;
    }
    if (!this.#live) return;
    this.#armIdle();
    if (state.name === 'authenticating') {
      state.queue.push(() => this.#host.handleFrame(this, frame));
      return;
    }
    this.#host.handleFrame(this, frame);
  }

  #armIdle(): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      this.#idle = undefined;
      if (this.#live) this.#ws.close(1000, 'idle timeout');
    }, this.#host.idleTimeoutMs);
  }

  // ---- authentication ----

  /**
   * An authentication task arrived: any current authentication ends (its session starts buffering),
   * and frames that arrive before `finish` runs are queued. `delayMs` 0 runs `finish` now.
   */
  beginAuthentication(delayMs: number, finish: () => void): void {
    if (!this.#live) return;
    this.#leaveSession();
    if (delayMs === 0) {
      this.#state = { name: 'authenticating', queue: [], timer: undefined };
      finish();
      return;
    }
    const timer = setTimeout(() => {
      if (this.#state.name === 'authenticating') finish();
    }, delayMs);
    this.#state = { name: 'authenticating', queue: [], timer };
  }

  /** Runs `work` after the authentication in progress ends (pipelined tasks), or now. */
  afterAuthentication(work: () => void): void {
    if (this.#state.name === 'authenticating') this.#state.queue.push(work);
    else if (this.#live) work();
  }

  /**
   * The authentication succeeded: the socket now belongs to `session`. `greet` writes what must
   * come first (the reply, then the resumed results); then the queued frames run.
   */
  authSucceeded(apiKey: string, session: Session, greet: () => void): void {
    this.#finishAuthentication({ name: 'authenticated', apiKey, session }, greet);
  }

  /**
   * The authentication failed (bad key, unknown field): the socket is not authenticated (any
   * earlier authentication is gone too); `answer` writes the refusal, then the queued frames run
   * (and are refused).
   */
  authFailed(answer: () => void): void {
    if (this.#state.name !== 'authenticating') {
      this.#leaveSession();
      answer();
      return;
    }
    this.#finishAuthentication({ name: 'open' }, answer);
  }

  #finishAuthentication(next: State, first: () => void): void {
    const state = this.#state;
    if (state.name !== 'authenticating') return;
    if (state.timer !== undefined) clearTimeout(state.timer);
    this.#state = next;
    first();
    for (const work of state.queue) {
      if (!this.#live) return;
      work();
    }
  }

  /** Detaches from the current session (it buffers from now on). */
  #leaveSession(): void {
    const state = this.#state;
    if (state.name !== 'authenticated') return;
    state.session.detach(this, this.#host.resumeWindowMs);
    this.#state = { name: 'open' };
  }

  // ---- writes ----

  /** Writes a frame that is not a task output (auth reply, pong, refusal, acknowledgement, getResponse answer). */
  writeControl(frame: string): void {
    if (this.#live) this.#send(frame);
  }

  /** Writes a task-output frame of the attached session; the frame faults act here. */
  writeResult(frame: OutFrame): void {
    if (!this.#live) {
      this.#host.stats.add('resultsLost', frame.items);
      return;
    }
    const dropAfter = this.#host.countResultFrame();
    if (this.#host.holdingLastFrame) {
      const previous = this.#held;
      this.#held = frame;
      if (previous !== undefined) this.#sendResult(previous);
    } else {
      this.#sendResult(frame);
    }
    if (dropAfter) this.#host.dropFromFault(this);
  }

  /** The hold-back fault ended without a drop here: the held frame goes out. */
  releaseHeld(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined && this.#live) this.#sendResult(held);
    else if (held !== undefined) this.#host.stats.add('resultsLost', held.items);
  }

  #sendResult(frame: OutFrame): void {
    this.#send(frame.text);
    this.#host.stats.add('resultFramesWritten');
    this.#host.stats.add('resultsWritten', frame.items);
  }

  #send(frame: string): void {
    this.#writesInFlight++;
    this.#ws.send(frame, () => {
      this.#writesInFlight--;
      if (this.#writesInFlight === 0 && this.#state.name === 'dropping') this.#ws.terminate();
    });
  }

  #loseHeld(): void {
    if (this.#held === undefined) return;
    this.#host.stats.add('resultsLost', this.#held.items);
    this.#held = undefined;
  }

  // ---- ends ----

  /** A drop: the session starts buffering at once; the socket is cut after its writes in flight, or left half-open. */
  drop(effects: DropEffects): void {
    if (!this.#live) return;
    if (effects.loseHeld) this.#loseHeld();
    else this.releaseHeld();
    this.#leaveSession();
    this.#clearTimers();
    if (effects.halfOpenMs > 0) {
      const timer = setTimeout(() => this.terminate(), effects.halfOpenMs);
      this.#state = { name: 'halfOpen', timer };
      return;
    }
    this.#state = { name: 'dropping' };
    if (this.#writesInFlight === 0) this.#ws.terminate();
  }

  /** The session moved to another socket: close this one without detaching the session. */
  evict(): void {
    if (!this.#live) return;
    this.#loseHeld();
    this.#clearTimers();
    this.#state = { name: 'closing' };
    this.#ws.close(1000, 'session resumed on another connection');
  }

  /** Cuts the socket now, with no close frame (restart, close, end of a half-open period). */
  terminate(): void {
    this.#loseHeld();
    this.#leaveSession();
    this.#clearTimers();
    this.#state = { name: 'closed' };
    this.#ws.terminate();
  }

  #clearTimers(): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = undefined;
    const state = this.#state;
    if (state.name === 'halfOpen' || (state.name === 'authenticating' && state.timer !== undefined)) clearTimeout(state.timer);
  }

  #onClose(): void {
    this.#loseHeld();
    this.#leaveSession();
    this.#clearTimers();
    this.#state = { name: 'closed' };
    this.#host.closed(this);
  }
}
