// Hostile input over real sockets and HTTP: deeply nested values, megabyte-long member names and
// hundreds of thousands of unknown keys are answered with small typed errors (frameTooComplex at
// decoding; bounded items when the limits let them through), and the server keeps serving.
import { afterEach, describe, expect, it } from 'vitest';
import { createProceduralEngine, type Engine } from '../../src/engine/index.js';
import { errorBounds, MAX_ERROR_FRAME_BYTES, newTaskUUID } from '../../src/protocol/index.js';
import { call } from '../helpers/images-api.js';
import { isErrorOf, isFinal, RawClient, type Received } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const KEY = 'hostile-test-key-4f1d';
/**
 * Room for a whole hostile frame before authentication: by default a socket that sends more than
 * 64 KiB before authenticating is closed (1009) before its frame is even decoded, which
 * test/server/connection-caps.test.ts covers; here the decoding is what is tested.
 */
const preAuthRoom = { maxUnauthenticatedFrameBytes: 8 * 1024 * 1024 };
/** Limits that let anything through decoding, so validation itself meets the hostile values. */
const lifted = { ...preAuthRoom, maxFrameDepth: 1_000_000, maxFrameValues: 10_000_000 };

const nest = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const deepPing = `[{"taskType":"ping","ping":${nest(100_000)}}]`;
/** 300,000 unknown keys: about 3.5 MB. */
const widePing = `[{"taskType":"ping",${Array.from({ length: 300_000 }, (_, i) => `"k${i}":1`).join(',')}}]`;

function errorFrames(client: RawClient, from: number): Extract<Received, { kind: 'json' }>[] {
  return client.frames.slice(from).filter((frame): frame is Extract<Received, { kind: 'json' }> => frame.kind === 'json' && frame.errors.length > 0);
}

/** Sends `text` and resolves with the first errors frame that follows. */
async function sendForErrors(client: RawClient, text: string): Promise<Extract<Received, { kind: 'json' }>> {
  const from = client.frames.length;
  client.send(text);
  await client.waitFor((frame) => frame.kind === 'json' && frame.errors.length > 0, { from });
  const [frame] = errorFrames(client, from);
  if (frame === undefined) throw new Error('no errors frame');
  return frame;
}

/** Proves the socket and the server still run a correct imageInference. */
async function stillServes(client: RawClient): Promise<void> {
  const task = inferenceTask();
  const from = client.frames.length;
  client.send([task]);
  await client.waitFor((frame) => isFinal(frame, task.taskUUID), { from });
}

describe('deep nesting over the WebSocket', () => {
  it('answers a 100,000-level ping before authentication with frameTooComplex, then serves a correct imageInference', async () => {
    server = await startTestServer({ apiKeys: [KEY], limits: preAuthRoom });
    const client = await RawClient.connect(server.url);
    const frame = await sendForErrors(client, deepPing);
    expect(frame.errors).toEqual([{ code: 'frameTooComplex', message: 'the frame is too complex: it nests deeper than 16 levels', type: 'frame' }]);
    await client.authenticate(KEY);
    await stillServes(client);
    await client.close();
  });

  it('validates a 100,000-level ping the limits let through: invalidPing, a bounded message', async () => {
    server = await startTestServer({ apiKeys: [KEY], limits: lifted });
    const client = await RawClient.connect(server.url);
    const frame = await sendForErrors(client, deepPing);
    expect(frame.errors).toEqual([{ code: 'invalidPing', message: 'ping must be true; got an array of 1', parameter: 'ping', type: 'boolean', taskType: 'ping' }]);
    await client.authenticate(KEY);
    await stillServes(client);
    await client.close();
  });

  it('answers an authenticated task with a 100,000-level outputType and ttl 60, and keeps serving', async () => {
    for (const limits of [{}, lifted]) {
      server = await startTestServer({ apiKeys: [KEY], limits });
      const { client } = await RawClient.authenticated(server.url, KEY);
      const taskUUID = newTaskUUID();
      const text = JSON.stringify([inferenceTask({ taskUUID, ttl: 60, outputType: 'PLACEHOLDER' })]).replace('"PLACEHOLDER"', nest(100_000));
      const frame = await sendForErrors(client, text);
      if (limits === lifted) {
        expect(frame.errors.map((error) => [error.code, error.parameter, error.taskUUID])).toEqual([
          ['invalidOutputType', 'outputType', taskUUID],
          ['invalidTtl', 'ttl', taskUUID],
        ]);
        expect(frame.errors[0]?.message).toBe('outputType must be one of base64Data, dataURI, URL; got an array of 1');
      } else {
        expect(frame.errors[0]).toMatchObject({ code: 'frameTooComplex', type: 'frame' });
      }
      await stillServes(client);
      await client.close();
      await server.close();
    }
  });
});

