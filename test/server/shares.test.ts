// Per-key shares of every store, with two keys over loopback: key A's traffic never evicts key B's
// sessions, held results, images, task records or imagine images, A cannot take B's publish slots,
// published images expire and can be deleted, and the defaults are the documented ones.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { resultSeed, type Engine, type EngineEvent, type EngineRequest } from '../../src/engine/index.js';
import { defaultLimits, type ServerLimits } from '../../src/server/index.js';
import { perKeyLimits, perKeyShare, resolveLimits } from '../../src/server/limits.js';
import { eventually } from '../helpers/eventually.js';
import { solidPng } from '../helpers/http-fixture.js';
import { call } from '../helpers/images-api.js';
import { finalItem, isErrorOf, isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function live(): TestServer {
  if (server === undefined) throw new Error('no server');
  return server;
}

/** Always the same small PNG, at once: keeps image sizes exact and imagine fast. */
function fixedEngine(image: Uint8Array): Engine {
  return {
    name: 'fixed',
    models: () => [],
    hasModel: () => true,
    async *generate(request: EngineRequest): AsyncGenerator<EngineEvent> {
      for (let index = 0; index < request.numberResults; index++) {
        yield { kind: 'final', index, seed: resultSeed(request.seed, index), image, format: 'PNG', width: request.width, height: request.height };
      }
    },
  };
}

/** Runs one task for `key` on its own socket and resolves with its final item. */
async function runTask(key: string, overrides: Record<string, unknown> = {}): Promise<{ taskUUID: string; imageURL: string }> {
  const { client } = await RawClient.authenticated(live().url, key);
  const task = inferenceTask(overrides);
  client.send([task]);
  const item = finalItem(await client.waitFor((f) => isFinal(f, task.taskUUID)));
  await client.close();
  return { taskUUID: task.taskUUID, imageURL: String(item.imageURL) };
}

/** The status of GET `url`. */
async function statusOf(url: string): Promise<number> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

/** Opens a session for `key`, has one result held in it by cutting the socket first, and returns the session. */
async function holdOne(key: string): Promise<string> {
  const { client, auth } = await RawClient.authenticated(live().url, key);
  live().faults.dropBeforeFrame(1);
  client.send([inferenceTask({ outputType: 'URL' })]);
  await client.waitForClose();
  await eventually(() => live().stats().tasksRunning, (n) => n === 0);
  return auth.connectionSessionUUID as string;
}

/** Opens a session for `key` and drops its socket; resolves with the session once it is held. */
async function openAndDrop(key: string): Promise<string> {
  const { client, auth } = await RawClient.authenticated(live().url, key);
  await client.close();
  return auth.connectionSessionUUID as string;
}

/** True when `key` can resume `session` with its held state. */
async function resumes(key: string, session: string): Promise<boolean> {
  const client = await RawClient.connect(live().url);
  const auth = await client.authenticate(key, { connectionSessionUUID: session });
  await client.close();
  return auth.resumed === true;
}

async function knows(key: string, taskUUID: string): Promise<boolean> {
  const { client } = await RawClient.authenticated(live().url, key);
  client.send([{ taskType: 'getResponse', taskUUID }]);
  const frame = await client.waitFor((f) => f.kind === 'json' && (f.data.some((item) => item.taskUUID === taskUUID) || isErrorOf(f, taskUUID)));
  await client.close();
  return frame.kind === 'json' && frame.data.some((item) => item.status === 'success');
}

describe('sessions', () => {
  it("keeps B's held session while A opens and drops many sockets (A loses its own oldest)", async () => {
    server = await startTestServer({ limits: { maxHeldSessions: 8 } });
    expect(resolveLimits({ maxHeldSessions: 8 }).maxHeldSessionsPerKey).toBe(2);
    const bSession = await openAndDrop('key-b');
    const aSessions: string[] = [];
    for (let i = 0; i < 12; i++) aSessions.push(await openAndDrop('key-a'));
    await eventually(() => live().stats().sessions, (n) => n === 3);
    expect(await resumes('key-b', bSession)).toBe(true);
    expect(await resumes('key-a', aSessions[0] ?? '')).toBe(false);
    expect(await resumes('key-a', aSessions[11] ?? '')).toBe(true);
  });

  it('takes from the key holding the most when the total is reached, never from one holding less', async () => {
    server = await startTestServer({ limits: { maxHeldSessions: 4, maxHeldSessionsPerKey: 4 } });
    const bSession = await openAndDrop('key-b');
    for (let i = 0; i < 12; i++) await openAndDrop('key-a');
    expect(live().stats().sessions).toBe(4);
    expect(await resumes('key-b', bSession)).toBe(true);
  });

  it('refuses a key at its share whose sessions all have sockets with sessionLimitReached, and serves other keys', async () => {
    server = await startTestServer({ limits: { maxHeldSessionsPerKey: 2 } });
    const first = await RawClient.authenticated(live().url, 'key-a');
    const second = await RawClient.authenticated(live().url, 'key-a');
    const third = await RawClient.connect(live().url);
    third.send([{ taskType: 'authentication', apiKey: 'key-a' }]);
    const refused = await third.waitFor((f) => f.kind === 'json' && f.errors.length > 0);
    expect(refused.kind === 'json' && refused.errors[0]).toMatchObject({ code: 'sessionLimitReached', taskType: 'authentication' });
    expect(refused.kind === 'json' && refused.errors[0]?.message).toContain('limits.maxHeldSessionsPerKey');
    const other = await RawClient.authenticated(live().url, 'key-b');
    expect(other.auth.connectionSessionUUID).toEqual(expect.any(String));
    for (const c of [first.client, second.client, third, other.client]) await c.close();
  });

  it("drops A's own held results past its byte share, and past the total the largest holder's, not B's", async () => {
    // What one held result costs.
    server = await startTestServer();
    await holdOne('key-a');
    const one = live().stats().heldBytes;
    await live().close();
    expect(one).toBeGreaterThan(0);

    server = await startTestServer({ limits: { maxHeldBytesPerKey: Math.floor(one * 2.5) } });
    const b = await holdOne('key-b');
    const a = [await holdOne('key-a'), await holdOne('key-a'), await holdOne('key-a')];
    expect(live().stats().heldFrames).toBe(3);
    expect(await resumes('key-a', a[0] ?? '')).toBe(false);
    expect(await resumes('key-b', b)).toBe(true);
    await live().close();

    server = await startTestServer({ limits: { maxHeldBytesTotal: Math.floor(one * 2.5), maxHeldBytesPerKey: Math.floor(one * 2.5) } });
    const b2 = await holdOne('key-b');
    const a2 = [await holdOne('key-a'), await holdOne('key-a')];
    expect(live().stats().heldFrames).toBe(2);
    expect(await resumes('key-a', a2[0] ?? '')).toBe(false);
    expect(await resumes('key-b', b2)).toBe(true);
  });
});

describe('images', () => {
  it("keeps B's images while A makes many: past its share A loses its own least recently used", async () => {
    const png = await solidPng(32, 32, '#aa3300');
    server = await startTestServer({ engine: fixedEngine(png), limits: { maxStoredImageBytes: Math.floor(png.byteLength * 4.5) } });
    const b = await runTask('key-b', { outputType: 'URL' });
    const a = [];
    for (let i = 0; i < 6; i++) a.push(await runTask('key-a', { outputType: 'URL' }));
    expect(await statusOf(b.imageURL)).toBe(200);
    expect(await statusOf(a[0]?.imageURL ?? '')).toBe(404);
    expect(await statusOf(a[5]?.imageURL ?? '')).toBe(200);
  });

  it('takes from the key holding the most bytes when the total is reached', async () => {
    const png = await solidPng(32, 32, '#aa3300');
    const total = Math.floor(png.byteLength * 3.5);
    server = await startTestServer({ engine: fixedEngine(png), limits: { maxStoredImageBytes: total, maxStoredImageBytesPerKey: total } });
    const b = await runTask('key-b', { outputType: 'URL' });
    const a = [];
    for (let i = 0; i < 6; i++) a.push(await runTask('key-a', { outputType: 'URL' }));
    expect(await statusOf(b.imageURL)).toBe(200);
    expect(await statusOf(a[0]?.imageURL ?? '')).toBe(404);
    expect(await statusOf(a[5]?.imageURL ?? '')).toBe(200);
  });
});

describe('task records', () => {
  it("keeps B's finished task while A runs many: past its share A loses its own oldest", async () => {
    server = await startTestServer({ engine: fixedEngine(await solidPng(8, 8, '#000000')), limits: { maxTaskRecords: 4 } });
    const b = await runTask('key-b');
    const a = [];
    for (let i = 0; i < 6; i++) a.push(await runTask('key-a'));
    expect(await knows('key-b', b.taskUUID)).toBe(true);
    expect(await knows('key-a', a[0]?.taskUUID ?? '')).toBe(false);
    expect(await knows('key-a', a[5]?.taskUUID ?? '')).toBe(true);
  });

  it('takes from the key holding the most records when the total is reached', async () => {
    server = await startTestServer({ engine: fixedEngine(await solidPng(8, 8, '#000000')), limits: { maxTaskRecords: 4, maxTaskRecordsPerKey: 4 } });
    const b = await runTask('key-b');
    const a = [];
    for (let i = 0; i < 6; i++) a.push(await runTask('key-a'));
    expect(await knows('key-b', b.taskUUID)).toBe(true);
    expect(await knows('key-a', a[0]?.taskUUID ?? '')).toBe(false);
  });
});

interface ImageObject {
  id: string;
  url: string | null;
}

function as(key: string, method: string, path: string, body?: unknown): ReturnType<typeof call> {
  return call(live().httpUrl, method, path, { key, ...(body === undefined ? {} : { body }) });
}

async function imagine(key: string): Promise<ImageObject> {
  const answer = await as(key, 'POST', '/v1/images/imagine', { name: 'n', prompt: 'a quiet harbour' });
  expect(answer.status, answer.text.slice(0, 300)).toBe(201);
  return answer.json as ImageObject;
}

describe('imagine images', () => {
  const keys = { apiKeys: ['key-a', 'key-b'] };

  it("keeps B's unpublished images while A makes many: past its share A loses its own oldest", async () => {
    server = await startTestServer({ ...keys, engine: fixedEngine(await solidPng(16, 16, '#225588')), limits: { maxImaginedImages: 4 } });
    const b = await imagine('key-b');
    const a = [];
    for (let i = 0; i < 5; i++) a.push(await imagine('key-a'));
    expect((await as('key-b', 'GET', `/v1/images/${b.id}`)).status).toBe(200);
    expect((await as('key-a', 'GET', `/v1/images/${a[0]?.id ?? ''}`)).status).toBe(404);
    expect((await as('key-a', 'GET', `/v1/images/${a[4]?.id ?? ''}`)).status).toBe(200);
  });

  it("does not let A take B's publish slots: A's share is refused with 507 naming it", async () => {
    server = await startTestServer({ ...keys, engine: fixedEngine(await solidPng(16, 16, '#225588')), limits: { maxPublishedImages: 4 } });
    const [a1, a2] = [await imagine('key-a'), await imagine('key-a')];
    expect((await as('key-a', 'POST', `/v1/images/${a1.id}/publish`)).status).toBe(200);
    const refused = await as('key-a', 'POST', `/v1/images/${a2.id}/publish`);
    expect(refused.status).toBe(507);
    const error = (refused.json as { error: { code: string; type: string; message: string } }).error;
    expect(error).toMatchObject({ code: 'publish_limit_reached', type: 'server_error' });
    expect(error.message).toContain('limits.maxPublishedImagesPerKey');
    const b = await imagine('key-b');
    expect((await as('key-b', 'POST', `/v1/images/${b.id}/publish`)).status).toBe(200);
  });

  it('expires published images after their lifetime, which frees the publish slot', async () => {
    server = await startTestServer({ ...keys, engine: fixedEngine(await solidPng(16, 16, '#225588')), limits: { maxPublishedImagesPerKey: 1, publishedImageLifetimeMs: 300 } });
    const [first, second] = [await imagine('key-a'), await imagine('key-a')];
    const published = (await as('key-a', 'POST', `/v1/images/${first.id}/publish`)).json as ImageObject;
    // Published with a lifetime: once it ends the image is gone for everyone and the slot is free.
    let status = 0;
    for (const deadline = Date.now() + 5_000; Date.now() < deadline && status !== 200; ) {
      status = (await as('key-a', 'POST', `/v1/images/${second.id}/publish`)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(200);
    expect(await statusOf(published.url ?? '')).toBe(404);
    expect((await as('key-a', 'GET', `/v1/images/${first.id}`)).status).toBe(404);
  });

  it('lets the owner delete an image (OpenAI-style answer), which frees its publish slot; for another key it does not exist', async () => {
    server = await startTestServer({ ...keys, engine: fixedEngine(await solidPng(16, 16, '#225588')), limits: { maxPublishedImagesPerKey: 1 } });
    const [first, second] = [await imagine('key-a'), await imagine('key-a')];
    const published = (await as('key-a', 'POST', `/v1/images/${first.id}/publish`)).json as ImageObject;
    expect((await as('key-a', 'POST', `/v1/images/${second.id}/publish`)).status).toBe(507);

    const stranger = await as('key-b', 'DELETE', `/v1/images/${first.id}`);
    expect(stranger.status).toBe(404);
    expect((stranger.json as { error: unknown }).error).toMatchObject({ type: 'invalid_request_error', param: 'id', code: 'image_not_found' });
    expect(await statusOf(published.url ?? '')).toBe(200);

    const deleted = await as('key-a', 'DELETE', `/v1/images/${first.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({ id: first.id, object: 'image', deleted: true });
    expect(await statusOf(published.url ?? '')).toBe(404);
    expect((await as('key-a', 'GET', `/v1/images/${first.id}`)).status).toBe(404);
    expect((await as('key-a', 'DELETE', `/v1/images/${first.id}`)).status).toBe(404);
    expect((await as('key-a', 'POST', `/v1/images/${second.id}/publish`)).status).toBe(200);
  });

  it('keeps an unpublished imagine image out of the image store that /images/ serves; generations still get /images/ URLs', async () => {
    const png = await solidPng(16, 16, '#225588');
    // Room for exactly one image: the imagine job's image, were it stored, would push out A's URL result.
    server = await startTestServer({ ...keys, engine: fixedEngine(png), limits: { maxStoredImageBytes: png.byteLength + 100, maxStoredImageBytesPerKey: png.byteLength + 100 } });
    const result = await runTask('key-a', { outputType: 'URL' });
    expect(await statusOf(result.imageURL)).toBe(200);
    await imagine('key-a');
    expect(await statusOf(result.imageURL)).toBe(200);

    const generated = await as('key-a', 'POST', '/v1/images/generations', { prompt: 'a red kite', response_format: 'url' });
    expect(generated.status).toBe(200);
    const url = (generated.json as { data: { url: string }[] }).data[0]?.url ?? '';
    expect(url).toMatch(/\/images\/[0-9a-f-]{36}\.png$/);
    expect(await statusOf(url)).toBe(200);
  });
});

describe('default shares', () => {
  /** A limit's default as docs/server.md writes it. */
  const written = (name: keyof ServerLimits): string => {
    const value = defaultLimits[name];
    if (name.endsWith('Ms')) return value % 3_600_000 === 0 ? `${value / 3_600_000} h` : `${value} ms`;
    if (name.includes('Bytes')) return `${value / (1024 * 1024)} MiB`;
    return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  };

  it('gives each key a quarter of every store bound unless told otherwise, as docs/server.md says', () => {
    expect(perKeyShare).toBe(0.25);
    expect(defaultLimits).toMatchObject({
      maxHeldSessionsPerKey: 2_500,
      maxHeldBytesPerKey: 128 * 1024 * 1024,
      maxStoredImageBytesPerKey: 256 * 1024 * 1024,
      maxTaskRecordsPerKey: 25_000,
      maxPublishedImagesPerKey: 64,
      maxImaginedImagesPerKey: 32,
      publishedImageLifetimeMs: 24 * 60 * 60 * 1000,
    });
    for (const [perKey, total] of Object.entries(perKeyLimits) as [keyof typeof perKeyLimits, keyof ServerLimits][]) {
      expect(defaultLimits[perKey]).toBe(defaultLimits[total] * perKeyShare);
    }
    expect(resolveLimits()).toEqual(defaultLimits);
    // A share follows its total unless given.
    expect(resolveLimits({ maxTaskRecords: 1_000 }).maxTaskRecordsPerKey).toBe(250);
    expect(resolveLimits({ maxTaskRecords: 1_000, maxTaskRecordsPerKey: 900 }).maxTaskRecordsPerKey).toBe(900);

    const docs = readFileSync(new URL('../../docs/server.md', import.meta.url), 'utf8');
    for (const name of [...Object.keys(perKeyLimits), 'publishedImageLifetimeMs'] as (keyof ServerLimits)[]) {
      const row = new RegExp(`^\\| \`${name}\` \\| ([^|]+) \\|`, 'm').exec(docs);
      expect(row?.[1]?.trim(), name).toBe(`${written(name)}${name === 'publishedImageLifetimeMs' ? '' : ` (¼ of \`${perKeyLimits[name as keyof typeof perKeyLimits]}\`)`}`);
    }
  });
});
