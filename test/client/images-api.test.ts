// The typed images client against a real server: generations, edits, streams as async iterators,
// imagine/publish/get, the model list, and the errors it raises.
import { afterEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  AuthenticationError,
  ValidationError,
  createImagesClient,
  decodeB64Json,
  readServerSentEvents,
  type ImagesStreamEvent,
  type ImagesClient,
} from '../../src/client/index.js';
import { meanColour, pngSize, solidPng } from '../helpers/images-api.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function client(key = 'key-a', options: Parameters<typeof startTestServer>[0] = {}): Promise<ImagesClient> {
  server ??= await startTestServer({ apiKeys: ['key-a', 'key-b'], ...options });
  return createImagesClient({ apiKey: key, baseUrl: server.httpUrl });
}

describe('createImagesClient', () => {
  it('generates images and decodes b64_json', async () => {
    const images = await client();
    const answer = await images.generateImages({ prompt: 'A serene landscape at sunset', n: 2, size: '256x256', seed: '42', model: 'waifu_diffusion' });
    expect(answer.data).toHaveLength(2);
    expect(Number.isInteger(answer.created)).toBe(true);
    const bytes = decodeB64Json(answer.data[0]?.b64_json ?? '');
    expect(pngSize(bytes)).toEqual({ width: 256, height: 256 });
    const again = await images.generateImages({ prompt: 'A serene landscape at sunset', size: '256x256', seed: 42, model: 'waifu_diffusion' });
    expect(again.data[0]?.b64_json).toBe(answer.data[0]?.b64_json);
    const byUrl = await images.generateImages({ prompt: 'A serene landscape at sunset', size: '256x256', response_format: 'url' });
    expect(byUrl.data[0]?.b64_json).toBeNull();
    expect(pngSize(new Uint8Array(await (await fetch(byUrl.data[0]?.url ?? '')).arrayBuffer()))).toEqual({ width: 256, height: 256 });
  });

  it('takes a function for the key and a base URL with /v1', async () => {
    server = await startTestServer({ apiKeys: ['key-a'] });
    const images = createImagesClient({ apiKey: () => Promise.resolve('key-a'), baseUrl: `${server.httpUrl}/v1/` });
    expect((await images.listModels()).map((model) => model.id)).toHaveLength(16);
  });

  it('edits with bytes, a Blob or base64, as JSON, and never streams unasked', async () => {
    const images = await client();
    const red = new Uint8Array(await solidPng(128, { r: 255, g: 0, b: 0 }));
    for (const image of [red, new Blob([red], { type: 'image/png' }), Buffer.from(red).toString('base64')]) {
      const answer = await images.editImages({ prompt: 'green meadow', image, strength: 0, size: '256x256', seed: 3 });
      const [r] = await meanColour(decodeB64Json(answer.data[0]?.b64_json ?? ''));
      expect(r).toBeGreaterThan(240);
    }
  });

  it('streams generations as previews, then finals, in order, shaped like WebSocket task events', async () => {
    const images = await client();
    const events: ImagesStreamEvent[] = [];
    for await (const event of images.streamImages({ prompt: 'a fox in the snow', size: '256x256', n: 2, partial_images: 2 })) events.push(event);
    expect(events.map((event) => `${event.type}:${event.index}`)).toEqual(['preview:0', 'preview:0', 'final:0', 'preview:1', 'preview:1', 'final:1']);
    expect(events.map((event) => event.event.type)).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ]);
    const first = events[0];
    expect(first?.type === 'preview' ? first.partialIndex : -1).toBe(0);
    expect(events[1]?.type === 'preview' ? events[1].partialIndex : -1).toBe(1);
    expect(first?.event.output_format).toBe('jpeg');
    expect(first?.image.format).toBe('JPG');
    const last = events.at(-1);
    expect(last?.type === 'final' ? last.event.usage.total_tokens : -1).toBe(0);
    expect(last?.image.format).toBe('PNG');
    expect(pngSize(last?.image.bytes ?? new Uint8Array())).toEqual({ width: 256, height: 256 });
    expect(last?.image.bytes).toEqual(decodeB64Json(last?.event.b64_json ?? ''));
  });

  it('streams edits', async () => {
    const images = await client();
    const red = new Uint8Array(await solidPng(64, { r: 255, g: 0, b: 0 }));
    const types: string[] = [];
    for await (const event of images.streamEdits({ prompt: 'Add snow', image: red, size: '256x256', partial_images: 1 })) types.push(`${event.type}:${event.event.type}`);
    expect(types).toEqual(['preview:image_edit.partial_image', 'final:image_edit.completed']);
  });

  it('stops the server work when the loop is left early', async () => {
    const engine = createGateEngine();
    const images = await client('key-a', { engine });
    engine.open(1);
    const stream = images.streamImages({ prompt: 'a fox', size: '256x256', n: 2, partial_images: 0 });
    for await (const event of stream) {
      expect(event.type).toBe('final');
      break;
    }
    await engine.aborted(0);
    expect(engine.signals[0]?.aborted).toBe(true);
  });

  it('imagines, reads, publishes; another key sees nothing', async () => {
    const images = await client('key-a');
    const other = await client('key-b');
    const image = await images.imagine({ name: 'cat', prompt: 'a ginger cat', seed: 9 });
    expect(image).toMatchObject({ name: 'cat', url: null, width: 1024, height: 1024, format: 'png' });
    expect(await images.getImage(image.id)).toEqual(image);
    const denied = await other.getImage(image.id).catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(ApiError);
    expect(denied).toMatchObject({ code: 'image_not_found', parameter: 'id', type: 'invalid_request_error' });
    expect(await other.publishImage(image.id).catch((error: unknown) => error)).toBeInstanceOf(ApiError);
    const published = await images.publishImage(image.id);
    expect(published.url).toMatch(/\/public\/images\/image_[0-9a-f]{32}\.png$/);
    const bytes = new Uint8Array(await (await fetch(published.url ?? '')).arrayBuffer());
    expect(bytes.byteLength).toBe(image.size);
    expect(pngSize(bytes)).toEqual({ width: 1024, height: 1024 });
  });

  it('raises AuthenticationError, ApiError with code and parameter, and ValidationError before sending', async () => {
    const images = await client();
    const denied = await (await client('wrong')).generateImages({ prompt: 'a fox' }).catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(AuthenticationError);
    expect(denied).toMatchObject({ code: 'invalid_api_key' });
    const refused = await images.generateImages({ prompt: 'a fox', size: '1024x1024' as '512x512' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: 'invalid_value', parameter: 'size', type: 'invalid_request_error' });
    const streamRefused = await (async () => {
      for await (const event of images.streamImages({ prompt: 'a fox', model: 'nope' })) void event;
    })().catch((error: unknown) => error);
    expect(streamRefused).toMatchObject({ code: 'model_not_found', parameter: 'model' });
    for (const params of [{ prompt: '' }, { prompt: 'x'.repeat(1001) }, { prompt: 'a fox', n: 11 }]) {
      const invalid = await images.generateImages(params).catch((error: unknown) => error);
      expect(invalid, JSON.stringify(params).slice(0, 40)).toBeInstanceOf(ValidationError);
    }
    expect(await images.getImage('').catch((error: unknown) => error)).toBeInstanceOf(ValidationError);
    expect(await images.imagine({ name: '', prompt: 'a cat' }).catch((error: unknown) => error)).toBeInstanceOf(ValidationError);
  });
});

