// Usage in Redis, shared by every node and worker of a cluster: per-owner and per-token hashes under
// the owner's hash tag, a marker per counted final, and two bounded indexes for the operator's
// report. Every key expires: owners and markers `retentionMs` after their last change, tokens that
// long after they expire, the indexes with their longest-lived member.
import type { Redis } from 'ioredis';
import { guarded } from './errors.js';
import { ClusterKeys } from './keys.js';
import { defineScripts, list, str, type Script } from './scripts.js';
import { USAGE_ADMIT, USAGE_FINAL, USAGE_INDEX } from './usage-scripts.js';
import { shortOwnerId, type LimitedToken, type OwnerUsage, type TokenUsage, type UsageAdmission, type UsageReport, type UsageStore, type UsageToken } from '../usage/usage-store.js';

/** Options of {@link RedisUsageStore}. */
export interface RedisUsageStoreOptions {
  readonly redis: Redis;
  /** @default "iw:" */
  readonly keyPrefix?: string;
  /** Owners and tokens the report indexes list (their counters are kept regardless, until they expire). */
  readonly maxOwners: number;
  readonly maxTokens: number;
  /** How long counters are kept after their last change (a token's: after it expires), ms. */
  readonly retentionMs: number;
}

/** Most entries one report reads back. */
const REPORT_MAX = 1_000;

/** Usage of every node, in Redis. Methods reject with RedisUnavailableError when Redis is away. */
export class RedisUsageStore implements UsageStore {
  readonly keys: ClusterKeys;
  readonly #redis: Redis;
  readonly #options: RedisUsageStoreOptions;
  readonly #scripts: Readonly<Record<'admit' | 'final' | 'index', Script>>;

  constructor(options: RedisUsageStoreOptions) {
    this.#redis = options.redis;
    this.#options = options;
    this.keys = new ClusterKeys(options.keyPrefix);
    this.#scripts = defineScripts(options.redis, 'usage', { admit: { keys: 2, lua: USAGE_ADMIT }, final: { keys: 3, lua: USAGE_FINAL }, index: { keys: 1, lua: USAGE_INDEX } });
  }

  async admit(owner: string, token: LimitedToken | undefined): Promise<UsageAdmission> {
    const { retentionMs } = this.#options;
    const ownerKey = this.keys.owner(owner, 'use');
    const indexed = this.#index(owner, token);
    if (token === undefined) {
      await guarded('usage admit', () => Promise.all([this.#redis.multi().hincrby(ownerKey, 'tasks', 1).pexpire(ownerKey, retentionMs).exec(), indexed]));
      return { ok: true };
    }
    const [reply] = await guarded('usage admit', () =>
      Promise.all([
        this.#scripts.admit.call(ownerKey, this.#tokenKey(owner, token.id), token.tasksPerMinute ?? 0, token.budget ?? '', keptUntil(token, retentionMs), token.expiresAtMs, retentionMs),
        indexed,
      ]),
    );
    const [kind, value] = list(reply).map(str);
    if (kind === 'budget') return { ok: false, reason: 'budgetExhausted', spent: Number(value), budget: token.budget ?? 0 };
    if (kind === 'rate') return { ok: false, reason: 'rateLimited', limit: token.tasksPerMinute ?? 0, retryAfterMs: Number(value) };
    return { ok: true };
  }

  async recordFinal(owner: string, token: UsageToken | undefined, finalKey: string, cost: number): Promise<boolean> {
    const { retentionMs } = this.#options;
    const ownerKey = this.keys.owner(owner, 'use');
    const tokenKey = token === undefined ? ownerKey : this.#tokenKey(owner, token.id);
    const expireAt = token === undefined ? 0 : keptUntil(token, retentionMs);
    // Indexed beside the count (an owner or token whose admission was indexed long ago is listed again).
    const [reply] = await guarded('usage final', () =>
      Promise.all([
        this.#scripts.final.call(this.keys.owner(owner, `use:f:${finalKey}`), ownerKey, tokenKey, cost, retentionMs, retentionMs, token === undefined ? '0' : '1', expireAt, token?.expiresAtMs ?? 0),
        this.#index(owner, token),
      ]),
    );
    return Number(reply) === 1;
  }

  async report(): Promise<UsageReport> {
    const now = Date.now();
    const [ownerIds, tokenIds] = await guarded('usage report', () =>
      Promise.all([this.#redis.zrevrangebyscore(this.#indexKey('owners'), '+inf', now, 'LIMIT', 0, REPORT_MAX), this.#redis.zrevrangebyscore(this.#indexKey('tokens'), '+inf', now, 'LIMIT', 0, REPORT_MAX)]),
    );
    const read = (key: string): Promise<Record<string, string>> => this.#redis.hgetall(key);
    const [owners, tokens] = await guarded('usage report', () => Promise.all([Promise.all(ownerIds.map((owner) => read(this.keys.owner(owner, 'use')))), Promise.all(tokenIds.map((member) => read(this.#tokenKeyOf(member))))]));
    const ownerUsage: OwnerUsage[] = [];
    ownerIds.forEach((owner, at) => {
      const fields = owners[at];
      if (fields !== undefined && Object.keys(fields).length > 0) ownerUsage.push({ owner: shortOwnerId(owner), ...countsOf(fields) });
    });
    const tokenUsage: TokenUsage[] = [];
    tokenIds.forEach((member, at) => {
      const fields = tokens[at];
      const [owner = '', tokenId = ''] = member.split(' ');
      if (fields === undefined || Object.keys(fields).length === 0) return;
      const budget = fields.b === undefined ? {} : { budget: Number(fields.b) };
      tokenUsage.push({ tokenId, owner: shortOwnerId(owner), ...countsOf(fields), ...budget, expiresAt: new Date(Number(fields.x ?? 0)).toISOString() });
    });
    return { owners: ownerUsage, tokens: tokenUsage };
  }

  /** Puts the owner (and token) in the report's indexes; both expire with what they name. */
  #index(owner: string, token: UsageToken | undefined): Promise<unknown> {
    const { retentionMs, maxOwners, maxTokens } = this.#options;
    const now = Date.now();
    const owners = this.#scripts.index.call(this.#indexKey('owners'), owner, now + retentionMs, maxOwners);
    if (token === undefined) return owners;
    return Promise.all([owners, this.#scripts.index.call(this.#indexKey('tokens'), `${owner} ${token.id}`, keptUntil(token, retentionMs), maxTokens)]);
  }

  #tokenKey(owner: string, id: string): string {
    return this.keys.owner(owner, `use:t:${id}`);
  }

  #tokenKeyOf(member: string): string {
    const [owner = '', id = ''] = member.split(' ');
    return this.#tokenKey(owner, id);
  }

  /** An index spans owners, so it carries no hash tag (as the stores' accounting keys do not). */
  #indexKey(name: 'owners' | 'tokens'): string {
    return `${this.keys.prefix}use:${name}`;
  }
}

/**
 * When a token's counters may go: `retentionMs` after it expires, and never sooner than that from
 * now (a socket authenticated before its token expired keeps submitting; its spent total must stay).
 */
function keptUntil(token: UsageToken, retentionMs: number): number {
  return Math.max(Date.now(), token.expiresAtMs) + retentionMs;
}

function countsOf(fields: Record<string, string>): { tasks: number; images: number; cost: number } {
  return { tasks: Number(fields.tasks ?? 0), images: Number(fields.images ?? 0), cost: Number(fields.cost ?? 0) };
}
