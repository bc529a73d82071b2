// The OpenAI-style images API: POST /v1/images/generations and /v1/images/edits (JSON and multipart,
// JSON answers and server-sent events), GET /v1/models, its errors, and the official openai package
// as a real client.
import OpenAI, { toFile } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { modelPresets, seedOffset } from '../../src/server/openai/model-presets.js';
import { previewSteps } from '../../src/protocol/index.js';
import { call, fromDataUri, meanColour, meanDifference, parseEventStream, pixels, pngSize, recordingEngine, solidPng } from '../helpers/images-api.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const KEY = 'key-a';

async function start(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  server = await startTestServer({ apiKeys: [KEY], ...options });
  return server;
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): ReturnType<typeof call> {
  if (server === undefined) throw new Error('no server');
  return call(server.httpUrl, 'POST', path, { key: KEY, body, headers });
}

interface ImagesBody {
  created: number;
  data: { b64_json: string | null; url: string }[];
}

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** The decoded first image of a generations answer. */
async function firstImage(body: Record<string, unknown>, path = '/v1/images/generations'): Promise<Buffer> {
  const answer = await post(path, { stream: false, ...body });
  expect(answer.status, answer.text.slice(0, 300)).toBe(200);
  const uri = (answer.json as ImagesBody).data[0]?.b64_json;
  if (typeof uri !== 'string') throw new Error('no b64_json');
  return fromDataUri(uri).bytes;
}

