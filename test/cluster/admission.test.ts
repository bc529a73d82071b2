// A cluster node's admissions on a real Redis: a graceful stop never leaves a running task without a
// job, and a task whose queueing failed is taken back (taskNotFound, and the same taskUUID can be sent again).
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnections } from '../../src/server/cluster/redis-options.js';
import { jobIdOf } from '../../src/server/cluster/task-job.js';
import { taskQueueName } from '../../src/server/cluster/task-queue.js';
import { RawClient, isAbout, isFinal } from '../helpers/raw-client.js';
import { redisAvailable, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

describe.runIf(redisAvailable())('cluster admissions', () => {
  let redis: TestRedis;
  let connections: RedisConnections;
  let admin: Redis;
  let queue: Queue;
  const open: TestServer[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    connections = new RedisConnections({ redis: redis.url, name: 'test' });
    admin = connections.create('command');
    queue = new Queue(taskQueueName, { connection: connections.create('queue'), prefix: 'iw' });
  });
  afterEach(async () => {
    await admin.call('CLIENT', 'UNPAUSE');
    await Promise.all(open.splice(0).map((server) => server.close()));
  });
  afterAll(async () => {
    await queue.close();
    await connections.close();
    await redis.close();
  });

  /** The owner and state of the task record of `taskUUID` (any key), or undefined. */
  const recordOf = async (taskUUID: string): Promise<{ owner: string; state: string | null } | undefined> => {
    const [, keys] = await admin.scan('0', 'MATCH', `iw:t:{*:${taskUUID}}`, 'COUNT', 10_000);
    const key = keys[0];
    if (key === undefined) return undefined;
    const owner = key.slice('iw:t:{'.length, key.lastIndexOf(':'));
    return { owner, state: await admin.hget(key, 'st') };
  };

  it('a graceful stop during an admission queues it before closing its connections: no running record without a job', async () => {
    const node = await startTestServer({ redis: redis.url, engine: false });
    const { client } = await RawClient.authenticated(node.url, 'k');
    // Writes wait: the node's admission is held in Redis while the node stops.
    await admin.call('CLIENT', 'PAUSE', '1000', 'WRITE');
    const task = inferenceTask();
    client.send([task]);
    // The task reaches Redis's pause (nothing to observe from outside until the pause ends).
    await new Promise((resolve) => setTimeout(resolve, 200));
    await node.close();
    client.terminate();
    const record = await recordOf(task.taskUUID);
    // Without the drain the admission ran after the node quit its connections' queue side: running, no job.
    if (record?.state === 'running') expect(await queue.getJob(jobIdOf(record.owner, task.taskUUID))).toBeDefined();
    expect(record).toBeDefined();
  });

  it('a graceful stop leaves a WebSocket task it had not admitted for another node: no refusal is held, the resumed session sends it again', async () => {
    const closing = await startTestServer({ redis: redis.url, engine: false });
    const other = await startTestServer({ redis: redis.url });
    open.push(other);
    const first = await RawClient.authenticated(closing.url, 'k', { extensions: ['ack'] });
    // The first task's admission waits in Redis; the second waits behind it on the connection.
    await admin.call('CLIENT', 'PAUSE', '700', 'WRITE');
    const held = inferenceTask();
    const behind = inferenceTask();
    first.client.send([held]);
    first.client.send([behind]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await closing.close();
    first.client.terminate();
    const second = await RawClient.connect(other.url);
    const auth = await second.authenticate('k', { connectionSessionUUID: first.auth.connectionSessionUUID, extensions: ['ack'] });
    expect(auth).toMatchObject({ resumed: true });
    // The admitted task runs to its final; the other was never taken, so nothing about it is replayed.
    await second.waitFor((f) => isFinal(f, held.taskUUID));
    await second.expectNone((f) => isAbout(f, behind.taskUUID));
    second.send([{ taskType: 'getResponse', taskUUID: behind.taskUUID }]);
    await second.waitFor((f) => f.kind === 'json' && f.errors.some((e) => e.code === 'taskNotFound' && e.taskUUID === behind.taskUUID));
    second.send([behind]);
    await second.waitFor((f) => isFinal(f, behind.taskUUID));
    expect(JSON.stringify(second.framesOf(behind.taskUUID))).not.toContain('serverShuttingDown');
    await second.close();
  });

  it('takes an admission back when its job cannot be queued: taskNotFound, and a resend runs', async () => {
    const node = await startTestServer({ redis: redis.url, keyPrefix: 'iw:', nodeId: 'n1' });
    const { client } = await RawClient.authenticated(node.url, 'k');
    // The queue's meta hash of the wrong type: every add fails while admission works.
    await admin.del('iw:iw-tasks:meta');
    await admin.set('iw:iw-tasks:meta', 'not a hash');
    const task = inferenceTask();
    client.send([task]);
    const refused = await client.waitFor((f) => f.kind === 'json' && f.errors.some((e) => e.taskUUID === task.taskUUID));
    expect(JSON.stringify(refused)).toMatch(/serviceUnavailable|internalServerError/);
    expect(await recordOf(task.taskUUID)).toBeUndefined();
    client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    const answer = await client.waitFor((f) => f.kind === 'json' && f.errors.some((e) => e.code === 'taskNotFound'));
    expect(JSON.stringify(answer)).toContain(task.taskUUID);
    await admin.del('iw:iw-tasks:meta');
    client.send([task]);
    await client.waitFor((f) => isFinal(f, task.taskUUID));
    await client.close();
  });
});
