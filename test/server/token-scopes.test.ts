// Session tokens minted with a scope: the scope is echoed and sealed, tasks outside it are refused
// before any work on every face (WebSocket, POST /v1, the images API, imagine), tasks per minute and
// the budget hold, and the operator reads usage at GET /v1/usage with the admin key only.
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine, EngineEvent, EngineRequest } from '../../src/engine/index.js';
import { readTokenRequest } from '../../src/server/http/token-route.js';
import { TokenIssuer } from '../../src/server/auth/tokens.js';
import { randomImage } from '../helpers/fixed-engine.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { isErrorOf, isFinal, RawClient, type Received } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

const ADMIN = 'admin-key-0123456789';
const image = randomImage(512);

/** An engine that counts its runs and reports `cost` per final. */
function costEngine(runs: EngineRequest[], cost: number): Engine {
  return {
    name: 'priced',
    models: () => [],
    hasModel: () => true,
    async *generate(request: EngineRequest): AsyncGenerator<EngineEvent, void, undefined> {
      runs.push(request);
      for (let index = 0; index < request.numberResults; index++) yield { kind: 'final', index, seed: 7, format: 'PNG', width: request.width, height: request.height, cost, image };
    },
  };
}

interface Minted {
  token: string;
  tokenId: string;
  scope: Record<string, unknown>;
}

async function request(url: string, method: string, body: unknown, key: string | undefined): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function mint(target: TestServer, body: unknown, key = 'k1'): Promise<Minted> {
  const answer = await request(`${target.httpUrl}/v1/tokens`, 'POST', body, key);
  expect(answer.status).toBe(200);
  return (answer.json.data as Minted[])[0] as Minted;
}

function errorsOf(json: Record<string, unknown>): { code: string; parameter?: string; message: string }[] {
  return json.errors as { code: string; parameter?: string; message: string }[];
}

/** Sends one task over the socket and waits for its final or its error. */
async function run(client: RawClient, overrides: Record<string, unknown> = {}): Promise<Received> {
  const task = inferenceTask(overrides);
  client.send([task]);
  return client.waitFor((f) => isFinal(f, task.taskUUID) || isErrorOf(f, task.taskUUID));
}

