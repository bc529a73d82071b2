// Task metrics in cluster mode, where tasks end on workers: a node that runs engine work counts the
// tasks its own worker ran in its /metrics, and `imagewire worker --metrics-port` serves the tasks
// it ran (and its own outbound requests) on a listener of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { spawnImagewire } from '../helpers/child-server.js';
import { isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer } from '../helpers/test-server.js';
import { redisAvailable, startRedis, type TestRedis } from '../helpers/redis-server.js';

const SUCCESS = 'imagewire_tasks_total{task_type="imageInference",outcome="success"}';

function sample(text: string, line: string): number {
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

async function runTask(url: string, extra: Record<string, unknown> = {}): Promise<void> {
  const { client } = await RawClient.authenticated(url);
  const task = inferenceTask(extra);
  client.send([task]);
  await client.waitFor((f) => isFinal(f, task.taskUUID), { timeoutMs: 15_000 });
  await client.close();
}

describe.runIf(redisAvailable())('task metrics in cluster mode', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.close();
  });

  it('a node running engine work counts the tasks its worker ran', async () => {
    const node = await startTestServer({ redis: redis.url, keyPrefix: 'tm1:' });
    try {
      await runTask(node.url);
      await expect.poll(async () => sample(await (await fetch(`${node.httpUrl}/metrics`)).text(), SUCCESS), { timeout: 10_000 }).toBe(1);
      expect(node.logs.lines.filter((line) => line.message === 'task ended')).toHaveLength(1);
    } finally {
      await node.close();
    }
  });

  it('imagewire worker --metrics-port serves the tasks it ran, behind its token', async () => {
    const node = await startTestServer({ redis: redis.url, keyPrefix: 'iw:', engine: false });
    const worker = spawnImagewire(['worker', '--redis', redis.url, '--metrics-port', '0', '--step-delay', '0'], { env: { IMAGEWIRE_METRICS_TOKEN: 'scrape-token-1' } });
    try {
      const url = await eventually(() => /metrics at (http:\/\/\S+)/.exec(worker.stdout())?.[1], (found) => found !== undefined, 15_000);
      // Its webhook to a loopback address is refused by the worker's outbound rules, and counted there.
      await runTask(node.url, { webhookURL: 'http://127.0.0.1:9/hook' });
      expect((await fetch(url ?? '')).status).toBe(401);
      const scrape = async (): Promise<number> => sample(await (await fetch(url ?? '', { headers: { authorization: 'Bearer scrape-token-1' } })).text(), SUCCESS);
      await expect.poll(scrape, { timeout: 10_000 }).toBe(1);
      const refused = async (): Promise<number> => sample(await (await fetch(url ?? '', { headers: { authorization: 'Bearer scrape-token-1' } })).text(), 'imagewire_outbound_requests_total{kind="webhook",outcome="refused"}');
      await expect.poll(refused, { timeout: 10_000 }).toBe(1);
      expect((await fetch((url ?? '').replace('/metrics', '/healthz'))).status).toBe(200);
    } finally {
      await worker.kill('SIGTERM', 15_000);
      await node.close();
    }
  });
});
