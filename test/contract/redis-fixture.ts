// One redis-server shared by a contract suite's Redis runs, each store in a namespace of its own, so
// a contract test starts from an empty store without restarting Redis.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startStoreFixture, type StoreFixture } from '../cluster/store-fixture.js';

/** The Redis of the current file, started before its suites and stopped after them. */
export interface SharedRedis {
  /** The command connection (valid inside tests). */
  readonly redis: Redis;
  /** A new subscriber connection (a node's channel), closed with the fixture. */
  subscriber(): Redis;
  /** A key prefix no other store of this file uses. */
  prefix(): string;
}

/** Starts a redis-server for the file's suites (call at the top level of a describe). */
export function useRedis(name: string): SharedRedis {
  let fixture: StoreFixture | undefined;
  let redis: Redis | undefined;
  let prefixes = 0;
  beforeAll(async () => {
    fixture = await startStoreFixture();
    redis = fixture.connect();
  });
  afterAll(async () => fixture?.close());
  return {
    get redis(): Redis {
      if (redis === undefined) throw new Error('the Redis fixture has not started');
      return redis;
    },
    subscriber: () => {
      if (fixture === undefined) throw new Error('the Redis fixture has not started');
      return fixture.connections.create('subscriber');
    },
    prefix: () => `${name}${++prefixes}:`,
  };
}

/** Real time passing, for what Redis expires on its own clock. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a "still kept" check allows for the time it takes to reach the store after the clock was read. */
const reachMs = 25;

/**
 * Runs a check that only holds before `deadline` (on `now`'s clock), when there is still time to
 * run it: on a machine too slow to tell (real time ran past), it is skipped rather than failed.
 * The memory stores' fake clocks always leave time.
 */
export async function whileBefore(now: () => number, deadline: number, check: () => Promise<void>): Promise<void> {
  if (now() + reachMs < deadline) await check();
}