function errorOf(frame: Received): { code: string; parameter?: string | undefined; message: string } | undefined {
  return frame.kind === 'json' ? frame.errors[0] : undefined;
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const narrow = { models: ['imagewire:1@1'], maxNumberResults: 2, maxWidth: 256, maxHeight: 192, maxSteps: 4 };
/** One task per bound, each just past it, and the field the refusal names. */
const outside: [Record<string, unknown>, string][] = [
  [{ model: 'imagewire:2@1' }, 'model'],
  [{ numberResults: 3 }, 'numberResults'],
  [{ width: 320 }, 'width'],
  [{ height: 256 }, 'height'],
  [{ steps: 5 }, 'steps'],
];

describe('POST /v1/tokens with a scope', () => {
  it('echoes the scope and a random token id; tokens without a scope get an id and an empty scope', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const scoped = await mint(server, { ttlSeconds: 60, scope: { ...narrow, tasksPerMinute: 10, budget: 0.5 } });
    expect(scoped.scope).toEqual({ ...narrow, tasksPerMinute: 10, budget: 0.5 });
    expect(scoped.tokenId).toMatch(/^[0-9a-f]{24}$/);
    const plain = await mint(server, undefined);
    expect(plain.scope).toEqual({});
    expect(plain.tokenId).not.toBe(scoped.tokenId);
  });

  it('refuses a bad scope with invalidTokenRequest naming the field', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const cases: [unknown, string][] = [
      [[], 'scope'],
      [{ maxWidth: -1 }, 'scope.maxWidth'],
      [{ maxWidth: 1.5 }, 'scope.maxWidth'],
      [{ maxHeight: '512' }, 'scope.maxHeight'],
      [{ maxSteps: 0 }, 'scope.maxSteps'],
      [{ maxNumberResults: true }, 'scope.maxNumberResults'],
      [{ tasksPerMinute: null }, 'scope.tasksPerMinute'],
      [{ budget: -0.01 }, 'scope.budget'],
      [{ budget: 0 }, 'scope.budget'],
      [{ budget: 1e300 }, 'scope.budget'],
      [{ models: 'imagewire:1@1' }, 'scope.models'],
      [{ models: [] }, 'scope.models'],
      [{ models: Array.from({ length: 9 }, (_, i) => `a:${i}@1`) }, 'scope.models'],
      [{ models: ['imagewire:1@1', 'not an air'] }, 'scope.models[1]'],
      [{ models: [['imagewire:1@1']] }, 'scope.models[0]'],
      [{ maxPixels: 5 }, 'scope.maxPixels'],
    ];
    for (const [scope, parameter] of cases) {
      const answer = await request(`${server.httpUrl}/v1/tokens`, 'POST', { scope }, 'k1');
      expect(answer.status, JSON.stringify(scope)).toBe(400);
      expect(errorsOf(answer.json)[0]).toMatchObject({ code: 'invalidTokenRequest', parameter });
    }
    const deep = await request(`${server.httpUrl}/v1/tokens`, 'POST', { scope: { models: [[[[['x']]]]] } }, 'k1');
    expect(errorsOf(deep.json)[0]?.code).toBe('frameTooComplex');
    const huge = await request(`${server.httpUrl}/v1/tokens`, 'POST', { scope: { models: Array.from({ length: 2_000 }, () => 'a:1@1') } }, 'k1');
    expect(huge.status).toBe(400);
    expect(errorsOf(huge.json)[0]?.code).toBe('invalidTokenRequest');
  });

  it('reads any JSON body as a valid request (the scope echoed as given) or one typed problem naming a field', () => {
    const tokens = new TokenIssuer();
    const scopeValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ maxWidth: fc.jsonValue({ maxDepth: 1 }), models: fc.array(fc.oneof(fc.string(), fc.constant('a:1@1')), { maxLength: 10 }) }, { requiredKeys: [] }), fc.record({ budget: fc.double(), maxSteps: fc.integer() }, { requiredKeys: [] }));
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.record({ ttlSeconds: fc.jsonValue({ maxDepth: 1 }), scope: scopeValue }, { requiredKeys: [] })), (body) => {
        const read = readTokenRequest(Buffer.from(JSON.stringify(body) ?? ''), tokens);
        if ('code' in read) {
          expect(['invalidTokenRequest', 'frameTooComplex']).toContain(read.code);
          if (read.parameter !== undefined) expect(read.parameter).toMatch(/^(ttlSeconds|scope(\.models\[\d+\]|\.[^]{0,40}(\.\.\.)?)?)$/);
          return;
        }
        const given = (body as { scope?: unknown }).scope;
        expect(read.scope).toEqual(given ?? {});
        for (const value of Object.values(read.scope)) if (typeof value === 'number') expect(Number.isFinite(value) && value > 0).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps a token of before scopes (payload v1) working, unscoped', async () => {
    const secret = 's'.repeat(32);
    server = await startTestServer({ apiKeys: ['k1'], tokens: { secret } });
    const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret), Buffer.alloc(0), 'imagewire session token v1', 32));
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    const { createHash } = await import('node:crypto');
    const payload = { v: 1, o: createHash('sha256').update('k1').digest('hex'), e: Math.floor(Date.now() / 1000) + 60, s: 'tasks' };
    const token = `iwt_${Buffer.concat([nonce, cipher.update(JSON.stringify(payload), 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64url')}`;
    const { client } = await RawClient.authenticated(server.url, token);
    const frame = await run(client, { width: 512 });
    expect(errorOf(frame), JSON.stringify(frame.kind === 'json' ? frame.errors : [])).toBeUndefined();
    await client.close();
  });
});

