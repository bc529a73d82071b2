// Usage in this process's memory: bounded maps of owners and tokens (least recently changed first),
// each entry forgotten `retentionMs` after its last change (a token's not before it expires).
import type { Clock } from '../../internal/clock.js';
import { minuteOf, shortOwnerId, type LimitedToken, type UsageAdmission, type UsageReport, type UsageStore, type UsageToken } from './usage-store.js';

/** Bounds of {@link MemoryUsageStore}. */
export interface UsageBounds {
  /** Owners kept; beyond it the one changed longest ago is forgotten. */
  readonly maxOwners: number;
  /** Tokens kept; when full of live ones, a new token is refused (admission answers `full`). */
  readonly maxTokens: number;
  /** How long an entry is kept after its last change, ms. */
  readonly retentionMs: number;
}

interface Counts {
  tasks: number;
  images: number;
  cost: number;
}

interface OwnerEntry extends Counts {
  expiresAt: number;
}

interface TokenEntry extends Counts {
  readonly owner: string;
  readonly tokenExpiresAt: number;
  budget: number | undefined;
  /** The minute of the rate window, and the tasks submitted in it. */
  window: number;
  inWindow: number;
  expiresAt: number;
}

const zero = (): Counts => ({ tasks: 0, images: 0, cost: 0 });

/** Usage of this process. Never rejects. */
export class MemoryUsageStore implements UsageStore {
  readonly #bounds: UsageBounds;
  readonly #clock: Clock;
  readonly #owners = new Map<string, OwnerEntry>();
  readonly #tokens = new Map<string, TokenEntry>();
  /**
   * Finals counted (`owner final-key` -> expiry), so a final is counted once. In this process a
   * final is never delivered twice (nothing runs a task again), so a small bound does.
   */
  readonly #finals = new Map<string, number>();

  constructor(bounds: UsageBounds, clock: Clock) {
    this.#bounds = bounds;
    this.#clock = clock;
  }

