// Seeds up to 2^63 - 1 stay exact end to end: result k carries exactly seed + k in the JSON text of
// data frames, binary-frame headers, getResponse answers, webhook bodies and POST /v1 answers, each
// result is a different image, and a last seed past 2^63 - 1 is refused with invalidSeed.
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createProceduralEngine, type Engine, type Seed } from '../../src/engine/index.js';
import { createClient } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { call } from '../helpers/images-api.js';
import { isErrorOf, isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
let closeReceiver: (() => Promise<void>) | undefined;
afterEach(async () => {
  await server?.close();
  await closeReceiver?.();
  server = undefined;
  closeReceiver = undefined;
});

const KEY = 'seed-test-key';

/** A frame of one task whose seed is written as these exact digits (JSON.stringify cannot). */
function frameWithSeed(seed: string, overrides: Record<string, unknown> = {}): { text: string; taskUUID: string } {
  const task = inferenceTask({ seed: 'PLACEHOLDER', ...overrides });
  return { text: JSON.stringify([task]).replace('"PLACEHOLDER"', seed), taskUUID: task.taskUUID };
}

/** The exact `"seed":digits` members of a JSON text, in order. */
function seedsIn(text: string): string[] {
  return [...text.matchAll(/"seed":(-?\d+)/g)].map((match) => match[1] ?? '');
}

/** Runs one task over a socket and returns the raw text of each final frame (JSON frames). */
async function runFinals(client: RawClient, seed: string, numberResults: number): Promise<string[]> {
  const { text, taskUUID } = frameWithSeed(seed, { numberResults });
  const from = client.frames.length;
  client.send(text);
  const finals = await client.waitForCount((frame) => isFinal(frame, taskUUID), numberResults, { from });
  return finals.map((frame) => (frame.kind === 'json' ? frame.text : ''));
}

function imageOf(frameText: string): string {
  return /"imageBase64Data":"([^"]+)"/.exec(frameText)?.[1] ?? '';
}

describe('large seeds over the WebSocket', () => {
  it('gives seed 9223372036854775806 with numberResults 2 the exact seeds ...806 and ...807, two different images', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const { client } = await RawClient.authenticated(server.url, KEY);
    const finals = await runFinals(client, '9223372036854775806', 2);
    expect(finals.flatMap(seedsIn).sort()).toEqual(['9223372036854775806', '9223372036854775807']);
    expect(imageOf(finals[0] ?? '')).not.toBe(imageOf(finals[1] ?? ''));
    await client.close();
  });

  it('refuses seed 9223372036854775807 with numberResults 2 (the second seed would pass 2^63 - 1) with invalidSeed', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const { client } = await RawClient.authenticated(server.url, KEY);
    for (const [seed, numberResults] of [
      ['9223372036854775807', 2],
      ['9223372036854775808', 1],
      ['18446744073709551615', 1],
    ] as const) {
      const { text, taskUUID } = frameWithSeed(seed, { numberResults });
      const from = client.frames.length;
      client.send(text);
      const frame = await client.waitFor((f) => isErrorOf(f, taskUUID), { from });
      expect(frame.kind === 'json' ? frame.errors : []).toMatchObject([{ code: 'invalidSeed', parameter: 'seed', taskUUID }]);
    }
    expect(await runFinals(client, '9223372036854775807', 1).then((finals) => finals.flatMap(seedsIn))).toEqual(['9223372036854775807']);
    await client.close();
  });

  it('keeps seeds across 2^53 apart: 2^53 - 1 with numberResults 3, and 2^53 + 1 with numberResults 2', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const { client } = await RawClient.authenticated(server.url, KEY);
    const across = await runFinals(client, '9007199254740991', 3);
    expect(across.flatMap(seedsIn).sort()).toEqual(['9007199254740991', '9007199254740992', '9007199254740993']);
    expect(new Set(across.map(imageOf)).size).toBe(3);
    const above = await runFinals(client, '9007199254740993', 2);
    expect(above.flatMap(seedsIn).sort()).toEqual(['9007199254740993', '9007199254740994']);
    // Seed s + k renders as seed s + k given alone, across the two tasks.
    const third = across.find((text) => seedsIn(text)[0] === '9007199254740993');
    const first = above.find((text) => seedsIn(text)[0] === '9007199254740993');
    expect(imageOf(third ?? '')).toBe(imageOf(first ?? ''));
    await client.close();
  });

  it('writes exact seeds in binary-frame headers', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const { client } = await RawClient.authenticated(server.url, KEY, { extensions: ['binaryResults'] });
    const headers: string[] = [];
    client.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const length = data.readUInt32BE(1);
      headers.push(data.subarray(5, 5 + length).toString('utf8'));
    });
    const { text, taskUUID } = frameWithSeed('9223372036854775806', { numberResults: 2 });
    client.send(text);
    await client.waitForCount((frame) => isFinal(frame, taskUUID), 2);
    expect(headers.flatMap(seedsIn).sort()).toEqual(['9223372036854775806', '9223372036854775807']);
    await client.close();
  });

  it('writes exact seeds in getResponse answers', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const { client } = await RawClient.authenticated(server.url, KEY);
    const { text, taskUUID } = frameWithSeed('9223372036854775806', { numberResults: 2, deliveryMethod: 'async', outputType: 'URL' });
    client.send(text);
    // The acknowledgement first; then getResponse until the task is no longer processing.
    await client.waitFor((f) => f.kind === 'json' && f.data.some((item) => item.taskUUID === taskUUID && item.status === 'processing'));
    let answer = '';
    for (let attempt = 0; attempt < 500 && (answer === '' || answer.includes('"processing"')); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const from = client.frames.length;
      client.send([{ taskType: 'getResponse', taskUUID }]);
      const frame = await client.waitFor((f) => f.kind === 'json' && f.data.some((item) => item.taskUUID === taskUUID), { from });
      answer = frame.kind === 'json' ? frame.text : '';
    }
    expect(seedsIn(answer).sort()).toEqual(['9223372036854775806', '9223372036854775807']);
    await client.close();
  });
});