describe('tasks of a scoped token', () => {
  it('are refused outside the scope over the WebSocket, before the engine runs; inside it they run', async () => {
    const runs: EngineRequest[] = [];
    server = await startTestServer({ apiKeys: ['k1'], engine: costEngine(runs, 0.001) });
    const { token } = await mint(server, { scope: narrow });
    const { client } = await RawClient.authenticated(server.url, token);
    for (const [overrides, parameter] of outside) {
      const answer = errorOf(await run(client, overrides));
      expect(answer, parameter).toMatchObject({ code: 'outsideTokenScope', parameter });
    }
    expect(errorOf(await run(client, { model: 'imagewire:1@1', seedImage: 'https://example.invalid/in.png', width: 320 }))?.code).toBe('outsideTokenScope');
    expect(runs).toHaveLength(0);
    expect(errorOf(await run(client, { numberResults: 2, width: 256, height: 192, steps: 4 }))).toBeUndefined();
    expect(runs).toHaveLength(1);
    await client.close();
  });

  it('are refused outside the scope over POST /v1, with the bound in the message', async () => {
    const runs: EngineRequest[] = [];
    server = await startTestServer({ apiKeys: ['k1'], engine: costEngine(runs, 0.001) });
    const { token } = await mint(server, { scope: narrow });
    for (const [overrides, parameter] of outside) {
      const answer = await request(`${server.httpUrl}/v1`, 'POST', [inferenceTask(overrides)], token);
      expect(answer.status).toBe(403);
      const [error] = errorsOf(answer.json);
      expect(error).toMatchObject({ code: 'outsideTokenScope', parameter });
    }
    const [error] = errorsOf((await request(`${server.httpUrl}/v1`, 'POST', [inferenceTask({ width: 320 })], token)).json);
    expect(error?.message).toContain('256');
    expect(runs).toHaveLength(0);
    const key = await request(`${server.httpUrl}/v1`, 'POST', [inferenceTask({ width: 320 })], 'k1');
    expect(key.status).toBe(200);
  });

  it('are refused outside the scope on the images API and the imagine endpoint', async () => {
    const runs: EngineRequest[] = [];
    server = await startTestServer({ apiKeys: ['k1'], engine: costEngine(runs, 0.001) });
    const { token } = await mint(server, { scope: { maxWidth: 256 } });
    const generation = await request(`${server.httpUrl}/v1/images/generations`, 'POST', { prompt: 'a fox', size: '512x512' }, token);
    expect(generation.status).toBe(403);
    expect((generation.json.error as { code: string }).code).toBe('outside_token_scope');
    const imagine = await request(`${server.httpUrl}/v1/images/imagine`, 'POST', { prompt: 'a fox', name: 'fox' }, token);
    expect(imagine.status).toBe(403);
    expect((imagine.json.error as { code: string }).code).toBe('outside_token_scope');
    expect(runs).toHaveLength(0);
  });

  it('are admitted in the turn they arrive in: a cancel sent right behind a scoped task finds it', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ apiKeys: ['k1'], engine, limits: { maxConcurrentTasks: 1 } });
    const { token } = await mint(server, { scope: { budget: 10, tasksPerMinute: 100 } });
    const { client } = await RawClient.authenticated(server.url, token);
    const [running, queued] = [inferenceTask(), inferenceTask()];
    client.send([running]);
    await engine.waiting(1);
    client.send([queued]);
    client.send([{ taskType: 'cancel', taskUUID: queued.taskUUID }]);
    const answer = await client.waitFor((f) => f.kind === 'json' && (f.data[0]?.taskType === 'cancel' || f.errors.some((e) => e.taskUUID === queued.taskUUID)));
    expect(answer.kind === 'json' && answer.data[0]).toEqual({ taskType: 'cancel', taskUUID: queued.taskUUID, cancelled: true });
    engine.openAll();
    await client.waitFor((f) => isFinal(f, running.taskUUID));
    await client.close();
  });

  it('hold tasksPerMinute: the next task is refused with rateLimited, saying when to retry', async () => {
    const runs: EngineRequest[] = [];
    server = await startTestServer({ apiKeys: ['k1'], engine: costEngine(runs, 0.001) });
    const { token } = await mint(server, { scope: { tasksPerMinute: 2 } });
    const { client } = await RawClient.authenticated(server.url, token);
    // The window turns on the minute: a run that straddles one is tried again.
    for (let attempt = 0; ; attempt++) {
      const minute = Math.floor(Date.now() / 60_000);
      const answers = [await run(client), await run(client), await run(client)];
      if (Math.floor(Date.now() / 60_000) !== minute && attempt < 2) continue;
      const refused = answers.map(errorOf).filter((error) => error !== undefined);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(refused[0]).toMatchObject({ code: 'rateLimited' });
      expect(refused[0]?.message).toMatch(/again in \d+ s/);
      break;
    }
    await client.close();
  });

  it('hold the budget: once the finals cost what it allows, the next task is refused with budgetExhausted; GET /v1/usage shows it', async () => {
    const runs: EngineRequest[] = [];
    server = await startTestServer({ apiKeys: ['k1'], engine: costEngine(runs, 0.4), adminKey: ADMIN });
    const { token, tokenId } = await mint(server, { scope: { budget: 1 } });
    const { client } = await RawClient.authenticated(server.url, token);
    for (let i = 0; i < 3; i++) {
      expect(errorOf(await run(client))).toBeUndefined();
      // includeCost is not asked: the cost counts anyway.
      await waitForSpent(server, tokenId, 0.4 * (i + 1));
    }
    const refused = errorOf(await run(client));
    expect(refused).toMatchObject({ code: 'budgetExhausted' });
    expect(refused?.message).toContain('1 USD');
    expect(runs).toHaveLength(3);
    await client.close();
  });
});

