// The sweep of orphaned tasks on a real Redis and a real BullMQ queue: a running record whose lease
// lapsed and whose job is gone ends with a retryable taskLost delivered once to its session; a task
// whose job still waits, a renewed one, and a withdrawn admission are left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionLog, type SessionLogLimits } from '../../src/server/cluster/session-log.js';
import { encodeTaskJob } from '../../src/server/cluster/task-job.js';
import { TaskQueue } from '../../src/server/cluster/task-queue.js';
import { TaskStore, type TaskStoreLimits } from '../../src/server/cluster/task-store.js';
import { sweepOrphans } from '../../src/server/node/orphan-sweep.js';
import { captureLogger } from '../helpers/test-server.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { expectEveryKeyExpires, startStoreFixture, type StoreFixture } from './store-fixture.js';

const sessionLimits: SessionLogLimits = { maxHeldSessions: 10_000, maxHeldSessionsPerKey: 2_500, maxHeldBytesPerSession: 64 << 20, maxHeldBytesPerKey: 128 << 20, maxHeldBytesTotal: 512 << 20 };
const taskLimits: TaskStoreLimits = { maxInFlightPerKey: 128, maxTaskRecords: 100_000, maxTaskRecordsPerKey: 25_000 };
const leaseMs = 150;

describe.runIf(redisAvailable())('orphaned task sweep', () => {
  let fixture: StoreFixture;
  beforeAll(async () => {
    fixture = await startStoreFixture();
  });
  afterAll(async () => fixture.close());

  it('ends a lapsed running task without a job (taskLost, once, to its session); leaves queued and renewed ones', async () => {
    const redis = fixture.connect();
    const keyPrefix = 'orphan:';
    const log = new SessionLog({ redis, limits: sessionLimits, keyPrefix });
    const tasks = new TaskStore({ redis, sessions: log, limits: taskLimits, leaseMs });
    const queue = new TaskQueue({ connection: fixture.connections.create('queue'), keyPrefix });
    const logger = captureLogger();
    const created = await log.create('A');
    if (created.kind !== 'created') throw new Error(created.kind);
    const session = created.session;
    // Orphan: admitted, never queued (its node was killed in between).
    await tasks.admit('A', 'lost', 'imageInference', { async: false, target: session });
    // Queued: waits for a worker; no one renews it either.
    await tasks.admit('A', 'queued', 'imageInference', { async: false, target: session });
    const task = { taskType: 'imageUpload', taskUUID: 'queued', image: 'data:image/png;base64,AA==' } as const;
    await queue.enqueue(encodeTaskJob({ owner: 'A', task, previews: false, storeFinals: true, publicUrl: 'http://x' }));
    // Withdrawn: taken back after a failed enqueue; nothing left to sweep.
    await tasks.admit('A', 'withdrawn', 'imageInference', { async: true, target: '' });
    expect(await tasks.withdraw('A', 'withdrawn')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, leaseMs + 50));
    // Renewed: a worker runs it (its job is in BullMQ's active list, here only its lease matters).
    await tasks.admit('A', 'renewed', 'imageInference', { async: true, target: '' });

    expect(await sweepOrphans(tasks, queue, logger)).toBe(1);
    expect(await tasks.get('A', 'lost')).toMatchObject({ state: 'error' });
    expect(JSON.parse((await tasks.get('A', 'lost'))?.errors ?? '[]')).toMatchObject([{ code: 'taskLost', taskUUID: 'lost' }]);
    const held = await log.read(session, 0, 10);
    expect(held.map((e) => e.frame)).toMatchObject([{ kind: 'errors', errors: [{ code: 'taskLost', taskUUID: 'lost' }] }]);
    expect(await tasks.get('A', 'queued')).toMatchObject({ state: 'running' });
    expect(await tasks.get('A', 'renewed')).toMatchObject({ state: 'running' });
    expect(await tasks.get('A', 'withdrawn')).toBeUndefined();
    // A second sweep (lease lapsed again) ends nothing more and delivers nothing twice.
    await new Promise((resolve) => setTimeout(resolve, leaseMs + 50));
    await tasks.renew('A', 'renewed');
    expect(await sweepOrphans(tasks, queue, logger)).toBe(0);
    expect(await log.read(session, 0, 10)).toHaveLength(1);
    expect(await tasks.get('A', 'queued')).toMatchObject({ state: 'running' });

    // The queue gave the job up (removed, as after maxStalledCount): it is swept as well.
    await redis.del('orphan:iw-tasks:queued.A');
    await new Promise((resolve) => setTimeout(resolve, leaseMs + 50));
    await tasks.renew('A', 'renewed');
    expect(await sweepOrphans(tasks, queue, logger)).toBe(1);
    expect(await tasks.get('A', 'queued')).toMatchObject({ state: 'error' });
    expect(await tasks.get('A', 'renewed')).toMatchObject({ state: 'running' });
    await tasks.finish('A', 'renewed', 'success');
    await queue.close();
    // Every record ended: the index of running tasks is gone with them.
    await expectEveryKeyExpires(redis, keyPrefix, (key) => key.startsWith('orphan:iw-tasks'));
  });
});