describe('large seeds over HTTP', () => {
  it('writes exact seeds in a POST /v1 answer', async () => {
    server = await startTestServer({ apiKeys: [KEY] });
    const { text } = frameWithSeed('9223372036854775806', { numberResults: 2, outputType: 'URL' });
    const answer = await call(server.httpUrl, 'POST', '/v1', { key: KEY, body: text, headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(200);
    expect(seedsIn(answer.text)).toEqual(['9223372036854775806', '9223372036854775807']);
  });

  it('writes exact seeds in webhook bodies', async () => {
    const bodies: string[] = [];
    const receiver = createHttpServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    closeReceiver = () =>
      new Promise<void>((done) => {
        receiver.closeAllConnections();
        receiver.close(() => done());
      });
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    server = await startTestServer({ apiKeys: [KEY], allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url, KEY);
    const { text, taskUUID } = frameWithSeed('9223372036854775806', { numberResults: 2, outputType: 'URL', webhookURL: url });
    client.send(text);
    await client.waitForCount((frame) => isFinal(frame, taskUUID), 2);
    await eventually(() => bodies.length, (n) => n === 2);
    expect(bodies.flatMap(seedsIn).sort()).toEqual(['9223372036854775806', '9223372036854775807']);
    await client.close();
  });
});

describe('large seeds through the client', () => {
  it('sends a bigint seed exactly and gets one image per seed (result seeds read as the nearest doubles)', async () => {
    const seen: Seed[] = [];
    const base = createProceduralEngine({ stepDelayMs: 0 });
    const engine: Engine = { ...base, generate: (request, options) => (seen.push(request.seed), base.generate(request, options)) };
    server = await startTestServer({ apiKeys: [KEY], engine });
    const client = createClient({ url: server.url, apiKey: KEY });
    try {
      const images = await client.imageInference({ positivePrompt: 'a large seed', model: 'imagewire:1@1', width: 128, height: 128, steps: 2, seed: 9_223_372_036_854_775_806n, numberResults: 2 }).result();
      expect(seen).toEqual([9_223_372_036_854_775_806n]);
      expect(images.map((image) => image.index)).toEqual([0, 1]);
      expect(images.map((image) => image.seed)).toEqual([Number('9223372036854775806'), Number('9223372036854775807')]);
      expect(Buffer.from(images[0]?.bytes ?? [])).not.toEqual(Buffer.from(images[1]?.bytes ?? []));
    } finally {
      await client.close();
    }
  });
});

describe('what an engine is given', () => {
  it('is a number seed while every result seed is safe, a bigint once the last one passes 2^53 - 1', async () => {
    const seen: Seed[] = [];
    const base = createProceduralEngine({ stepDelayMs: 0 });
    const engine: Engine = { ...base, generate: (request, options) => (seen.push(request.seed), base.generate(request, options)) };
    server = await startTestServer({ apiKeys: [KEY], engine });
    const { client } = await RawClient.authenticated(server.url, KEY);
    await runFinals(client, '9007199254740990', 2);
    await runFinals(client, '9007199254740990', 3);
    await runFinals(client, '9223372036854775806', 1);
    expect(seen).toEqual([9_007_199_254_740_990, 9_007_199_254_740_990n, 9_223_372_036_854_775_806n]);
    await client.close();
  });
});
