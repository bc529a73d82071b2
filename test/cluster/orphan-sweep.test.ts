// The sweep of orphaned tasks on a real Redis, a real BullMQ queue and a real worker: a running record
// whose job is gone is queued again from the job data kept at admission and runs to completion,
// delivered once; one that keeps getting lost ends with a retryable taskLost after the bound; a task
// whose job still waits, a renewed one and a withdrawn admission are left alone.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralEngine } from '../../src/engine/index.js';
import { normalizeImageInference } from '../../src/protocol/index.js';
import { SessionLog, type SessionLogLimits } from '../../src/server/cluster/session-log.js';
import { encodeTaskJob, type TaskJob } from '../../src/server/cluster/task-job.js';
import { TaskQueue } from '../../src/server/cluster/task-queue.js';
import { TaskStore, type TaskStoreLimits } from '../../src/server/cluster/task-store.js';
import { createWorker, type ClusterWorker } from '../../src/server/cluster/worker.js';
import { maxRequeues, sweepOrphans } from '../../src/server/node/orphan-sweep.js';
import { ownerOf } from '../../src/server/auth/auth.js';
import { isFinal, RawClient } from '../helpers/raw-client.js';
import { captureLogger, inferenceTask, startTestServer } from '../helpers/test-server.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { finalIndexes } from './worker-fixture.js';
import { expectEveryKeyExpires, startStoreFixture, type StoreFixture } from './store-fixture.js';

const sessionLimits: SessionLogLimits = { maxHeldSessions: 10_000, maxHeldSessionsPerKey: 2_500, maxHeldBytesPerSession: 64 << 20, maxHeldBytesPerKey: 128 << 20, maxHeldBytesTotal: 512 << 20 };
const taskLimits: TaskStoreLimits = { maxInFlightPerKey: 128, maxTaskRecords: 100_000, maxTaskRecordsPerKey: 25_000 };
const leaseMs = 400;
const graceMs = 150;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `accept` holds (an async condition on Redis); fails with the last value after `timeoutMs`. */
async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(20)) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
  }
}

let prefixes = 0;