async function usageOf(target: TestServer, key: string | undefined, method = 'GET'): Promise<{ status: number; json: Record<string, unknown> }> {
  return request(`${target.httpUrl}/v1/usage`, method, undefined, key);
}

async function waitForSpent(target: TestServer, tokenId: string, cost: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { json } = await usageOf(target, ADMIN);
    const tokens = (json.data as { tokens: { tokenId: string; cost: number }[] }).tokens;
    if ((tokens.find((entry) => entry.tokenId === tokenId)?.cost ?? 0) >= cost - 1e-9) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`token ${tokenId} never reached ${cost} USD`);
}

describe('GET /v1/usage', () => {
  it('answers 404 without an adminKey, 401 without the right one, and usage per owner and token with it, naming no key', async () => {
    server = await startTestServer({ apiKeys: ['k1-secret-key'], engine: costEngine([], 0.25) });
    expect((await usageOf(server, 'k1-secret-key')).status).toBe(404);
    await server.close();
    server = await startTestServer({ apiKeys: ['k1-secret-key'], engine: costEngine([], 0.25), adminKey: ADMIN });
    expect((await usageOf(server, undefined)).status).toBe(401);
    expect(errorsOf((await usageOf(server, 'k1-secret-key')).json)[0]?.code).toBe('adminKeyRequired');
    expect((await usageOf(server, `${ADMIN}x`)).status).toBe(401);
    const { token, tokenId } = await mint(server, { scope: { budget: 5 } }, 'k1-secret-key');
    const answer = await request(`${server.httpUrl}/v1`, 'POST', [inferenceTask({ numberResults: 2 })], token);
    expect(answer.status).toBe(200);
    await waitForSpent(server, tokenId, 0.5);
    const usage = await usageOf(server, ADMIN);
    expect(usage.status).toBe(200);
    const data = usage.json.data as { owners: Record<string, unknown>[]; tokens: Record<string, unknown>[] };
    expect(data.tokens).toEqual([expect.objectContaining({ tokenId, tasks: 1, images: 2, cost: 0.5, budget: 5 })]);
    expect(data.owners).toEqual([expect.objectContaining({ tasks: 1, images: 2, cost: 0.5 })]);
    const owner = data.owners[0]?.owner as string;
    expect(owner).toMatch(/^[0-9a-f]{12}$/);
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update('k1-secret-key').digest('hex')).not.toContain(owner);
    const text = JSON.stringify(usage.json) + server.logs.text();
    expect(text).not.toContain('k1-secret-key');
    expect(text).not.toContain(token.slice(4, 24));
    expect(text).not.toContain(ADMIN);
  });

  it('refuses an adminKey that is short or one of the API keys', async () => {
    await expect(startTestServer({ adminKey: 'short' })).rejects.toThrow(/at least 16/);
    await expect(startTestServer({ apiKeys: [ADMIN], adminKey: ADMIN })).rejects.toThrow(/not be one of the API keys/);
  });
});
