// What the Redis store suites share: a real redis-server per file, command connections made the way
// a node makes them, and the check that every key the stores left has a TTL.
import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import { RedisConnections } from '../../src/server/cluster/redis-options.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

/** A Redis for one test file and the connections made to it. */
export interface StoreFixture {
  readonly server: TestRedis;
  readonly connections: RedisConnections;
  /** A new command connection (each "node" of a test has its own). */
  connect(): Redis;
  close(): Promise<void>;
}

export async function startStoreFixture(): Promise<StoreFixture> {
  const server = await startRedis();
  const connections = new RedisConnections({ redis: server.url, name: 'test' });
  return {
    server,
    connections,
    connect: () => connections.create('command'),
    close: async () => {
      await connections.close();
      await server.close();
    },
  };
}

/** Every key under `prefix` with its TTL in ms (-1: none). */
export async function ttls(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) out.set(key, await redis.pttl(key));
  } while (cursor !== '0');
  return out;
}

/** Asserts every key under `prefix` expires, except those `allowed` accepts (running tasks, published images). */
export async function expectEveryKeyExpires(redis: Redis, prefix: string, allowed: (key: string) => boolean = () => false): Promise<void> {
  const all = await ttls(redis, prefix);
  const forever = [...all].filter(([key, ttl]) => ttl <= 0 && !allowed(key)).map(([key, ttl]) => `${key} (${ttl})`);
  expect(forever).toEqual([]);
}