describe('decodeB64Json', () => {
  it('decodes a data URI and bare base64 alike', () => {
    expect([...decodeB64Json('data:image/png;base64,AQID')]).toEqual([1, 2, 3]);
    expect([...decodeB64Json('AQID')]).toEqual([1, 2, 3]);
    expect(() => decodeB64Json('data:image/png;base64,@@@')).toThrow(/base64/);
  });
});

describe('readServerSentEvents', () => {
  it('joins data lines, skips comments, handles CRLF and chunks split anywhere', async () => {
    const text = ': hello\r\nevent: a\r\ndata: one\r\ndata: two\r\n\r\ndata: {"x":1}\n\nevent: b\ndata: tail\n\nevent: c\ndata: unterminated';
    const bytes = new TextEncoder().encode(text);
    for (const size of [1, 3, 7, bytes.length]) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.subarray(i, i + size));
          controller.close();
        },
      });
      const events = [];
      for await (const event of readServerSentEvents(body)) events.push(event);
      expect(events, `chunks of ${size}`).toEqual([
        { event: 'a', data: 'one\ntwo' },
        { event: 'message', data: '{"x":1}' },
        { event: 'b', data: 'tail' },
      ]);
    }
  });

  it('ends lines at a lone CR and reads a long data line arriving in many chunks', async () => {
    const long = 'x'.repeat(200_000);
    const text = `data: a\r\rdata: ${long}\n\nevent: last\rdata: b\r\r`;
    const bytes = new TextEncoder().encode(text);
    for (const size of [5, 4096, bytes.length]) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.subarray(i, i + size));
          controller.close();
        },
      });
      const events = [];
      for await (const event of readServerSentEvents(body)) events.push(event);
      expect(events, `chunks of ${size}`).toEqual([
        { event: 'message', data: 'a' },
        { event: 'message', data: long },
        { event: 'last', data: 'b' },
      ]);
    }
  });
});
