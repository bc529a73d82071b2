// The task records contract run against the in-memory registry (as TaskRouter drives it, on a fake
// clock) and, when redis-server is installed, the cluster's TaskStore as a node and its workers
// drive it (admit, emitFinal, finish; getResponse's items by node/responses.ts).
import { describe } from 'vitest';
import { stringifyJson } from '../../src/protocol/index.js';
import { RedisImageStore } from '../../src/server/cluster/image-store.js';
import { encodeStoredResult } from '../../src/server/cluster/result-codec.js';
import { SessionLog } from '../../src/server/cluster/session-log.js';
import { TaskStore } from '../../src/server/cluster/task-store.js';
import type { OutputTarget } from '../../src/server/core/output-target.js';
import { dataFrame } from '../../src/server/core/server-frame.js';
import { MemoryTaskRegistry } from '../../src/server/core/task-registry.js';
import { MemoryImageStore } from '../../src/server/images/store.js';
import { defaultLimits } from '../../src/server/limits.js';
import { responseItems } from '../../src/server/node/responses.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { describeTaskRecordsContract } from './task-records.contract.js';
import { sleep, useRedis } from './redis-fixture.js';

/** A target that takes every frame: the contract is about records, not deliveries. */
const anyTarget: OutputTarget = { deliver: () => undefined, deliverPreview: () => undefined, reachable: true, reattachable: false, forgetTask: () => undefined };

describeTaskRecordsContract(
  'in memory',
  async (bounds) => {
    const clock = new FakeClock();
    const registry = new MemoryTaskRegistry({ retentionMs: bounds.retentionMs, maxRecords: bounds.maxRecords, maxRecordsPerKey: bounds.maxRecordsPerKey, clock });
    const images = new MemoryImageStore({ maxBytes: 1 << 24, retentionMs: 600_000, clock });
    return {
      // TaskRouter's order of checks: conflict, then the key's in-flight bound.
      admit: async (owner, taskUUID, { async, taskType = 'imageInference' }) => {
        if (registry.get(owner, taskUUID) !== undefined) return 'conflict';
        if (registry.runningFor(owner) >= bounds.maxInFlightPerKey) return 'tooManyInFlight';
        return registry.create(owner, taskUUID, taskType, { async, target: anyTarget }) === undefined ? 'conflict' : 'admitted';
      },
      // The runner's deliverFinal: kept only while running.
      result: async (owner, taskUUID, _index, result) => {
        const record = registry.get(owner, taskUUID);
        if (record?.state === 'running') record.results.push(result);
      },
      progress: async (owner, taskUUID, percent) => {
        const record = registry.get(owner, taskUUID);
        if (record?.state === 'running') record.progress = percent;
      },
      finish: async (owner, taskUUID, state, errors) => {
        const record = registry.get(owner, taskUUID);
        if (record?.state !== 'running') return false;
        registry.finish(record, state, errors);
        return true;
      },
      state: async (owner, taskUUID) => registry.get(owner, taskUUID)?.state,
      response: async (owner, taskUUID) => {
        const record = registry.get(owner, taskUUID);
        return record === undefined ? undefined : registry.responseItems(record, images);
      },
      putImage: async (uuid, bytes, format, owner) => images.put(uuid, bytes, format, owner),
      deleteImage: async (uuid) => images.delete(uuid),
      elapse: async (ms) => clock.advance(ms),
      now: () => clock.now(),
      close: async () => registry.clear(),
    };
  },
  { shortRetentionMs: 1_000 },
);

describe.runIf(redisAvailable())('on Redis', () => {
  const shared = useRedis('contract-tasks');
  describeTaskRecordsContract(
    'Redis',
    async (bounds) => {
      const { redis } = shared;
      const keyPrefix = shared.prefix();
      const limits = { ...defaultLimits, maxTaskRecords: bounds.maxRecords, maxTaskRecordsPerKey: bounds.maxRecordsPerKey, maxInFlightPerKey: bounds.maxInFlightPerKey };
      const log = new SessionLog({ redis, limits, keyPrefix });
      const tasks = new TaskStore({ redis, sessions: log, limits, retentionMs: bounds.retentionMs });
      const images = new RedisImageStore({ redis, limits, keyPrefix });
      return {
        // Every task without a target session: deliveries are the session contract's.
        admit: async (owner, taskUUID, { async, taskType = 'imageInference' }) => {
          const admitted = await tasks.admit(owner, taskUUID, taskType, { async, target: '' });
          return admitted.kind;
        },
        // The worker's write (run-context.ts): the result JSON and its frame in one step.
        result: async (owner, taskUUID, index, result) => {
          await tasks.emitFinal(owner, taskUUID, index, encodeStoredResult(result), dataFrame(result.item));
        },
        progress: async (owner, taskUUID, percent) => {
          await tasks.progress(owner, taskUUID, percent);
        },
        finish: (owner, taskUUID, state, errors) => tasks.finish(owner, taskUUID, state, errors === undefined ? {} : { errors: stringifyJson(errors) }),
        state: async (owner, taskUUID) => (await tasks.get(owner, taskUUID))?.state,
        response: async (owner, taskUUID) => {
          const stored = await tasks.get(owner, taskUUID);
          return stored === undefined ? undefined : responseItems(stored, images);
        },
        putImage: async (uuid, bytes, format, owner) => {
          await images.put(uuid, bytes, format, owner);
        },
        deleteImage: async (uuid) => {
          await images.delete(uuid);
        },
        elapse: (ms) => sleep(ms),
        now: () => Date.now(),
        close: async () => undefined,
      };
    },
    { shortRetentionMs: 250 },
  );
});
