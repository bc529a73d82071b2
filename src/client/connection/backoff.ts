// When to try again: one immediate retry after a connection that had been up drops, then
// exponential backoff with full jitter, the cap applied before the jitter (AWS "full jitter").
// The failure count resets only when an authentication reply arrives and the connection stays up.

/** Reconnect policy. Every field has a default; see {@link defaultReconnect}. */
export interface ReconnectPolicy {
  /**
   * Upper bound of the first backed-off wait, in ms; the bound doubles per failure.
   * @default 500
   */
  initialDelayMs?: number;
  /**
   * Cap of the bound, in ms, applied before the jitter so waits stay spread out.
   * Around 10 s, so several attempts fit inside the server's 120 s resume window.
   * @default 10000
   */
  maxDelayMs?: number;
  /**
   * Growth of the bound per failure.
   * @default 2
   */
  factor?: number;
  /**
   * Failed attempts in a row after which the client gives up and closes (`reconnectFailed`).
   * @default Infinity
   */
  maxAttempts?: number;
  /**
   * A connection must stay up this long after its authentication reply for its drop to earn an
   * immediate retry and a reset of the failure count; a server that accepts and then drops at
   * once therefore cannot cause a hot loop.
   * @default 1000
   */
  minUptimeMs?: number;
}

/** The defaults of {@link ReconnectPolicy}. */
export const defaultReconnect: Required<ReconnectPolicy> = {
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  factor: 2,
  maxAttempts: Infinity,
  minUptimeMs: 1_000,
};

/**
 * The wait before attempt number `failures` (1 for the first failure in a row): a uniformly
 * random delay from 0 up to min(maxDelayMs, initialDelayMs · factor^(failures−1)).
 */
export function backoffDelay(failures: number, policy: Required<ReconnectPolicy>, random: () => number): number {
  const exponent = Math.max(0, failures - 1);
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** exponent);
  return Math.floor(random() * bound);
}

/** Tracks failures in a row and answers "how long until the next attempt". */
export class Backoff {
  readonly #policy: Required<ReconnectPolicy>;
  readonly #random: () => number;
  #failures = 0;
  #failuresBeforeUp = 0;
  #upSince: number | undefined;
  /** When the server last closed an open connection with 1001. */
  #lastGoingAway: number | undefined;

  constructor(policy: Required<ReconnectPolicy>, random: () => number) {
    this.#policy = policy;
    this.#random = random;
  }

  /** Failed attempts in a row. */
  get failures(): number {
    return this.#failures;
  }

  /** An authentication reply arrived at `now`: the connection counts as up. */
  up(now: number): void {
    this.#failuresBeforeUp = this.#failures;
    this.#failures = 0;
    this.#upSince = now;
  }

  /**
   * An attempt failed or a connection dropped at `now`. Returns the wait before the next
   * attempt, or undefined when maxAttempts is used up. `goingAway`: the server closed an open
   * connection with 1001 (it is shutting down or restarting), which is never a failure: the next
   * attempt goes at once (to another node, behind a balancer), unless the last going-away came
   * less than minUptimeMs ago, when it waits as backoff would without counting a failure.
   */
  next(now: number, cause: 'drop' | 'goingAway' = 'drop'): number | undefined {
    const upSince = this.#upSince;
    this.#upSince = undefined;
    if (cause === 'goingAway' && upSince !== undefined) return this.#goingAway(now, upSince);
    if (upSince !== undefined && now - upSince >= this.#policy.minUptimeMs) {
      // A live connection dropped: one immediate retry, and the count starts over.
      this.#failures = 0;
      return 0;
    }
    // A connection that dropped right after its reply counts as a failure (no reset).
    if (upSince !== undefined) this.#failures = this.#failuresBeforeUp;
    this.#failures++;
    if (this.#failures >= this.#policy.maxAttempts) return undefined;
    return backoffDelay(this.#failures, this.#policy, this.#random);
  }

  #goingAway(now: number, upSince: number): number {
    if (now - upSince < this.#policy.minUptimeMs) this.#failures = this.#failuresBeforeUp;
    const last = this.#lastGoingAway;
    this.#lastGoingAway = now;
    // A server that keeps sending its clients away at once must not cause a hot loop.
    if (last !== undefined && now - last < this.#policy.minUptimeMs) return backoffDelay(Math.max(1, this.#failures), this.#policy, this.#random);
    return 0;
  }

  /** Forget the failures (used when the network comes back: try now, from the start). */
  reset(): void {
    this.#failures = 0;
    this.#upSince = undefined;
  }
}
