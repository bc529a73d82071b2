// The imagine store contract run against the in-memory store (on a fake clock) and, when redis-server
// is installed, the cluster node's store on Redis (ClusterImagineStore over RedisImagineStore).
import { describe } from 'vitest';
import { MemoryImagineStore } from '../../src/server/imagine/store.js';
import { ClusterImagineStore } from '../../src/server/node/cluster-imagine-store.js';
import { resolveServerOptions } from '../../src/server/options.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { describeImagineStoreContract } from './imagine-store.contract.js';
import { sleep, useRedis } from './redis-fixture.js';

describeImagineStoreContract(
  'in memory',
  async (limits) => {
    const clock = new FakeClock();
    const store = new MemoryImagineStore(limits, clock);
    return { store, elapse: async (ms) => clock.advance(ms), now: () => clock.now(), close: async () => store.clear() };
  },
  { shortLifetimeMs: 1_000 },
);

describe.runIf(redisAvailable())('on Redis', () => {
  const shared = useRedis('contract-imagine');
  describeImagineStoreContract(
    'Redis',
    async (limits) => {
      const resolved = resolveServerOptions({ keyPrefix: shared.prefix(), logger: false });
      const options = {
        ...resolved,
        limits: {
          ...resolved.limits,
          maxPublishedImages: limits.maxPublished,
          maxPublishedImagesPerKey: limits.maxPublishedPerKey ?? limits.maxPublished,
          maxImaginedImages: limits.maxUnpublished,
          maxImaginedImagesPerKey: limits.maxUnpublishedPerKey ?? limits.maxUnpublished,
          publishedImageLifetimeMs: limits.publishedLifetimeMs ?? Number.POSITIVE_INFINITY,
        },
      };
      return { store: new ClusterImagineStore(shared.redis, options), elapse: (ms) => sleep(ms), now: () => Date.now(), close: async () => undefined };
    },
    { shortLifetimeMs: 250 },
  );
});