describe('many unknown keys over the WebSocket', () => {
  it('answers a 3.5 MB ping of 300,000 unknown keys with one small frame', async () => {
    server = await startTestServer({ apiKeys: [KEY], limits: preAuthRoom });
    const client = await RawClient.connect(server.url);
    const frame = await sendForErrors(client, widePing);
    expect(frame.errors).toEqual([{ code: 'frameTooComplex', message: 'the frame is too complex: it holds more than 131072 values', type: 'frame' }]);
    await client.authenticate(KEY);
    await stillServes(client);
    await client.close();
  });

  it('lists at most maxItems problems of them when the limits let the frame through, and counts the rest', async () => {
    server = await startTestServer({ apiKeys: [KEY], limits: lifted });
    const client = await RawClient.connect(server.url);
    const frame = await sendForErrors(client, widePing);
    expect(Buffer.byteLength(frame.text)).toBeLessThanOrEqual(MAX_ERROR_FRAME_BYTES);
    expect(Buffer.byteLength(frame.text)).toBeLessThan(8 * 1024);
    expect(frame.errors).toHaveLength(errorBounds.maxItems);
    expect(frame.errors.at(-1)).toEqual({ code: 'tooManyErrors', message: '299969 more problems were found and left out of this answer', type: 'task', taskType: 'ping' });
    await client.close();
  });

  it('quotes a megabyte-long unknown member name cut short', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const { client } = await RawClient.authenticated(server.url, KEY);
    const frame = await sendForErrors(client, JSON.stringify([inferenceTask({ ['k'.repeat(1_000_000)]: 1 })]));
    expect(frame.errors[0]).toMatchObject({ code: 'unknownParameter' });
    expect(frame.text.length).toBeLessThan(1_024);
    await client.close();
  });
});

describe('hostile bodies over HTTP', () => {
  it('answers POST /v1 with a 100,000-level ping with 400 frameTooComplex, or 400 invalidPing when the limits let it through', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const refused = await call(server.httpUrl, 'POST', '/v1', { key: KEY, body: deepPing, headers: { 'content-type': 'application/json' } });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ errors: [{ code: 'frameTooComplex', message: 'the frame is too complex: it nests deeper than 16 levels', type: 'frame' }] });
    await server.close();
    server = await startTestServer({ apiKeys: [KEY], limits: lifted });
    const validated = await call(server.httpUrl, 'POST', '/v1', { key: KEY, body: deepPing, headers: { 'content-type': 'application/json' } });
    expect(validated.status).toBe(400);
    expect(validated.json).toMatchObject({ errors: [{ code: 'invalidPing', parameter: 'ping' }] });
    const wide = await call(server.httpUrl, 'POST', '/v1', { key: KEY, body: widePing, headers: { 'content-type': 'application/json' } });
    expect(wide.status).toBe(400);
    expect(Buffer.byteLength(wide.text)).toBeLessThanOrEqual(MAX_ERROR_FRAME_BYTES);
    expect((wide.json as { errors: unknown[] }).errors).toHaveLength(errorBounds.maxItems);
  });

  it('answers POST /v1 with a 100,000-level outputType and ttl 60 with 400 and the task named', async () => {
    server = await startTestServer({ apiKeys: [KEY], limits: lifted });
    const taskUUID = newTaskUUID();
    const body = JSON.stringify([inferenceTask({ taskUUID, ttl: 60, outputType: 'PLACEHOLDER' })]).replace('"PLACEHOLDER"', nest(100_000));
    const answer = await call(server.httpUrl, 'POST', '/v1', { key: KEY, body, headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ errors: [{ code: 'invalidOutputType', taskUUID }, { code: 'invalidTtl', taskUUID }] });
  });

  it.each([
    ['/v1/images/generations', { prompt: 'a fox' }],
    ['/v1/images/edits', { prompt: 'a fox' }],
    ['/v1/images/imagine', { name: 'fox', prompt: 'a fox' }],
  ])('answers %s with a deeply nested body with 400 frame_too_complex', async (path, fields) => {
    server = await startTestServer({ apiKeys: [KEY] });
    for (const body of [`{"prompt":${nest(100_000)}}`, JSON.stringify({ ...fields, n: 'PLACEHOLDER' }).replace('"PLACEHOLDER"', nest(100_000)), `{"prompt":"a fox","user":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`]) {
      const answer = await call(server.httpUrl, 'POST', path, { key: KEY, body, headers: { 'content-type': 'application/json' } });
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({ error: { message: 'the request body is too complex: it nests deeper than 16 levels', type: 'invalid_request_error', param: null, code: 'frame_too_complex' } });
    }
  });

  it('answers an OpenAI-style request with a megabyte-long unknown parameter name in a small answer', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const answer = await call(server.httpUrl, 'POST', '/v1/images/generations', { key: KEY, body: { prompt: 'a fox', ['p'.repeat(1_000_000)]: 1 } });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: { code: 'unknown_parameter', type: 'invalid_request_error' } });
    expect(answer.text.length).toBeLessThan(1_024);
  });

  it('answers a form body repeating one field 60,000 times at once (each repeat used to copy the list: quadratic)', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const part = '--b0undary\r\nContent-Disposition: form-data; name="prompt"\r\n\r\na fox\r\n';
    const answer = await call(server.httpUrl, 'POST', '/v1/images/edits', {
      key: KEY,
      body: `${part.repeat(60_000)}--b0undary--\r\n`,
      headers: { 'content-type': 'multipart/form-data; boundary=b0undary' },
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: { param: 'prompt', message: "'prompt' was sent more than once" } });
  });

  it('answers a multipart body of more parts than maxFrameValues with 400 frame_too_complex', async () => {
    server = await startTestServer({ apiKeys: [KEY], limits: { maxFrameValues: 1_000 } });
    const part = '--b0undary\r\nContent-Disposition: form-data; name="user"\r\n\r\nme\r\n';
    for (const body of [`${part.repeat(2_000)}--b0undary--\r\n`, `${part.repeat(1_001)}--b0undary--\r\n`]) {
      const answer = await call(server.httpUrl, 'POST', '/v1/images/edits', { key: KEY, body, headers: { 'content-type': 'multipart/form-data; boundary=b0undary' } });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: { code: 'frame_too_complex', message: 'the form body is too complex: it holds more than 1000 parts' } });
    }
  });

  it('answers POST /v1/tokens with a nested body with 400 frameTooComplex', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const answer = await call(server.httpUrl, 'POST', '/v1/tokens', { key: KEY, body: `{"ttlSeconds":${nest(200)}}`, headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ errors: [{ code: 'frameTooComplex', type: 'frame' }] });
  });
});