describe('POST /v1/images/generations', () => {
  it('answers exactly the documented shape: {created, data:[{b64_json: data URI, url}]}', async () => {
    await start();
    const before = Math.floor(Date.now() / 1000);
    const answer = await post('/v1/images/generations', { prompt: 'A serene landscape at sunset', negative_prompt: 'blur, darkness, distortion', n: 1, size: '512x512' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = answer.json as ImagesBody;
    expect(Object.keys(body)).toEqual(['created', 'data']);
    expect(Number.isInteger(body.created)).toBe(true);
    expect(body.created).toBeGreaterThanOrEqual(before);
    expect(body.created).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(body.data).toHaveLength(1);
    const entry = body.data[0];
    expect(Object.keys(entry ?? {})).toEqual(['b64_json', 'url']);
    expect(entry?.b64_json).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    const png = fromDataUri(entry?.b64_json ?? '');
    expect(png.mediaType).toBe('image/png');
    expect(pngSize(png.bytes)).toEqual({ width: 512, height: 512 });
    // The url serves the very same bytes.
    const served = await fetch(entry?.url ?? '');
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer())).toEqual(png.bytes);
  });

  it.each([
    ['size 256x256', { size: '256x256' }, 1, 256],
    ['size default 512x512', {}, 1, 512],
    ['n 3', { n: 3, size: '256x256' }, 3, 256],
    ['n null means the default 1', { n: null, size: '256x256' }, 1, 256],
  ])('%s', async (_name, params, count, side) => {
    await start();
    const answer = await post('/v1/images/generations', { prompt: 'a red fox in the snow', seed: 7, ...params });
    const body = answer.json as ImagesBody;
    expect(body.data).toHaveLength(count);
    const images = body.data.map((entry) => fromDataUri(entry.b64_json ?? '').bytes);
    for (const image of images) expect(pngSize(image)).toEqual({ width: side, height: side });
    expect(new Set(images.map((image) => image.toString('base64'))).size).toBe(count);
  });

  it('response_format url leaves b64_json null and serves the image at url', async () => {
    await start();
    const answer = await post('/v1/images/generations', { prompt: 'a blue whale', size: '256x256', response_format: 'url', seed: 3 });
    const entry = (answer.json as ImagesBody).data[0];
    expect(Object.keys(entry ?? {})).toEqual(['b64_json', 'url']);
    expect(entry?.b64_json).toBeNull();
    expect(entry?.url).toMatch(new RegExp(`^${server?.httpUrl}/images/[0-9a-f-]{36}\\.png$`));
    const bytes = new Uint8Array(await (await fetch(entry?.url ?? '')).arrayBuffer());
    expect(pngSize(bytes)).toEqual({ width: 256, height: 256 });
    expect(Buffer.from(bytes)).toEqual(await firstImage({ prompt: 'a blue whale', size: '256x256', seed: 3 }));
  });

  it('takes the seed as a string or a number, and the same seed gives the same image', async () => {
    await start();
    const asString = await firstImage({ prompt: 'a lighthouse at night', size: '256x256', seed: '12345' });
    const asNumber = await firstImage({ prompt: 'a lighthouse at night', size: '256x256', seed: 12345 });
    const other = await firstImage({ prompt: 'a lighthouse at night', size: '256x256', seed: '12346' });
    expect(asString).toEqual(asNumber);
    expect(other).not.toEqual(asString);
    const random1 = await firstImage({ prompt: 'a lighthouse at night', size: '256x256' });
    const random2 = await firstImage({ prompt: 'a lighthouse at night', size: '256x256' });
    expect(random1).not.toEqual(random2);
  });

  it('runs each model with its preset: default steps and guidance, its look, its own seed space', async () => {
    const engine = recordingEngine();
    await start({ engine });
    for (const preset of modelPresets) {
      await post('/v1/images/generations', { prompt: 'a castle on a hill', model: preset.id, size: '256x256', seed: 99 });
      const request = engine.requests.at(-1);
      expect(request, preset.id).toMatchObject({ steps: preset.steps, CFGScale: preset.guidance, seed: 99 + seedOffset(preset.id), width: 256, height: 256, numberResults: 1 });
    }
    // The default model is dreamshaperv7.
    await post('/v1/images/generations', { prompt: 'a castle on a hill', size: '256x256', seed: 99 });
    expect(engine.requests.at(-1)).toMatchObject({ steps: 25, CFGScale: 7, seed: 99 + seedOffset('dreamshaperv7') });
    // Explicit steps, guidance_scale, n and negative_prompt win over the preset.
    await post('/v1/images/generations', { prompt: 'a castle on a hill', model: 'sd_turbo_or', steps: 9, guidance_scale: 12.5, n: 2, negative_prompt: 'fog', size: '256x256' });
    expect(engine.requests.at(-1)).toMatchObject({ steps: 9, CFGScale: 12.5, numberResults: 2, negativePrompt: 'fog' });
  });

  it('gives visibly different images for the same prompt and seed under every pair of models', async () => {
    await start();
    const images = new Map<string, Buffer>();
    for (const preset of modelPresets) images.set(preset.id, await firstImage({ prompt: 'a serene landscape at sunset', model: preset.id, size: '256x256', seed: '42' }));
    const ids = [...images.keys()];
    let closest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const difference = await meanDifference(images.get(ids[i] ?? '') ?? Buffer.alloc(0), images.get(ids[j] ?? '') ?? Buffer.alloc(0));
        closest = Math.min(closest, difference);
      }
    }
    // Mean absolute difference per channel value, out of 255: well above encoder noise.
    expect(closest).toBeGreaterThan(10);
  });

  it('style overrides the look of the model: poster is posterized to a few levels per channel', async () => {
    await start();
    const levels = async (bytes: Uint8Array): Promise<number> => {
      const { data } = await pixels(bytes);
      const red = new Set<number>();
      for (let i = 0; i < data.length; i += 3) red.add(data[i] ?? 0);
      return red.size;
    };
    const plain = await firstImage({ prompt: 'red and blue kite', model: 'realistic_vision_6', size: '256x256', seed: 5 });
    const poster = await firstImage({ prompt: 'red and blue kite', model: 'realistic_vision_6', size: '256x256', seed: 5, style: 'poster' });
    expect(await levels(poster)).toBeLessThanOrEqual(6);
    expect(await levels(plain)).toBeGreaterThan(20);
  });

  it('accepts the boundaries: a 1000-character prompt, n 10, steps 1, guidance 0 and 30', async () => {
    await start();
    const long = await post('/v1/images/generations', { prompt: 'a'.repeat(998) + ' b', size: '256x256', steps: 1 });
    expect(long.status).toBe(200);
    const ten = await post('/v1/images/generations', { prompt: 'tiny dots', size: '256x256', n: 10, steps: 1, guidance_scale: 0 });
    expect((ten.json as ImagesBody).data).toHaveLength(10);
    expect((await post('/v1/images/generations', { prompt: 'tiny dots', size: '256x256', steps: 1, guidance_scale: 30 })).status).toBe(200);
  });
});

