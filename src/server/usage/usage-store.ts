// Usage accounting of API keys and session tokens (tasks, images, cost) and the per-token counters a
// scope is enforced with (tasks this minute, cost spent), behind one interface: this process's
// memory, or Redis shared by every node of a cluster (src/server/cluster/usage-store.ts).
import { createHash } from 'node:crypto';

/** A token as usage knows it: its id and when it stops working (its counters need to live no longer). */
export interface UsageToken {
  readonly id: string;
  /** Expiry, ms since the epoch. */
  readonly expiresAtMs: number;
}

/** A token with the bounds of its scope that admission enforces. */
export interface LimitedToken extends UsageToken {
  readonly tasksPerMinute?: number | undefined;
  /** USD. */
  readonly budget?: number | undefined;
}

/** Whether a task may run: a refusal says why and, when retrying helps, after how long. */
export type UsageAdmission =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'rateLimited'; readonly limit: number; readonly retryAfterMs: number }
  | { readonly ok: false; readonly reason: 'budgetExhausted'; readonly spent: number; readonly budget: number }
  /** The store keeps as many tokens as it may (limits.maxUsageTokens) and this one is new. */
  | { readonly ok: false; readonly reason: 'full'; readonly retryAfterMs: number };

/** What a key or token used. */
export interface UsageCounts {
  /** Tasks admitted (every imageInference and imageUpload past its token's scope). */
  readonly tasks: number;
  /** Finals counted (each once, even when a task ran twice). */
  readonly images: number;
  /** USD: each final's reported cost, else the server's estimate. */
  readonly cost: number;
}

/** Usage of one API key, named by a short id (never the key, nor its digest). */
export interface OwnerUsage extends UsageCounts {
  readonly owner: string;
}

/** Usage of one session token. */
export interface TokenUsage extends UsageCounts {
  readonly tokenId: string;
  /** The short id of the key that minted it. */
  readonly owner: string;
  readonly budget?: number;
  /** ISO time the token expires. */
  readonly expiresAt: string;
}

/** Usage the store keeps now: the answer of GET /v1/usage. */
export interface UsageReport {
  readonly owners: OwnerUsage[];
  readonly tokens: TokenUsage[];
}

/**
 * Where usage is counted. Every method may reject when shared state is out of reach (Redis); the
 * caller then refuses the task with `serviceUnavailable` (admission) or retries (a worker's final).
 */
export interface UsageStore {
  /**
   * Admits one task of `owner` (through `token` when a token submitted it): refused while the token
   * spent its budget, or submitted `tasksPerMinute` tasks in this minute; else counted (the token's
   * rate window, its tasks and the owner's) in one step, so nodes sharing the store share the bounds.
   * A store in this process answers at once (no promise): a task is then admitted in the same turn
   * it arrived in, so a cancel right behind it in the same read finds it.
   */
  admit(owner: string, token: LimitedToken | undefined): UsageAdmission | Promise<UsageAdmission>;
  /**
   * Adds one final's cost to its owner and token, once per `finalKey` (owner, taskUUID and index):
   * a re-run's duplicate of a final already counted adds nothing. True when it was counted now.
   */
  recordFinal(owner: string, token: UsageToken | undefined, finalKey: string, cost: number): Promise<boolean>;
  /** What is kept now, for the operator. */
  report(): Promise<UsageReport>;
}

/** The id an owner (key digest) is shown by: short, and no prefix of the digest (which a weak key's guess could be checked against). */
export function shortOwnerId(owner: string): string {
  return createHash('sha256').update(`imagewire usage owner ${owner}`).digest('hex').slice(0, 12);
}

/** The start of the minute `nowMs` is in: the window tasksPerMinute counts in. */
export function minuteOf(nowMs: number): number {
  return Math.floor(nowMs / 60_000) * 60_000;
}

/** The key of one final for {@link UsageStore.recordFinal}. */
export function finalKeyOf(taskUUID: string, index: number): string {
  return `${taskUUID.toLowerCase()}:${index}`;
}