/** The procedural engine, except that asking whether it has a model throws (a bug in a custom engine). */
function throwingEngine(): Engine {
  const base = createProceduralEngine({ stepDelayMs: 0 });
  return {
    ...base,
    hasModel: (model) => {
      if (model === 'broken:1@1') throw new TypeError(`cannot read model ${model}`);
      return base.hasModel(model);
    },
  };
}

describe('a task whose handling throws', () => {
  it('is answered with internalServerError on the socket, logged without the key, and the socket keeps serving', async () => {
    server = await startTestServer({ apiKeys: [KEY], engine: throwingEngine() });
    const { client } = await RawClient.authenticated(server.url, KEY);
    for (const deliveryMethod of ['sync', 'async']) {
      const task = inferenceTask({ model: 'broken:1@1', deliveryMethod });
      const from = client.frames.length;
      client.send([task]);
      const frame = await client.waitFor((f) => isErrorOf(f, task.taskUUID), { from });
      expect(frame.kind === 'json' ? frame.errors : []).toEqual([
        { code: 'internalServerError', message: 'the server failed to handle this task', taskType: 'imageInference', taskUUID: task.taskUUID },
      ]);
    }
    await stillServes(client);
    expect(server.logs.lines.filter((line) => line.message === 'task handling failed unexpectedly')).toHaveLength(2);
    expect(server.logs.text()).not.toContain(KEY);
    await client.close();
  });

  it('is answered with internalServerError in a POST /v1 answer that names the task', async () => {
    server = await startTestServer({ apiKeys: [KEY], engine: throwingEngine() });
    const broken = inferenceTask({ model: 'broken:1@1' });
    const good = inferenceTask({ outputType: 'URL' });
    const answer = await call(server.httpUrl, 'POST', '/v1', { key: KEY, body: [broken, good] });
    expect(answer.status).toBe(500);
    expect(answer.json).toMatchObject({
      errors: [{ code: 'internalServerError', taskUUID: broken.taskUUID }],
      data: [{ taskUUID: good.taskUUID }],
    });
  });
});