describe.runIf(redisAvailable())('orphaned task sweep', () => {
  let fixture: StoreFixture;
  const closing: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    fixture = await startStoreFixture();
  });
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });
  afterAll(async () => fixture.close());

  /** The stores of a node under a fresh prefix, with a short lease and grace. */
  async function node() {
    const redis = fixture.connect();
    const keyPrefix = `orphan${++prefixes}:`;
    const log = new SessionLog({ redis, limits: sessionLimits, keyPrefix });
    const tasks = new TaskStore({ redis, sessions: log, limits: taskLimits, leaseMs, orphanGraceMs: graceMs });
    const queue = new TaskQueue({ connection: fixture.connections.create('queue'), keyPrefix });
    closing.push(() => queue.close());
    const created = await log.create('A');
    if (created.kind !== 'created') throw new Error(created.kind);
    await log.attach(created.session, 'A', 'node-a');
    const job = (taskUUID: string, numberResults = 1): TaskJob => {
      const task = normalizeImageInference({ taskType: 'imageInference', taskUUID, positivePrompt: 'a lighthouse', model: 'runware:101@1', width: 128, height: 128, steps: 2, numberResults, seed: 7 });
      return encodeTaskJob({ owner: 'A', task, previews: false, storeFinals: true, publicUrl: 'http://x' });
    };
    /** Admitted with its job data kept, as a node does, but never queued: its node died in between. */
    const admitOrphan = async (taskUUID: string, numberResults = 1): Promise<TaskJob> => {
      const kept = job(taskUUID, numberResults);
      expect(await tasks.admit('A', taskUUID, 'imageInference', { async: false, target: created.session, expected: numberResults, job: kept })).toEqual({ kind: 'admitted' });
      return kept;
    };
    return { redis, keyPrefix, log, tasks, queue, session: created.session, job, admitOrphan, logger: captureLogger() };
  }

  async function worker(keyPrefix: string): Promise<ClusterWorker> {
    const started = await createWorker({ redis: fixture.server.url, engine: createProceduralEngine({ stepDelayMs: 0 }), keyPrefix, concurrency: 2, logger: false, closeGraceMs: 200 });
    closing.push(() => started.close());
    return started;
  }

  it('queues a task admitted without a job again once its grace passed; it runs to completion and each final is delivered once', async () => {
    const n = await node();
    await n.admitOrphan('orphan', 2);
    // Within the grace the node that admitted it may still be queueing it: left alone.
    expect(await sweepOrphans(n.tasks, n.queue, n.logger)).toEqual({ requeued: 0, lost: 0 });
    expect(await n.tasks.get('A', 'orphan')).toMatchObject({ state: 'running', results: [] });
    await sleep(graceMs + 50);
    // Two nodes sweeping at once: one of them queues it, once.
    const both = await Promise.all([sweepOrphans(n.tasks, n.queue, n.logger), sweepOrphans(n.tasks, n.queue, n.logger)]);
    expect(both.reduce((sum, r) => sum + r.requeued, 0)).toBe(1);
    expect(both.reduce((sum, r) => sum + r.lost, 0)).toBe(0);
    expect(await n.queue.waiting()).toBe(1);
    // The node's own add landing late, under the same job id, adds nothing.
    await n.queue.enqueue(n.job('orphan', 2));
    expect(await n.queue.waiting()).toBe(1);
    // getResponse meanwhile: running, no results.
    expect(await n.tasks.get('A', 'orphan')).toMatchObject({ state: 'running', results: [] });
    await worker(n.keyPrefix);
    await until(async () => (await n.tasks.get('A', 'orphan'))?.state, (state) => state === 'success');
    expect((await n.tasks.get('A', 'orphan'))?.results.map((r) => r.index)).toEqual([0, 1]);
    expect(finalIndexes(await n.log.read(n.session, 0, 100))).toEqual([0, 1]);
    // The kept job data goes with the end; the record is retained as usual.
    expect(await n.redis.hget(n.log.keys.task('A', 'orphan'), 'j')).toBeNull();
    // Sweeps after the end find nothing, and a stray add of the job runs nothing again.
    await sleep(graceMs + 50);
    expect(await sweepOrphans(n.tasks, n.queue, n.logger)).toEqual({ requeued: 0, lost: 0 });
    await n.queue.requeue([n.job('orphan', 2)]);
    await until(() => n.queue.waiting(), (waiting) => waiting === 0);
    await sleep(200);
    expect(finalIndexes(await n.log.read(n.session, 0, 100))).toEqual([0, 1]);
    await expectEveryKeyExpires(n.redis, n.keyPrefix, (key) => key.startsWith(`${n.keyPrefix}iw-tasks`));
  });

  it(`ends a task whose job keeps getting lost with taskLost after ${maxRequeues} re-queues, once, to its session; getResponse answers running until then`, async () => {
    const n = await node();
    await n.admitOrphan('poison');
    const jobKey = `${n.queue.jobKeyPrefix}poison.A`;
    for (let round = 1; round <= maxRequeues; round++) {
      await sleep(graceMs + 50);
      expect(await sweepOrphans(n.tasks, n.queue, n.logger), `round ${round}`).toEqual({ requeued: 1, lost: 0 });
      expect(await n.redis.exists(jobKey)).toBe(1);
      expect(await n.tasks.get('A', 'poison')).toMatchObject({ state: 'running' });
      // The queue drops it again (as after maxStalledCount stalls, which removes it without a word).
      await n.redis.del(jobKey);
      await n.redis.lrem(`${n.queue.jobKeyPrefix}wait`, 0, 'poison.A');
    }
    await sleep(graceMs + 50);
    expect(await sweepOrphans(n.tasks, n.queue, n.logger)).toEqual({ requeued: 0, lost: 1 });
    const stored = await n.tasks.get('A', 'poison');
    expect(stored).toMatchObject({ state: 'error' });
    expect(JSON.parse(stored?.errors ?? '[]')).toMatchObject([{ code: 'taskLost', taskUUID: 'poison' }]);
    expect((await n.log.read(n.session, 0, 10)).map((e) => e.frame)).toMatchObject([{ kind: 'errors', errors: [{ code: 'taskLost', taskUUID: 'poison' }] }]);
    await sleep(graceMs + 50);
    expect(await sweepOrphans(n.tasks, n.queue, n.logger)).toEqual({ requeued: 0, lost: 0 });
    expect(await n.log.read(n.session, 0, 10)).toHaveLength(1);
    await expectEveryKeyExpires(n.redis, n.keyPrefix, (key) => key.startsWith(`${n.keyPrefix}iw-tasks`));
  });

  it('leaves a task whose job waits (and keeps it in flight), a renewed one and a withdrawn one; a record without job data ends as lost', async () => {
    const n = await node();
    // Admitted by a node that kept no job data: nothing to queue again.
    await n.tasks.admit('A', 'bare', 'imageInference', { async: false, target: n.session });
    // Queued: waits for a worker that never comes; nothing renews it but the sweep.
    await n.tasks.admit('A', 'queued', 'imageInference', { async: false, target: n.session, job: n.job('queued') });
    await n.queue.enqueue(n.job('queued'));
    // Withdrawn: taken back after a failed enqueue; nothing left to sweep.
    await n.tasks.admit('A', 'withdrawn', 'imageInference', { async: true, target: '', job: n.job('withdrawn') });
    expect(await n.tasks.withdraw('A', 'withdrawn')).toBe(true);
    // Renewed: a worker runs it.
    await n.tasks.admit('A', 'renewed', 'imageInference', { async: true, target: '', job: n.job('renewed') });
    await sleep(graceMs + 50);
    await n.tasks.renew('A', 'renewed');
    expect(await sweepOrphans(n.tasks, n.queue, n.logger)).toEqual({ requeued: 0, lost: 1 });
    expect(JSON.parse((await n.tasks.get('A', 'bare'))?.errors ?? '[]')).toMatchObject([{ code: 'taskLost', taskUUID: 'bare' }]);
    expect(await n.tasks.get('A', 'withdrawn')).toBeUndefined();
    // Past a whole lease nothing renewed the queued task but the sweep: it still counts in flight.
    for (let i = 0; i < 3; i++) {
      await sleep(leaseMs / 2);
      await n.tasks.renew('A', 'renewed');
      expect(await sweepOrphans(n.tasks, n.queue, n.logger)).toEqual({ requeued: 0, lost: 0 });
    }
    expect(await n.tasks.get('A', 'queued')).toMatchObject({ state: 'running' });
    expect(await n.tasks.get('A', 'renewed')).toMatchObject({ state: 'running' });
    expect(await n.tasks.inFlight('A')).toBe(2);
    expect((await n.log.read(n.session, 0, 10)).map((e) => e.frame)).toMatchObject([{ kind: 'errors', errors: [{ code: 'taskLost', taskUUID: 'bare' }] }]);
    await n.tasks.finish('A', 'queued', 'success');
    await n.tasks.finish('A', 'renewed', 'success');
    // Every record ended: the index of running tasks is gone with them.
    await expectEveryKeyExpires(n.redis, n.keyPrefix, (key) => key.startsWith(`${n.keyPrefix}iw-tasks`));
  });

  it('through a node: a task whose node died between admission and queueing runs on its own; getResponse says processing, then has the result; the final arrives once', async () => {
    const keyPrefix = 'orphan-node:';
    const server = await startTestServer({ redis: fixture.server.url, keyPrefix });
    closing.push(() => server.close());
    const { client, auth } = await RawClient.authenticated(server.url, 'k');
    closing.push(() => client.close());
    // Another node admitted this task for the session and died before queueing it.
    const redis = fixture.connect();
    const log = new SessionLog({ redis, limits: sessionLimits, keyPrefix });
    const tasks = new TaskStore({ redis, sessions: log, limits: taskLimits });
    const owner = ownerOf('k');
    const raw = inferenceTask({ numberResults: 1 });
    const task = normalizeImageInference({ ...raw, taskType: 'imageInference' } as Parameters<typeof normalizeImageInference>[0]);
    const job = encodeTaskJob({ owner, task, previews: true, storeFinals: true, publicUrl: 'http://x' });
    expect(await tasks.admit(owner, task.taskUUID, 'imageInference', { async: false, target: String(auth.connectionSessionUUID), expected: 1, job })).toEqual({ kind: 'admitted' });
    client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    const first = await client.waitFor((f) => f.kind === 'json' && f.data.some((d) => d.taskType === 'getResponse' || d.status !== undefined));
    expect(first.kind === 'json' ? first.data[0] : undefined).toMatchObject({ taskUUID: task.taskUUID, status: 'processing' });
    // The node's sweep finds the job missing after the grace and queues it; its own worker runs it.
    await client.waitFor((f) => isFinal(f, task.taskUUID), { timeoutMs: 20_000 });
    const from = client.frames.length;
    client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    const answer = await client.waitFor((f) => f.kind === 'json' && f.data.some((d) => d.status === 'success'), { from });
    expect(answer.kind === 'json' ? answer.data[0] : undefined).toMatchObject({ taskUUID: task.taskUUID, status: 'success', imageUUID: expect.any(String) });
    await sleep(300);
    expect(client.frames.filter((f) => isFinal(f, task.taskUUID) && f.seq === undefined && !(f.kind === 'json' && f.data.some((d) => d.status !== undefined)))).toHaveLength(1);
  }, 30_000);
});