  admit(owner: string, token: LimitedToken | undefined): UsageAdmission {
    const now = this.#clock.now();
    let entry: TokenEntry | undefined;
    if (token !== undefined) {
      entry = this.#token(owner, token, now);
      if (entry === undefined) return { ok: false, reason: 'full', retryAfterMs: this.#soonestTokenExpiry(now) };
      const refusal = refusalOf(entry, token, now);
      if (refusal !== undefined) return refusal;
      entry.inWindow++;
      entry.tasks++;
    }
    this.#owner(owner, now).tasks++;
    return { ok: true };
  }

  recordFinal(owner: string, token: UsageToken | undefined, finalKey: string, cost: number): Promise<boolean> {
    const now = this.#clock.now();
    const key = `${owner} ${finalKey}`;
    const seen = this.#finals.get(key);
    if (seen !== undefined && seen > now) return Promise.resolve(false);
    this.#finals.delete(key);
    this.#finals.set(key, now + this.#bounds.retentionMs);
    trim(this.#finals, MAX_FINAL_MARKERS, MAX_FINAL_MARKERS - FINAL_MARKERS_BATCH);
    const counts: Counts[] = [this.#owner(owner, now)];
    const entry = token === undefined ? undefined : this.#token(owner, token, now);
    if (entry !== undefined) counts.push(entry);
    for (const c of counts) {
      c.images++;
      c.cost += cost;
    }
    return Promise.resolve(true);
  }

  report(): Promise<UsageReport> {
    this.sweep();
    // Most recently changed first, at most REPORT_MAX of each.
    const owners = newest(this.#owners).map(([owner, c]) => ({ owner: shortOwnerId(owner), tasks: c.tasks, images: c.images, cost: c.cost }));
    const tokens = newest(this.#tokens).map(([tokenId, t]) => ({
      tokenId,
      owner: shortOwnerId(t.owner),
      tasks: t.tasks,
      images: t.images,
      cost: t.cost,
      ...(t.budget === undefined ? {} : { budget: t.budget }),
      expiresAt: new Date(t.tokenExpiresAt).toISOString(),
    }));
    return Promise.resolve({ owners, tokens });
  }

  /** Forgets expired entries (the server's periodic sweep). */
  sweep(): void {
    const now = this.#clock.now();
    for (const map of [this.#owners, this.#tokens]) for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    for (const [key, expiresAt] of this.#finals) if (expiresAt <= now) this.#finals.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#owners.clear();
    this.#tokens.clear();
    this.#finals.clear();
  }

  /** The owner's entry, moved to the end (most recently changed); the oldest goes past the bound. */
  #owner(owner: string, now: number): OwnerEntry {
    const entry = this.#owners.get(owner) ?? { ...zero(), expiresAt: 0 };
    this.#owners.delete(owner);
    entry.expiresAt = now + this.#bounds.retentionMs;
    this.#owners.set(owner, entry);
    trim(this.#owners, this.#bounds.maxOwners);
    return entry;
  }

  /** The token's entry; undefined when it is new and the map is full of entries still kept. */
  #token(owner: string, token: LimitedToken | UsageToken, now: number): TokenEntry | undefined {
    let entry = this.#tokens.get(token.id);
    if (entry === undefined || entry.expiresAt <= now) {
      if (this.#tokens.size >= this.#bounds.maxTokens) this.sweep();
      if (this.#tokens.size >= this.#bounds.maxTokens) return undefined;
      entry = { ...zero(), owner, tokenExpiresAt: token.expiresAtMs, budget: undefined, window: 0, inWindow: 0, expiresAt: 0 };
      this.#tokens.set(token.id, entry);
    }
    if ('budget' in token && token.budget !== undefined) entry.budget = token.budget;
    entry.expiresAt = Math.max(now, token.expiresAtMs) + this.#bounds.retentionMs;
    return entry;
  }

  #soonestTokenExpiry(now: number): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const entry of this.#tokens.values()) soonest = Math.min(soonest, entry.expiresAt);
    return Math.max(1_000, Number.isFinite(soonest) ? soonest - now : 60_000);
  }
}

/** Why a token's task may not run now (budget first: it does not pass with time), or undefined; moves the rate window to this minute. */
function refusalOf(entry: TokenEntry, token: LimitedToken, now: number): UsageAdmission | undefined {
  if (token.budget !== undefined && entry.cost >= token.budget) return { ok: false, reason: 'budgetExhausted', spent: entry.cost, budget: token.budget };
  const minute = minuteOf(now);
  if (entry.window !== minute) {
    entry.window = minute;
    entry.inWindow = 0;
  }
  if (token.tasksPerMinute !== undefined && entry.inWindow >= token.tasksPerMinute) return { ok: false, reason: 'rateLimited', limit: token.tasksPerMinute, retryAfterMs: minute + 60_000 - now };
  return undefined;
}

/** Final markers kept (about 100 bytes each). */
const MAX_FINAL_MARKERS = 65_536;
/** Final markers dropped at once when they are full (see trim). */
const FINAL_MARKERS_BATCH = 4096;

/** Most entries one report lists. */
const REPORT_MAX = 1_000;

/** The last REPORT_MAX entries of a map (the most recently set), newest first. */
function newest<K, V>(map: Map<K, V>): [K, V][] {
  return [...map].slice(-REPORT_MAX).reverse();
}

/**
 * Past `max` entries, drops a map's first (least recently set) entries until `to` are left. A
 * `to` well under `max` makes a map that fills at every call trim in batches: each pass starts at
 * the map's front, where earlier deletions leave holes until the map is rehashed, so trimming one
 * entry per call walked tens of thousands of holes each time (a fifth of the server's CPU per
 * task, with the final markers full).
 */
function trim<K, V>(map: Map<K, V>, max: number, to = max): void {
  if (map.size <= max) return;
  for (const key of map.keys()) {
    if (map.size <= to) return;
    map.delete(key);
  }
}
