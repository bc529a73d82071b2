// Fault hooks of the emulator: the ways a real service and the network between lose things (cut
// sockets, frames written but never received, half-open sockets, restarts that forget). Each is
// deterministic: armed by a test, consumed by a counted event.
import type { UnknownFieldMode } from './options.js';

/** How a task the `failNextTasks` fault picked fails. */
export interface TaskFailure {
  /** Images delivered before the failure; default 0. */
  readonly afterImages: number;
  /** Default `'inferenceError'`. */
  readonly code: string;
  readonly message: string;
}

/** The fault-injection surface of an emulator. */
export interface RunwareEmulatorFaults {
  /** Terminates the socket right after it writes the `k`th next result frame (k >= 1; 0 disarms). */
  dropAfterResults(k: number): void;
  /**
   * The next drop loses the last result frame written before it: from now on each socket holds its
   * latest result frame back until the next one (or a drop). At the drop the held frame is
   * discarded: the service counts it as delivered, the client never gets it, resume does not repeat it.
   */
  loseLastFrameBeforeDrop(): void;
  /** On the next drop the sockets are not cut: every frame the client writes is discarded, and the TCP connection closes after `ms`. */
  loseClientFramesAfterDrop(ms: number): void;
  /** Terminates every socket now (one drop). */
  dropAll(): void;
  /** A service restart: every socket cut, every session, buffered result and task record forgotten; listens again on the same port. */
  restartForgettingSessions(): Promise<void>;
  /** While on, resuming a session that a restart forgot is answered with that same UUID, with no state behind it. */
  echoOldSessionWithEmptyState(on?: boolean): void;
  /** Ignores pings while on. */
  withholdPongs(on: boolean): void;
  /** Terminates the next `n` sockets right after the upgrade. */
  closeOnConnect(n: number): void;
  /** Switches the unknown-field mode of every later task. */
  setUnknownFields(mode: UnknownFieldMode): void;
  /** The next `n` accepted imageInference tasks fail after `afterImages` images with an error frame (and a `status:"error"` item in getResponse). */
  failNextTasks(n: number, failure?: Partial<TaskFailure>): void;
  /** Turns every fault off (a held frame is written). */
  reset(): void;
}

/** What one drop does to the sockets it hits. */
export interface DropEffects {
  /** Discard each socket's held frame. */
  readonly loseHeld: boolean;
  /** Keep the sockets half-open this long (0 = cut at once). */
  readonly halfOpenMs: number;
}

function count(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`faults.${name}(n) needs an integer n >= 0; got ${n}`);
  return n;
}

/** The hooks faults call back into the emulator. */
export interface FaultHooks {
  dropAll(): void;
  restart(): Promise<void>;
  setUnknownFields(mode: UnknownFieldMode): void;
  /** The hold-back of last frames was turned off without a drop: write what is held. */
  releaseHeld(): void;
}

/** The emulator's side of {@link RunwareEmulatorFaults}: the state the write and accept paths consult. */
export class EmulatorFaults implements RunwareEmulatorFaults {
  readonly #hooks: FaultHooks;
  #dropAfter = 0;
  #holdLast = false;
  #halfOpenMs = 0;
  #echoOld = false;
  #withholdPongs = false;
  #closeOnConnect = 0;
  #failures = 0;
  #failure: TaskFailure = { afterImages: 0, code: 'inferenceError', message: 'Inference failed.' };

  constructor(hooks: FaultHooks) {
    this.#hooks = hooks;
  }

  dropAfterResults(k: number): void {
    this.#dropAfter = count(k, 'dropAfterResults');
  }

  loseLastFrameBeforeDrop(): void {
    this.#holdLast = true;
  }

  loseClientFramesAfterDrop(ms: number): void {
    this.#halfOpenMs = count(ms, 'loseClientFramesAfterDrop');
  }

  dropAll(): void {
    this.#hooks.dropAll();
  }

  restartForgettingSessions(): Promise<void> {
    return this.#hooks.restart();
  }

  echoOldSessionWithEmptyState(on = true): void {
    this.#echoOld = on;
  }

  withholdPongs(on: boolean): void {
    this.#withholdPongs = on;
  }

  closeOnConnect(n: number): void {
    this.#closeOnConnect = count(n, 'closeOnConnect');
  }

  setUnknownFields(mode: UnknownFieldMode): void {
    this.#hooks.setUnknownFields(mode);
  }

  failNextTasks(n: number, failure: Partial<TaskFailure> = {}): void {
    this.#failures = count(n, 'failNextTasks');
    this.#failure = {
      afterImages: count(failure.afterImages ?? 0, 'failNextTasks(afterImages)'),
      code: failure.code ?? 'inferenceError',
      message: failure.message ?? 'Inference failed.',
    };
  }

  reset(): void {
    const wasHolding = this.#holdLast;
    this.#dropAfter = 0;
    this.#holdLast = false;
    this.#halfOpenMs = 0;
    this.#echoOld = false;
    this.#withholdPongs = false;
    this.#closeOnConnect = 0;
    this.#failures = 0;
    if (wasHolding) this.#hooks.releaseHeld();
  }

  // ---- consulted by the emulator ----

  /** True while sockets hold their latest result frame back. */
  get holdingLastFrame(): boolean {
    return this.#holdLast;
  }

  get pongsWithheld(): boolean {
    return this.#withholdPongs;
  }

  get echoesOldSessions(): boolean {
    return this.#echoOld;
  }

  /** Counts one result frame against `dropAfterResults`; true when its socket must be dropped after it. */
  countResultFrame(): boolean {
    if (this.#dropAfter === 0) return false;
    this.#dropAfter--;
    return this.#dropAfter === 0;
  }

  /** Consumes the faults that shape the next drop. */
  takeDropEffects(): DropEffects {
    const effects = { loseHeld: this.#holdLast, halfOpenMs: this.#halfOpenMs };
    this.#holdLast = false;
    this.#halfOpenMs = 0;
    return effects;
  }

  /** True when a new socket must be cut right after the upgrade. */
  takeCloseOnConnect(): boolean {
    if (this.#closeOnConnect === 0) return false;
    this.#closeOnConnect--;
    return true;
  }

  /** The failure of the next accepted imageInference task, if one is armed. */
  takeTaskFailure(): TaskFailure | undefined {
    if (this.#failures === 0) return undefined;
    this.#failures--;
    return this.#failure;
  }
}
