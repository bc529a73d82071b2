// The usage store contract run against the in-memory store and, when redis-server is installed, the
// cluster's store on Redis (where every key it writes must carry a TTL).
import { describe, expect, it } from 'vitest';
import { RedisUsageStore } from '../../src/server/cluster/usage-store.js';
import { MemoryUsageStore } from '../../src/server/usage/memory-usage-store.js';
import { systemClock } from '../../src/internal/clock.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { describeUsageStoreContract } from './usage-store.contract.js';
import { useRedis } from './redis-fixture.js';

const bounds = { maxOwners: 100, maxTokens: 100, retentionMs: 60_000 };

describeUsageStoreContract('in memory', async () => {
  const store = new MemoryUsageStore(bounds, systemClock);
  return { store, close: async () => store.clear() };
});

describe('MemoryUsageStore bounds', () => {
  it('keeps at most maxOwners owners, and refuses a new token when full of live ones (retryable)', async () => {
    const store = new MemoryUsageStore({ maxOwners: 3, maxTokens: 2, retentionMs: 60_000 }, systemClock);
    for (let i = 0; i < 10; i++) await store.admit(String(i).repeat(64).slice(0, 64), undefined);
    expect((await store.report()).owners).toHaveLength(3);
    const live = (id: string): { id: string; expiresAtMs: number } => ({ id, expiresAtMs: Date.now() + 60_000 });
    expect(await store.admit('a'.repeat(64), live('t1'))).toEqual({ ok: true });
    expect(await store.admit('a'.repeat(64), live('t2'))).toEqual({ ok: true });
    expect(await store.admit('a'.repeat(64), live('t3'))).toMatchObject({ ok: false, reason: 'full' });
    // A token already counted keeps running.
    expect(await store.admit('a'.repeat(64), live('t1'))).toEqual({ ok: true });
  });
});

describe.runIf(redisAvailable())('on Redis', () => {
  const shared = useRedis('contract-usage');
  const prefixes: string[] = [];
  describeUsageStoreContract('Redis', async () => {
    const keyPrefix = shared.prefix();
    prefixes.push(keyPrefix);
    return { store: new RedisUsageStore({ redis: shared.redis, keyPrefix, ...bounds }), close: async () => undefined };
  });

  it('writes no key without a TTL', async () => {
    const keyPrefix = shared.prefix();
    const store = new RedisUsageStore({ redis: shared.redis, keyPrefix, ...bounds });
    const t = { id: 'f'.repeat(24), expiresAtMs: Date.now() + 600_000, tasksPerMinute: 5, budget: 2 };
    await store.admit('a'.repeat(64), t);
    await store.admit('b'.repeat(64), undefined);
    await store.recordFinal('a'.repeat(64), t, 'x:0', 0.5);
    await store.recordFinal('b'.repeat(64), undefined, 'y:0', 0.5);
    const keys = await shared.redis.keys(`${keyPrefix}*`);
    expect(keys.length).toBeGreaterThanOrEqual(6);
    for (const key of keys) expect(await shared.redis.pttl(key), key).toBeGreaterThan(0);
  });
});
