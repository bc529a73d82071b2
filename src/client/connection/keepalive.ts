// Keepalive as a deadline, not a loop: when either direction has been quiet for intervalMs, send
// a ping and expect something back within pongTimeoutMs; otherwise the socket is dead. One
// keepalive belongs to one socket attempt and dies with it.
import type { Clock } from '../../internal/clock.js';
import type { Disposer } from '../../internal/disposer.js';

/** Keepalive timing. */
export interface KeepAliveOptions {
  /**
   * Ping after this many ms without a frame in either direction: well inside the server's 120 s
   * idle window, and a bound on how long a dead socket goes unnoticed (plus pongTimeoutMs).
   * @default 15000
   */
  intervalMs?: number;
  /**
   * After a ping, anything received within this many ms proves the socket alive; otherwise it
   * is closed as dead (`pongTimeout`) and replaced.
   * @default 10000
   */
  pongTimeoutMs?: number;
}

/** The defaults of {@link KeepAliveOptions}. */
export const defaultKeepAlive: Required<KeepAliveOptions> = { intervalMs: 15_000, pongTimeoutMs: 10_000 };

export interface KeepaliveHooks {
  /** Write a ping frame. */
  sendPing(): void;
  /** Nothing came back in time. */
  dead(): void;
}

/** Watches one socket's traffic and pings when it goes quiet. */
export class Keepalive {
  readonly #clock: Clock;
  readonly #disposer: Disposer;
  readonly #options: Required<KeepAliveOptions>;
  readonly #hooks: KeepaliveHooks;
  #lastIn: number;
  #lastOut: number;
  #cancelDeadline: (() => void) | undefined;

  constructor(clock: Clock, disposer: Disposer, options: Required<KeepAliveOptions>, hooks: KeepaliveHooks) {
    this.#clock = clock;
    this.#disposer = disposer;
    this.#options = options;
    this.#hooks = hooks;
    this.#lastIn = clock.now();
    this.#lastOut = this.#lastIn;
    this.#armQuiet(options.intervalMs);
  }

  /** A frame arrived: the socket is alive. Cheap: timers are re-armed lazily, not per frame. */
  received(): void {
    this.#lastIn = this.#clock.now();
    if (this.#cancelDeadline !== undefined) {
      this.#cancelDeadline();
      this.#cancelDeadline = undefined;
    }
  }

  /** A frame was written. */
  sent(): void {
    this.#lastOut = this.#clock.now();
  }

  /**
   * True when nothing arrived for longer than a ping and its deadline together: the timers
   * were probably frozen (laptop sleep, background tab), so the socket may be dead already.
   */
  get stale(): boolean {
    return this.#clock.now() - this.#lastIn > this.#options.intervalMs + this.#options.pongTimeoutMs;
  }

  /** Ping now (network change, page visible again, stale socket) unless a ping is already out. */
  check(): void {
    if (this.#cancelDeadline !== undefined || this.#disposer.disposed) return;
    this.#ping();
  }

  #ping(): void {
    this.#cancelDeadline = this.#disposer.timeout(this.#clock, this.#options.pongTimeoutMs, () => {
      this.#cancelDeadline = undefined;
      this.#hooks.dead();
    });
    this.#hooks.sendPing();
    this.sent();
  }

  #armQuiet(ms: number): void {
    this.#disposer.timeout(this.#clock, Math.max(1, ms), () => this.#onQuietTimer());
  }

  #onQuietTimer(): void {
    const quietSince = Math.min(this.#lastIn, this.#lastOut);
    const dueIn = quietSince + this.#options.intervalMs - this.#clock.now();
    if (dueIn <= 0 && this.#cancelDeadline === undefined) this.#ping();
    // While a ping is out its deadline decides; look again one interval later.
    const next = this.#cancelDeadline !== undefined || dueIn <= 0 ? this.#options.intervalMs : dueIn;
    this.#armQuiet(next);
  }
}
