// A cluster node's health and Redis gauges: /metrics shows Redis up and the queue's waiting and
// active jobs (read at scrape time), /readyz answers 503 while Redis is away and a scrape still
// answers (within its bound), and both recover with Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';
import { redisAvailable, startRedis, type TestRedis } from '../helpers/redis-server.js';

async function metricsText(node: TestServer): Promise<string> {
  const answer = await fetch(`${node.httpUrl}/metrics`);
  expect(answer.status).toBe(200);
  return answer.text();
}

/** The value of one sample line (`name{labels} value`), or undefined when the scrape has none. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

async function readyStatus(node: TestServer): Promise<{ status: number; body: unknown }> {
  const answer = await fetch(`${node.httpUrl}/readyz`);
  return { status: answer.status, body: await answer.json() };
}

describe.runIf(redisAvailable())('a cluster node: Redis gauges and readiness', () => {
  let redis: TestRedis;
  let node: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    // No engine on the node and no worker: an accepted task's job waits in the queue.
    node = await startTestServer({ redis: redis.url, engine: false });
  });
  afterAll(async () => {
    await node.close();
    await redis.close();
  });

  it('shows Redis up and the waiting jobs, then Redis down (readyz 503) while it is away, then up again', async () => {
    const first = await metricsText(node);
    expect(sample(first, 'imagewire_redis_up')).toBe(1);
    expect(sample(first, 'imagewire_queue_jobs{state="waiting"}')).toBe(0);
    expect(sample(first, 'imagewire_queue_jobs{state="active"}')).toBe(0);
    expect(await readyStatus(node)).toEqual({ status: 200, body: { status: 'ready' } });

    const { client } = await RawClient.authenticated(node.url);
    const task = inferenceTask({ deliveryMethod: 'async' });
    client.send([task]);
    await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === task.taskUUID);
    expect(sample(await metricsText(node), 'imagewire_queue_jobs{state="waiting"}')).toBe(1);

    await redis.kill('SIGKILL');
    await eventually(() => node.ready, (ready) => !ready);
    expect(await readyStatus(node)).toEqual({ status: 503, body: { status: 'redisUnavailable', errors: [expect.objectContaining({ code: 'serviceUnavailable' })] } });
    const during = await metricsText(node);
    expect(sample(during, 'imagewire_redis_up')).toBe(0);
    // Not read: left out rather than shown stale.
    expect(sample(during, 'imagewire_queue_jobs{state="waiting"}')).toBeUndefined();
    expect(sample(during, 'imagewire_ready')).toBe(0);

    await redis.restart();
    await eventually(() => node.ready, (ready) => ready, 15_000);
    expect((await readyStatus(node)).status).toBe(200);
    expect(sample(await metricsText(node), 'imagewire_redis_up')).toBe(1);
    await client.close();
  }, 60_000);

  it("logs a task's end on the worker that ran it (here the node's own), with its key id and never the key", async () => {
    const worker = await startTestServer({ redis: redis.url, keyPrefix: 'obs-worker:' });
    try {
      const { client } = await RawClient.authenticated(worker.url, 'key-for-the-worker-7e1');
      const task = inferenceTask();
      client.send([task]);
      await client.waitFor((f) => isFinal(f, task.taskUUID));
      const logs = worker.logs;
      const line = await eventually(
        () => logs.lines.find((entry) => entry.message === 'task ended'),
        (found) => found !== undefined,
      );
      expect(line?.fields).toMatchObject({ taskUUID: task.taskUUID, taskType: 'imageInference', outcome: 'success', keyId: expect.stringMatching(/^[0-9a-f]{12}$/), images: 1, durationMs: expect.any(Number) });
      expect(logs.text()).not.toContain('key-for-the-worker-7e1');
      await client.close();
    } finally {
      await worker.close();
    }
  });
});
