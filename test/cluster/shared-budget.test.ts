// Two cluster nodes on one Redis hold one session token to one budget and one tasks-per-minute
// window: what a token spent through one node counts on the other.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineEvent, EngineRequest } from '../../src/engine/index.js';
import { randomImage } from '../helpers/fixed-engine.js';
import { isErrorOf, isFinal, RawClient, type Received } from '../helpers/raw-client.js';
import { redisAvailable, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

const ADMIN = 'admin-key-0123456789';
const SECRET = 'x'.repeat(32);
const image = randomImage(256);

function pricedEngine(cost: number): Engine {
  return {
    name: 'priced',
    models: () => [],
    hasModel: () => true,
    async *generate(request: EngineRequest): AsyncGenerator<EngineEvent, void, undefined> {
      for (let index = 0; index < request.numberResults; index++) yield { kind: 'final', index, seed: 7, format: 'PNG', width: request.width, height: request.height, cost, image };
    },
  };
}

async function mint(node: TestServer, scope: Record<string, unknown>): Promise<{ token: string; tokenId: string }> {
  const response = await fetch(`${node.httpUrl}/v1/tokens`, { method: 'POST', headers: { authorization: 'Bearer k1', 'content-type': 'application/json' }, body: JSON.stringify({ scope }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: { token: string; tokenId: string }[] }).data[0] as { token: string; tokenId: string };
}

async function run(client: RawClient): Promise<Received> {
  const task = inferenceTask();
  client.send([task]);
  return client.waitFor((f) => isFinal(f, task.taskUUID) || isErrorOf(f, task.taskUUID), { timeoutMs: 15_000 });
}

function codeOf(frame: Received): string | undefined {
  return frame.kind === 'json' ? frame.errors[0]?.code : undefined;
}

/** Waits until the usage any node reports shows the token spent `cost`. */
async function spent(node: TestServer, tokenId: string, cost: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const response = await fetch(`${node.httpUrl}/v1/usage`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const { data } = (await response.json()) as { data: { tokens: { tokenId: string; cost: number }[] } };
    if ((data.tokens.find((entry) => entry.tokenId === tokenId)?.cost ?? 0) >= cost - 1e-9) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the token never spent ${cost} USD`);
}

describe.runIf(redisAvailable())('two cluster nodes share a token budget and rate', () => {
  let redis: TestRedis;
  const open: TestServer[] = [];
  const node = async (): Promise<TestServer> => {
    const server = await startTestServer({ redis: redis.url, apiKeys: ['k1'], tokens: { secret: SECRET }, adminKey: ADMIN, engine: pricedEngine(0.4) });
    open.push(server);
    return server;
  };
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((server) => server.close()));
  });
  afterAll(async () => {
    await redis.close();
  });

  it('refuses on one node a token that spent its budget through both', async () => {
    const a = await node();
    const b = await node();
    const { token, tokenId } = await mint(a, { budget: 1 });
    const onA = (await RawClient.authenticated(a.url, token)).client;
    const onB = (await RawClient.authenticated(b.url, token)).client;
    const order = [onA, onB, onA];
    for (const [i, client] of order.entries()) {
      expect(codeOf(await run(client))).toBeUndefined();
      await spent(i % 2 === 0 ? b : a, tokenId, 0.4 * (i + 1));
    }
    // Node B saw one task of the three: only a shared budget refuses this one.
    expect(codeOf(await run(onB))).toBe('budgetExhausted');
    expect(codeOf(await run(onA))).toBe('budgetExhausted');
    await onA.close();
    await onB.close();
  });

  it('counts tasksPerMinute across nodes', async () => {
    const a = await node();
    const b = await node();
    const { token } = await mint(b, { tasksPerMinute: 2 });
    const onA = (await RawClient.authenticated(a.url, token)).client;
    const onB = (await RawClient.authenticated(b.url, token)).client;
    for (let attempt = 0; ; attempt++) {
      const minute = Math.floor(Date.now() / 60_000);
      const codes = [codeOf(await run(onA)), codeOf(await run(onB)), codeOf(await run(onA))];
      if (Math.floor(Date.now() / 60_000) !== minute && attempt < 2) continue;
      // Each node saw at most two tasks: only a shared window refuses the third.
      expect(codes).toContain('rateLimited');
      break;
    }
    await onA.close();
    await onB.close();
  });
});
