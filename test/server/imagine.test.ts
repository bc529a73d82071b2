// The imagine endpoint: POST /v1/images/imagine answers the documented Image object; images belong
// to their key; publish fills `url`, whose PNG anyone can fetch; the store's bounds.
import { afterEach, describe, expect, it } from 'vitest';
import { imaginePreset, lookModels } from '../../src/server/openai/model-presets.js';
import { call, pngSize, recordingEngine } from '../helpers/images-api.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface ImageObject {
  id: string;
  name: string;
  url: string | null;
  width: number;
  height: number;
  format: string;
  size: number;
  created_at: string;
}

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function start(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  server = await startTestServer({ apiKeys: ['key-a', 'key-b'], ...options });
  return server;
}

function as(key: string, method: string, path: string, body?: unknown): ReturnType<typeof call> {
  if (server === undefined) throw new Error('no server');
  return call(server.httpUrl, method, path, { key, ...(body === undefined ? {} : { body }) });
}

async function imagine(key: string, body: Record<string, unknown>): Promise<ImageObject> {
  const answer = await as(key, 'POST', '/v1/images/imagine', body);
  expect(answer.status, answer.text.slice(0, 300)).toBe(201);
  return answer.json as ImageObject;
}

describe('POST /v1/images/imagine', () => {
  it('answers the documented Image object, key for key', async () => {
    await start();
    const before = Date.now();
    const image = await imagine('key-a', { name: 'cat', prompt: 'a ginger cat on a windowsill', negative_prompt: 'blurry', seed: 7 });
    expect(Object.keys(image)).toEqual(['id', 'name', 'url', 'width', 'height', 'format', 'size', 'created_at']);
    expect(image.id).toMatch(/^image_[0-9a-f]{32}$/);
    expect(image).toMatchObject({ name: 'cat', url: null, width: 1024, height: 1024, format: 'png' });
    expect(Number.isInteger(image.size)).toBe(true);
    expect(image.size).toBeGreaterThan(1_000);
    expect(image.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const created = Date.parse(image.created_at);
    expect(created).toBeGreaterThanOrEqual(before - 1);
    expect(created).toBeLessThanOrEqual(Date.now());
  });

  it('runs the few-step preset at 1024x1024, seeded as asked', async () => {
    const engine = recordingEngine();
    await start({ engine });
    await imagine('key-a', { name: 'n', prompt: 'a red kite', seed: 123 });
    expect(engine.requests.at(-1)).toMatchObject({
      width: 1024,
      height: 1024,
      steps: imaginePreset.steps,
      CFGScale: imaginePreset.guidance,
      model: lookModels[imaginePreset.look],
      seed: 123,
      numberResults: 1,
      outputFormat: 'PNG',
    });
    expect(imaginePreset.steps).toBeLessThanOrEqual(8);
  });

  it('gives the same bytes for the same seed, other bytes for another', async () => {
    await start();
    const publishAndFetch = async (image: ImageObject): Promise<Buffer> => {
      const published = (await as('key-a', 'POST', `/v1/images/${image.id}/publish`)).json as ImageObject;
      return Buffer.from(await (await fetch(published.url ?? '')).arrayBuffer());
    };
    const a = await publishAndFetch(await imagine('key-a', { name: 'x', prompt: 'a green field', seed: 5 }));
    const b = await publishAndFetch(await imagine('key-a', { name: 'x', prompt: 'a green field', seed: 5 }));
    const c = await publishAndFetch(await imagine('key-a', { name: 'x', prompt: 'a green field', seed: 6 }));
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it('keeps names non-unique and ids unique', async () => {
    await start();
    const first = await imagine('key-a', { name: 'same', prompt: 'one thing' });
    const second = await imagine('key-a', { name: 'same', prompt: 'one thing' });
    expect(first.name).toBe(second.name);
    expect(first.id).not.toBe(second.id);
  });

  it.each([
    ['a missing name', { prompt: 'a cat' }, 'name', 'missing_required_parameter'],
    ['a blank name', { name: '  ', prompt: 'a cat' }, 'name', 'invalid_value'],
    ['a missing prompt', { name: 'cat' }, 'prompt', 'missing_required_parameter'],
    ['a prompt that is a number', { name: 'cat', prompt: 3 }, 'prompt', 'invalid_type'],
    ['a fractional seed', { name: 'cat', prompt: 'a cat', seed: 1.5 }, 'seed', 'invalid_value'],
    ['a seed of letters', { name: 'cat', prompt: 'a cat', seed: 'abc' }, 'seed', 'invalid_value'],
    ['a negative_prompt that is an object', { name: 'cat', prompt: 'a cat', negative_prompt: {} }, 'negative_prompt', 'invalid_type'],
    ['an unknown parameter', { name: 'cat', prompt: 'a cat', model: 'sdxl' }, 'model', 'unknown_parameter'],
  ])('answers %s with 400 naming the parameter', async (_name, body, param, code) => {
    await start();
    const answer = await as('key-a', 'POST', '/v1/images/imagine', body);
    expect(answer.status).toBe(400);
    expect((answer.json as ErrorBody).error).toEqual({ message: expect.any(String) as string, type: 'invalid_request_error', param, code });
  });

  it('answers 401 without a key', async () => {
    const s = await start();
    const answer = await call(s.httpUrl, 'POST', '/v1/images/imagine', { body: { name: 'a', prompt: 'a cat' } });
    expect(answer.status).toBe(401);
    expect((answer.json as ErrorBody).error.code).toBe('missing_api_key');
  });
});

describe('ownership, reading and publishing', () => {
  it('lets only the key that made an image read or publish it', async () => {
    await start();
    const image = await imagine('key-a', { name: 'mine', prompt: 'a quiet harbour' });
    const read = await as('key-a', 'GET', `/v1/images/${image.id}`);
    expect(read.status).toBe(200);
    expect(read.json).toEqual(image);

    const otherRead = await as('key-b', 'GET', `/v1/images/${image.id}`);
    expect(otherRead.status).toBe(404);
    expect((otherRead.json as ErrorBody).error).toMatchObject({ type: 'invalid_request_error', code: 'image_not_found' });
    const otherPublish = await as('key-b', 'POST', `/v1/images/${image.id}/publish`);
    expect(otherPublish.status).toBe(404);
    expect(((await as('key-a', 'GET', `/v1/images/${image.id}`)).json as ImageObject).url).toBeNull();

    const unknown = await as('key-a', 'GET', '/v1/images/image_00000000000000000000000000000000');
    expect(unknown.status).toBe(404);
  });

  it('publishes: url filled, the PNG served to anyone, publishing again changes nothing', async () => {
    const s = await start();
    const image = await imagine('key-a', { name: 'public', prompt: 'a mountain lake at dawn' });
    const publicPath = `/public/images/${image.id}.png`;
    expect((await call(s.httpUrl, 'GET', publicPath)).status).toBe(404);

    const answer = await as('key-a', 'POST', `/v1/images/${image.id}/publish`);
    expect(answer.status).toBe(200);
    const published = answer.json as ImageObject;
    expect(Object.keys(published)).toEqual(['id', 'name', 'url', 'width', 'height', 'format', 'size', 'created_at']);
    expect(published).toEqual({ ...image, url: `${s.httpUrl}${publicPath}` });

    // No Authorization header: public.
    const response = await fetch(published.url ?? '');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(bytes.byteLength).toBe(image.size);
    expect(pngSize(bytes)).toEqual({ width: 1024, height: 1024 });

    expect((await as('key-a', 'POST', `/v1/images/${image.id}/publish`)).json).toEqual(published);
    expect((await as('key-a', 'GET', `/v1/images/${image.id}`)).json).toEqual(published);
    expect((await call(s.httpUrl, 'HEAD', publicPath)).status).toBe(200);
    expect((await call(s.httpUrl, 'POST', publicPath)).status).toBe(405);
  });

  it('answers wrong methods with 405 and Allow', async () => {
    await start();
    const image = await imagine('key-a', { name: 'n', prompt: 'a cat' });
    const get = await as('key-a', 'GET', `/v1/images/${image.id}/publish`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const post = await as('key-a', 'POST', `/v1/images/${image.id}`, {});
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, DELETE');
    expect((await as('key-a', 'GET', '/v1/images/imagine')).status).toBe(405);
  });

  it('forgets images on a restart without keepState, keeps them with it', async () => {
    const s = await start();
    const image = await imagine('key-a', { name: 'n', prompt: 'a cat' });
    const url = ((await as('key-a', 'POST', `/v1/images/${image.id}/publish`)).json as ImageObject).url ?? '';
    // A restart closes kept-alive connections; a request that raced it is sent again.
    const get = (target: string): Promise<Response> => fetch(target).catch(() => fetch(target));
    await s.restart({ keepState: true });
    expect((await get(url)).status).toBe(200);
    await s.restart();
    expect((await get(url)).status).toBe(404);
    expect((await as('key-a', 'GET', `/v1/images/${image.id}`)).status).toBe(404);
  });
});

describe('the publish limit over HTTP', () => {
  it('answers 507 publish_limit_reached once limits.maxPublishedImages images are public', async () => {
    server = await startTestServer({ apiKeys: ['key-a'], limits: { maxPublishedImages: 1, maxImaginedImages: 4, maxImaginedImagesPerKey: 4 } });
    const base = server.httpUrl;
    const make = async (): Promise<ImageObject> => (await call(base, 'POST', '/v1/images/imagine', { key: 'key-a', body: { name: 'n', prompt: 'a cat' } })).json as ImageObject;
    const first = await make();
    const second = await make();
    expect((await call(base, 'POST', `/v1/images/${first.id}/publish`, { key: 'key-a' })).status).toBe(200);
    const refused = await call(base, 'POST', `/v1/images/${second.id}/publish`, { key: 'key-a' });
    expect(refused.status).toBe(507);
    expect((refused.json as ErrorBody).error).toMatchObject({ type: 'server_error', code: 'publish_limit_reached' });
    expect((refused.json as ErrorBody).error.message).toContain('at most 1 published');
    // The first one is still served.
    expect((await fetch(`${base}/public/images/${first.id}.png`)).status).toBe(200);
  });
});