describe('errors', () => {
  const generation = { prompt: 'a red fox' };
  it.each([
    ['a missing prompt', {}, 'prompt', 'missing_required_parameter'],
    ['an empty prompt', { prompt: '' }, 'prompt', 'invalid_value'],
    ['a prompt of white space', { prompt: '    ' }, 'prompt', 'invalid_value'],
    ['a 1001-character prompt', { prompt: 'a'.repeat(1001) }, 'prompt', 'invalid_value'],
    ['a prompt that is a number', { prompt: 5 }, 'prompt', 'invalid_type'],
    ['an unknown model', { ...generation, model: 'dall-e-3' }, 'model', 'model_not_found'],
    ['n 0', { ...generation, n: 0 }, 'n', 'invalid_value'],
    ['n 11', { ...generation, n: 11 }, 'n', 'invalid_value'],
    ['n 1.5', { ...generation, n: 1.5 }, 'n', 'invalid_value'],
    ['n as a string', { ...generation, n: '2' }, 'n', 'invalid_type'],
    ['size 1024x1024', { ...generation, size: '1024x1024' }, 'size', 'invalid_value'],
    ['response_format png', { ...generation, response_format: 'png' }, 'response_format', 'invalid_value'],
    ['a seed of letters', { ...generation, seed: 'abc' }, 'seed', 'invalid_value'],
    ['a negative seed', { ...generation, seed: -1 }, 'seed', 'invalid_value'],
    ['a fractional seed', { ...generation, seed: 1.5 }, 'seed', 'invalid_value'],
    ['guidance_scale 31', { ...generation, guidance_scale: 31 }, 'guidance_scale', 'invalid_value'],
    ['guidance_scale as text', { ...generation, guidance_scale: 'high' }, 'guidance_scale', 'invalid_type'],
    ['steps 0', { ...generation, steps: 0 }, 'steps', 'invalid_value'],
    ['steps 101', { ...generation, steps: 101 }, 'steps', 'invalid_value'],
    ['stream "yes"', { ...generation, stream: 'yes' }, 'stream', 'invalid_type'],
    ['an unknown style', { ...generation, style: 'cubism' }, 'style', 'invalid_value'],
    ['a one-character negative_prompt', { ...generation, negative_prompt: 'x' }, 'negative_prompt', 'invalid_value'],
    ['a negative_prompt that is a list', { ...generation, negative_prompt: ['blur'] }, 'negative_prompt', 'invalid_type'],
    ['partial_images 4', { ...generation, partial_images: 4 }, 'partial_images', 'invalid_value'],
    ['an unknown parameter', { ...generation, quality: 'hd' }, 'quality', 'unknown_parameter'],
    ['an image given to generations', { ...generation, image: 'AAAA' }, 'image', 'unknown_parameter'],
  ])('answers %s on generations with 400 naming the parameter', async (_name, body, param, code) => {
    await start();
    const answer = await post('/v1/images/generations', body);
    expect(answer.status).toBe(400);
    const error = (answer.json as ErrorBody).error;
    expect(Object.keys(answer.json as object)).toEqual(['error']);
    expect(Object.keys(error)).toEqual(['message', 'type', 'param', 'code']);
    expect(error).toMatchObject({ type: 'invalid_request_error', param, code });
    expect(error.message.length).toBeGreaterThan(5);
  });

  it.each([
    ['a missing image', { prompt: 'snow', image: null }, 'image', 'missing_required_parameter'],
    ['an image that is not base64', { prompt: 'snow', image: 'not base64 at all!' }, 'image', 'invalid_image'],
    ['base64 that is not an image', { prompt: 'snow', image: Buffer.from('hello, world').toString('base64') }, 'image', 'invalid_image'],
    ['a data URI that is not base64', { prompt: 'snow', image: 'data:image/png,abc' }, 'image', 'invalid_image'],
    ['an image that is a number', { prompt: 'snow', image: 42 }, 'image', 'invalid_type'],
    ['a PNG that cannot be decoded', { prompt: 'snow', image: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]).toString('base64') }, 'image', 'invalid_image'],
    ['two images', { prompt: 'snow', image: ['AAAA', 'AAAA'] }, 'image', 'invalid_value'],
    ['strength 1.5', { prompt: 'snow', strength: 1.5 }, 'strength', 'invalid_value'],
  ])('answers %s on edits with 400 naming the parameter', async (_name, body, param, code) => {
    await start();
    const image = (await solidPng(64, { r: 0, g: 0, b: 255 })).toString('base64');
    const answer = await post('/v1/images/edits', { image, ...body, stream: false });
    expect(answer.status).toBe(400);
    expect((answer.json as ErrorBody).error).toMatchObject({ type: 'invalid_request_error', param, code });
  });

  it('answers a body that is not a JSON object with 400', async () => {
    await start();
    for (const body of ['{"prompt":', '[{"prompt":"x"}]', '"prompt"', 'null']) {
      const answer = await post('/v1/images/generations', body, { 'content-type': 'application/json' });
      expect(answer.status, body).toBe(400);
      expect((answer.json as ErrorBody).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json', param: null });
    }
  });

  it('answers 401 without a key or with a bad one, and never shows the key', async () => {
    const s = await start();
    const none = await call(s.httpUrl, 'POST', '/v1/images/generations', { body: { prompt: 'a fox' } });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((none.json as ErrorBody).error).toMatchObject({ type: 'invalid_request_error', code: 'missing_api_key', param: null });
    const bad = await call(s.httpUrl, 'POST', '/v1/images/generations', { key: 'sk-wrong-secret-123', body: { prompt: 'a fox' } });
    expect(bad.status).toBe(401);
    expect((bad.json as ErrorBody).error).toMatchObject({ code: 'invalid_api_key' });
    expect(bad.text).not.toContain('sk-wrong-secret-123');
    const models = await call(s.httpUrl, 'GET', '/v1/models');
    expect(models.status).toBe(401);
    expect(s.logs.text()).not.toContain('sk-wrong-secret-123');
    expect(s.logs.text()).not.toContain(KEY);
  });

  it('answers 404 for unknown paths and 405 (with Allow) for wrong methods, in the error shape', async () => {
    const s = await start();
    const unknown = await call(s.httpUrl, 'POST', '/v1/images/variations/extra', { key: KEY, body: {} });
    expect(unknown.status).toBe(404);
    expect((unknown.json as ErrorBody).error).toMatchObject({ type: 'invalid_request_error', code: 'unknown_url' });
    const wrong = await call(s.httpUrl, 'GET', '/v1/images/generations', { key: KEY });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((wrong.json as ErrorBody).error).toMatchObject({ code: 'method_not_allowed' });
    const model = await call(s.httpUrl, 'GET', '/v1/models/dall-e-3', { key: KEY });
    expect(model.status).toBe(404);
    expect((model.json as ErrorBody).error).toMatchObject({ param: 'model', code: 'model_not_found' });
  });

  it('answers 413 for a body over maxFrameBytes', async () => {
    await start({ limits: { maxFrameBytes: 2_000 } });
    const answer = await post('/v1/images/edits', { prompt: 'snow', image: 'A'.repeat(5_000) });
    expect(answer.status).toBe(413);
    expect((answer.json as ErrorBody).error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
  });

  it('answers 500 server_error when the engine fails, without the cause', async () => {
    const base = recordingEngine();
    const engine: Engine = {
      ...base,
      generate: () => {
        throw new Error('GPU on fire: secret detail');
      },
    };
    const s = await start({ engine });
    const answer = await post('/v1/images/generations', { prompt: 'a fox' });
    expect(answer.status).toBe(500);
    expect((answer.json as ErrorBody).error).toMatchObject({ type: 'server_error', code: 'internal_server_error' });
    expect(answer.text).not.toContain('GPU on fire');
    expect(s.logs.text()).toContain('GPU on fire');
  });

  it('keeps serving after bad input of every kind', async () => {
    const s = await start();
    const bodies: unknown[] = ['', '{', '{}', '[]', '{"prompt":{"a":1}}', '{"__proto__":{"n":5},"prompt":"ab"}', JSON.stringify({ prompt: 'x'.repeat(100_000) }), '\u0000\u0001'];
    for (const body of bodies) {
      for (const path of ['/v1/images/generations', '/v1/images/edits', '/v1/images/imagine']) {
        for (const contentType of ['application/json', 'multipart/form-data; boundary=x', 'text/plain']) {
          const answer = await post(path, body, { 'content-type': contentType });
          expect(answer.status, `${path} ${contentType} ${String(body).slice(0, 20)}`).toBeGreaterThanOrEqual(400);
          expect(answer.status).toBeLessThan(500);
          expect(Object.keys((answer.json as ErrorBody).error)).toEqual(['message', 'type', 'param', 'code']);
        }
      }
    }
    expect((await call(s.httpUrl, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers requests still running at close() with 503', async () => {
    const engine = createGateEngine();
    const s = await start({ engine });
    const pending = post('/v1/images/generations', { prompt: 'a fox', size: '256x256' });
    await engine.waiting(1);
    await s.close();
    const answer = await pending;
    expect(answer.status).toBe(503);
    expect((answer.json as ErrorBody).error).toMatchObject({ type: 'server_error', code: 'server_shutting_down' });
  });

  it('cancels the task when the client goes away', async () => {
    const engine = createGateEngine();
    const s = await start({ engine });
    const controller = new AbortController();
    const pending = fetch(`${s.httpUrl}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a fox', size: '256x256' }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await engine.waiting(1);
    controller.abort();
    await pending;
    await engine.aborted(0);
    expect(engine.signals[0]?.aborted).toBe(true);
    expect(s.stats().tasksRunning).toBe(0);
  });
});

describe('POST /v1/images/edits', () => {
  it('takes the image as base64 or a data URI and blends it by strength', async () => {
    await start();
    const red = await solidPng(512, { r: 255, g: 0, b: 0 });
    const base = { prompt: 'green meadow', size: '256x256', seed: 8, stream: false };
    const kept = await firstImage({ ...base, image: red.toString('base64'), strength: 0 }, '/v1/images/edits');
    const viaUri = await firstImage({ ...base, image: `data:image/png;base64,${red.toString('base64')}`, strength: 0 }, '/v1/images/edits');
    const ignored = await firstImage({ ...base, image: red.toString('base64'), strength: 1 }, '/v1/images/edits');
    const half = await firstImage({ ...base, image: red.toString('base64') }, '/v1/images/edits');
    expect(pngSize(kept)).toEqual({ width: 256, height: 256 });
    expect(kept).toEqual(viaUri);
    const [r, g, b] = await meanColour(kept);
    expect(r).toBeGreaterThan(240);
    expect(g + b).toBeLessThan(20);
    expect((await meanColour(ignored))[0]).toBeLessThan(200);
    // The default strength 0.8 keeps a fifth of the red.
    const halfRed = (await meanColour(half))[0];
    expect(halfRed).toBeGreaterThan((await meanColour(ignored))[0]);
    expect(halfRed).toBeLessThan(r);
  });

  it('streams by default, as documented, unless the client accepts only JSON', async () => {
    await start();
    const image = (await solidPng(64, { r: 0, g: 0, b: 255 })).toString('base64');
    const streamed = await post('/v1/images/edits', { prompt: 'Add snow to the landscape', image, negative_prompt: 'blur, artifacts', strength: 0.7, size: '256x256' });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(parseEventStream(streamed.text).map((event) => event.event).at(-1)).toBe('image_edit.completed');
    const json = await post('/v1/images/edits', { prompt: 'Add snow to the landscape', image, size: '256x256' }, { accept: 'application/json' });
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Object.keys(json.json as object)).toEqual(['created', 'data']);
  });

  it('accepts multipart/form-data with the image as a file, numbers and booleans as text', async () => {
    await start();
    const red = await solidPng(128, { r: 255, g: 0, b: 0 });
    const form = new FormData();
    form.append('prompt', 'green meadow');
    form.append('image', new Blob([new Uint8Array(red)], { type: 'image/png' }), 'red.png');
    form.append('strength', '0');
    form.append('n', '2');
    form.append('size', '256x256');
    form.append('stream', 'false');
    form.append('seed', '8');
    const answer = await post('/v1/images/edits', form);
    expect(answer.status, answer.text.slice(0, 200)).toBe(200);
    const body = answer.json as ImagesBody;
    expect(body.data).toHaveLength(2);
    expect((await meanColour(fromDataUri(body.data[0]?.b64_json ?? '').bytes))[0]).toBeGreaterThan(240);
    const bad = new FormData();
    bad.append('prompt', 'green meadow');
    bad.append('image', new Blob([new Uint8Array(red)], { type: 'image/png' }), 'red.png');
    bad.append('n', 'two');
    const refused = await post('/v1/images/edits', bad);
    expect(refused.status).toBe(400);
    expect((refused.json as ErrorBody).error).toMatchObject({ param: 'n', code: 'invalid_type' });
  });
});

describe('streaming', () => {
  it('picks partial steps spread evenly, never the last', () => {
    expect(previewSteps(25, 3)).toEqual([6, 13, 19]);
    expect(previewSteps(4, 3)).toEqual([1, 2, 3]);
    expect(previewSteps(2, 3)).toEqual([1]);
    expect(previewSteps(1, 3)).toEqual([]);
    expect(previewSteps(25, 0)).toEqual([]);
  });

  it('sends partial images, then the completed image, for each image in turn', async () => {
    await start();
    const answer = await post('/v1/images/generations', { prompt: 'a serene landscape at sunset', size: '256x256', n: 2, seed: 4, stream: true });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(answer.headers.get('cache-control')).toBe('no-cache');
    const events = parseEventStream(answer.text);
    const kinds = events.map((event) => event.event);
    const run = ['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed'];
    expect(kinds).toEqual([...run, ...run]);
    const partials = events.filter((event) => event.event.endsWith('partial_image')).map((event) => event.data as Record<string, unknown>);
    expect(partials.map((data) => data.partial_image_index)).toEqual([0, 1, 2, 0, 1, 2]);
    for (const data of partials) {
      expect(Object.keys(data)).toEqual(['type', 'b64_json', 'created_at', 'size', 'quality', 'background', 'output_format', 'partial_image_index']);
      expect(data).toMatchObject({ type: 'image_generation.partial_image', size: '256x256', quality: 'auto', background: 'opaque', output_format: 'jpeg' });
      const jpeg = fromDataUri(String(data.b64_json));
      expect(jpeg.mediaType).toBe('image/jpeg');
      expect(await pixels(jpeg.bytes)).toMatchObject({ width: 256, height: 256 });
    }
    const completed = events.filter((event) => event.event.endsWith('completed')).map((event) => event.data as Record<string, unknown>);
    for (const data of completed) {
      expect(Object.keys(data)).toEqual(['type', 'b64_json', 'created_at', 'size', 'quality', 'background', 'output_format', 'usage']);
      expect(data).toMatchObject({ type: 'image_generation.completed', output_format: 'png', usage: { input_tokens: 0, input_tokens_details: { image_tokens: 0, text_tokens: 0 }, output_tokens: 0, total_tokens: 0 } });
      expect(Number.isInteger(data.created_at)).toBe(true);
    }
    // The finals are the images the JSON answer gives for the same request.
    const plain = (await post('/v1/images/generations', { prompt: 'a serene landscape at sunset', size: '256x256', n: 2, seed: 4 })).json as ImagesBody;
    expect(completed.map((data) => data.b64_json)).toEqual(plain.data.map((entry) => entry.b64_json));
    // Partials converge on the final: the last one is closer to it than the first.
    const final = fromDataUri(String(completed[0]?.b64_json)).bytes;
    const first = await meanDifference(fromDataUri(String(partials[0]?.b64_json)).bytes, final);
    const last = await meanDifference(fromDataUri(String(partials[2]?.b64_json)).bytes, final);
    expect(last).toBeLessThan(first);
  });

  it('honours partial_images, and a one-step model has nothing partial to show', async () => {
    await start();
    const count = async (body: Record<string, unknown>): Promise<string[]> =>
      parseEventStream((await post('/v1/images/generations', { prompt: 'a fox', size: '256x256', stream: true, ...body })).text).map((event) => event.event);
    expect(await count({ partial_images: 0 })).toEqual(['image_generation.completed']);
    expect(await count({ partial_images: 1 })).toEqual(['image_generation.partial_image', 'image_generation.completed']);
    expect(await count({ steps: 1 })).toEqual(['image_generation.completed']);
  });

  it('answers an error found before any event as a plain JSON error', async () => {
    await start();
    const answer = await post('/v1/images/generations', { prompt: 'a fox', stream: true, n: 99 });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('ends the stream with an error event when the engine fails after the first event', async () => {
    const base = recordingEngine();
    const engine: Engine = {
      ...base,
      async *generate(request, options) {
        for await (const event of base.generate(request, options)) {
          yield event;
          if (event.kind === 'final') throw new Error('engine fell over');
        }
      },
    };
    await start({ engine });
    const answer = await post('/v1/images/generations', { prompt: 'a fox', size: '256x256', n: 2, stream: true, partial_images: 0 });
    const events = parseEventStream(answer.text);
    expect(events.map((event) => event.event)).toEqual(['image_generation.completed', 'error']);
    expect(events[1]?.data).toEqual({ type: 'error', error: { message: expect.any(String) as string, type: 'server_error', param: null, code: 'internal_server_error' } });
  });
});

describe('GET /v1/models', () => {
  it('lists the sixteen model ids in the OpenAI list shape', async () => {
    const s = await start();
    const answer = await call(s.httpUrl, 'GET', '/v1/models', { key: KEY });
    expect(answer.status).toBe(200);
    const body = answer.json as { object: string; data: Record<string, unknown>[] };
    expect(Object.keys(body)).toEqual(['object', 'data']);
    expect(body.object).toBe('list');
    expect(body.data.map((model) => model.id)).toEqual([
      'absolute_reality',
      'anylora',
      'anylora_anime_mix',
      'dreamshaperv7',
      'dreamshaperv8',
      'neverending-dream',
      'realistic_vision_6',
      'segmind_vega_pix_detailed',
      'segmind_vega_pix_flat',
      'segmind_vega_fp16',
      'segmind_vega_rt',
      'sd_1.5',
      'sd_2.1',
      'sd_turbo_or',
      'waifu_diffusion',
      '3D_animation',
    ]);
    for (const model of body.data) {
      expect(Object.keys(model)).toEqual(['id', 'object', 'created', 'owned_by']);
      expect(model).toMatchObject({ object: 'model', owned_by: 'imagewire' });
      expect(Number.isInteger(model.created)).toBe(true);
    }
    const one = await call(s.httpUrl, 'GET', '/v1/models/sd_1.5', { key: KEY });
    expect(one.json).toEqual(body.data[11]);
  });
});

describe('the openai package as a client', () => {
  function openai(s: TestServer, apiKey = KEY): OpenAI {
    return new OpenAI({ apiKey, baseURL: `${s.httpUrl}/v1`, maxRetries: 0 });
  }

  it('generates with b64_json (a data URI) and with url', async () => {
    const client = openai(await start());
    const b64 = await client.images.generate({ prompt: 'A serene landscape at sunset', n: 2, size: '256x256' });
    expect(b64.data).toHaveLength(2);
    expect(pngSize(fromDataUri(b64.data?.[0]?.b64_json ?? '').bytes)).toEqual({ width: 256, height: 256 });
    const url = await client.images.generate({ prompt: 'A serene landscape at sunset', response_format: 'url', model: 'waifu_diffusion' });
    const served = new Uint8Array(await (await fetch(url.data?.[0]?.url ?? '')).arrayBuffer());
    expect(pngSize(served)).toEqual({ width: 512, height: 512 });
    expect(url.data?.[0]?.b64_json).toBeNull();
  });

  it('edits with an uploaded file (multipart), as openai-node sends it', async () => {
    const client = openai(await start());
    const red = await solidPng(128, { r: 255, g: 0, b: 0 });
    const result = await client.images.edit({ image: await toFile(red, 'red.png', { type: 'image/png' }), prompt: 'Add snow', size: '256x256', n: 1 });
    const bytes = fromDataUri(result.data?.[0]?.b64_json ?? '').bytes;
    expect(pngSize(bytes)).toEqual({ width: 256, height: 256 });
    // The default strength keeps some of the red.
    const again = await client.images.edit({ image: await toFile(red, 'red.png', { type: 'image/png' }), prompt: 'Add snow', size: '256x256', model: 'sd_1.5' });
    expect(again.data).toHaveLength(1);
  });

  it('streams generations and edits', async () => {
    const client = openai(await start());
    const generated = await client.images.generate({ prompt: 'a fox in the snow', size: '256x256', stream: true, partial_images: 2 });
    const types: string[] = [];
    for await (const event of generated) types.push(event.type);
    expect(types).toEqual(['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed']);
    const red = await solidPng(64, { r: 255, g: 0, b: 0 });
    const edited = await client.images.edit({ image: await toFile(red, 'red.png', { type: 'image/png' }), prompt: 'Add snow', size: '256x256', stream: true });
    const editEvents: { type: string; b64_json: string }[] = [];
    for await (const event of edited) editEvents.push(event);
    expect(editEvents.map((event) => event.type)).toEqual(['image_edit.partial_image', 'image_edit.partial_image', 'image_edit.partial_image', 'image_edit.completed']);
    expect(pngSize(fromDataUri(editEvents.at(-1)?.b64_json ?? '').bytes)).toEqual({ width: 256, height: 256 });
  });

  it('by default sends a data URI, which the usual Buffer.from(b64_json, "base64") recipe turns into a corrupt file', async () => {
    const client = openai(await start());
    const answer = await client.images.generate({ prompt: 'a lighthouse at dusk', size: '256x256' });
    const b64 = answer.data?.[0]?.b64_json ?? '';
    expect(b64.startsWith('data:image/png;base64,')).toBe(true);
    expect(() => pngSize(Buffer.from(b64, 'base64'))).toThrow('not a PNG');
  });

  it("with openai: { b64Json: 'base64' }, Buffer.from(b64_json, 'base64') is the PNG, in answers and streamed events alike", async () => {
    const client = openai(await start({ openai: { b64Json: 'base64' } }));
    const answer = await client.images.generate({ prompt: 'a lighthouse at dusk', size: '256x256', n: 2, seed: 7 } as OpenAI.ImageGenerateParamsNonStreaming);
    expect(answer.data).toHaveLength(2);
    for (const entry of answer.data ?? []) {
      const bytes = Buffer.from(entry.b64_json ?? '', 'base64');
      expect(pngSize(bytes)).toEqual({ width: 256, height: 256 });
      // A whole, decodable PNG, not just its header.
      expect((await pixels(bytes)).width).toBe(256);
    }
    // Byte for byte the image the server stored under the entry's url.
    const stored = Buffer.from(await (await fetch(answer.data?.[0]?.url ?? '')).arrayBuffer());
    expect(Buffer.from(answer.data?.[0]?.b64_json ?? '', 'base64').equals(stored)).toBe(true);
    const stream = await client.images.generate({ prompt: 'a fox in the snow', size: '256x256', stream: true, partial_images: 1 });
    const events: { type: string; b64_json: string }[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.type)).toEqual(['image_generation.partial_image', 'image_generation.completed']);
    const partial = Buffer.from(events[0]?.b64_json ?? '', 'base64');
    expect([partial[0], partial[1], partial[2]]).toEqual([0xff, 0xd8, 0xff]);
    expect(pngSize(Buffer.from(events[1]?.b64_json ?? '', 'base64'))).toEqual({ width: 256, height: 256 });
  });

  it('refuses an unknown b64Json form', async () => {
    await expect(startTestServer({ openai: { b64Json: 'hex' as 'base64' } })).rejects.toThrow(RangeError);
  });

  it('raises the typed errors of openai-node', async () => {
    const s = await start();
    const bad = await openai(s)
      .images.generate({ prompt: 'a fox', model: 'dall-e-3' })
      .catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad).toMatchObject({ status: 400, param: 'model', code: 'model_not_found', type: 'invalid_request_error' });
    const denied = await openai(s, 'nope')
      .images.generate({ prompt: 'a fox' })
      .catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
    const models = await openai(s).models.list();
    expect(models.data.map((model) => model.id)).toContain('waifu_diffusion');
  });
});
