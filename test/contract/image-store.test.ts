// The image store contract run against the in-memory store (on a fake clock) and, when redis-server
// is installed, the Redis store a cluster node and its workers share.
import { describe } from 'vitest';
import { RedisImageStore } from '../../src/server/cluster/image-store.js';
import { MemoryImageStore } from '../../src/server/images/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { describeImageStoreContract } from './image-store.contract.js';
import { sleep, useRedis } from './redis-fixture.js';

describeImageStoreContract(
  'in memory',
  async ({ maxBytes, maxBytesPerKey, retentionMs }) => {
    const clock = new FakeClock();
    const store = new MemoryImageStore({ maxBytes, maxBytesPerKey, retentionMs, clock });
    return {
      put: async (uuid, bytes, format, owner) => store.put(uuid, bytes, format, owner),
      get: async (uuid) => store.get(uuid),
      delete: async (uuid) => {
        const before = store.size;
        store.delete(uuid);
        return store.size < before;
      },
      sweep: async () => store.sweep(),
      elapse: async (ms) => clock.advance(ms),
      now: () => clock.now(),
      close: async () => store.clear(),
    };
  },
  { shortRetentionMs: 1_000 },
);

describe.runIf(redisAvailable())('on Redis', () => {
  const shared = useRedis('contract-img');
  describeImageStoreContract(
    'Redis',
    async ({ maxBytes, maxBytesPerKey, retentionMs }) => {
      const store = new RedisImageStore({ redis: shared.redis, limits: { maxStoredImageBytes: maxBytes, maxStoredImageBytesPerKey: maxBytesPerKey }, retentionMs, keyPrefix: shared.prefix() });
      return {
        put: async (uuid, bytes, format, owner) => {
          await store.put(uuid, bytes, format, owner);
        },
        get: (uuid) => store.get(uuid),
        delete: (uuid) => store.delete(uuid),
        sweep: async () => {
          await store.sweep();
        },
        elapse: (ms) => sleep(ms),
        now: () => Date.now(),
        close: async () => undefined,
      };
    },
    { shortRetentionMs: 250 },
  );
});
