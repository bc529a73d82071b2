// Logs, metrics and health of the server: /metrics counters move with real traffic (an error answer
// and a resume included), each server has its own registry, the metrics token is checked, /readyz
// follows the lifecycle, hostile requests on the new routes get typed errors, and no log line
// carries a key, a token or image data.
import { PassThrough } from 'node:stream';
import { request } from 'node:http';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createPinoLogger, createServer, type ImagewireServer } from '../../src/server/index.js';
import { eventually } from '../helpers/eventually.js';
import { finalItem, isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer } from '../helpers/test-server.js';

const servers: ImagewireServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function started<T extends ImagewireServer>(server: Promise<T>): Promise<T> {
  const value = await server;
  servers.push(value);
  return value;
}

/** One sample of the text format: its name, labels and value. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? (\S+)$/i.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/gi)) labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels`. */
function valueOf(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

async function scrape(server: ImagewireServer, token?: string): Promise<Sample[]> {
  const answer = await fetch(`${server.httpUrl}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toContain('text/plain');
  return parseMetrics(await answer.text());
}

describe('GET /metrics', () => {
  it('moves its counters with traffic: authentications, tasks, an error answer, a resume, bytes out', async () => {
    const server = await started(startTestServer({ apiKeys: ['key-one'] }));
    const before = await scrape(server);
    const first = await RawClient.authenticated(server.url, 'key-one');
    const session = first.auth.connectionSessionUUID as string;
    const task = inferenceTask({ previews: { maxSide: 32 } });
    first.client.send([task]);
    await first.client.waitFor((f) => isFinal(f, task.taskUUID));
    // An error answer: a width the protocol refuses.
    first.client.send([inferenceTask({ width: 100 })]);
    const refusal = await first.client.waitFor((f) => f.kind === 'json' && f.errors.length > 0);
    const widthCode = refusal.kind === 'json' ? (refusal.errors[0]?.code as string) : '';
    first.client.terminate();
    await eventually(() => server.stats().connections, (n) => n === 0);
    const second = await RawClient.connect(server.url);
    expect(await second.authenticate('key-one', { connectionSessionUUID: session })).toMatchObject({ resumed: true });
    const refused = await RawClient.connect(server.url);
    await refused.authenticate('not-the-key').catch(() => undefined);
    await refused.waitFor((f) => f.kind === 'json' && f.errors[0]?.code === 'invalidApiKey');
    const after = await scrape(server);
    const moved = (name: string, labels: Record<string, string> = {}): number => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(moved('imagewire_authentications_total', { outcome: 'ok', credential: 'key' })).toBe(2);
    expect(moved('imagewire_authentications_total', { outcome: 'invalidApiKey' })).toBe(1);
    expect(moved('imagewire_tasks_total', { task_type: 'imageInference', outcome: 'success' })).toBe(1);
    expect(moved('imagewire_task_duration_seconds_count', { task_type: 'imageInference', outcome: 'success' })).toBe(1);
    expect(moved('imagewire_task_first_preview_seconds_count')).toBe(1);
    expect(moved('imagewire_task_images_total', { task_type: 'imageInference' })).toBe(1);
    expect(moved('imagewire_error_answers_total', { code: widthCode, face: 'ws' })).toBe(1);
    expect(moved('imagewire_error_answers_total', { code: 'invalidApiKey', face: 'ws' })).toBe(1);
    expect(moved('imagewire_resumes_total', { outcome: 'resumed' })).toBe(1);
    expect(moved('imagewire_connections_closed_total', { closed_by: 'client' })).toBe(1);
    expect(moved('imagewire_bytes_out_total')).toBeGreaterThan(1_000);
    expect(valueOf(after, 'imagewire_connections_open')).toBe(2);
    expect(valueOf(after, 'imagewire_sessions_open')).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'imagewire_ready')).toBe(1);
    await second.close();
    await refused.close();
  });

  it('counts error answers of the HTTP face by code', async () => {
    const server = await started(startTestServer({ apiKeys: ['key-one'] }));
    const before = await scrape(server);
    const answer = await fetch(`${server.httpUrl}/v1`, { method: 'POST', headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' }, body: JSON.stringify([inferenceTask()]) });
    expect(answer.status).toBe(401);
    expect((await fetch(`${server.httpUrl}/nothing-here`)).status).toBe(404);
    const after = await scrape(server);
    expect(valueOf(after, 'imagewire_error_answers_total', { code: 'invalidApiKey', face: 'http' }) - valueOf(before, 'imagewire_error_answers_total', { code: 'invalidApiKey', face: 'http' })).toBe(1);
    expect(valueOf(after, 'imagewire_error_answers_total', { code: 'invalidFrame', face: 'http' }) - valueOf(before, 'imagewire_error_answers_total', { code: 'invalidFrame', face: 'http' })).toBe(1);
  });

  it('keeps two servers of one process apart (a registry each)', async () => {
    const one = await started(startTestServer());
    const two = await started(startTestServer());
    const { client } = await RawClient.authenticated(one.url);
    const task = inferenceTask();
    client.send([task]);
    await client.waitFor((f) => isFinal(f, task.taskUUID));
    expect(valueOf(await scrape(one), 'imagewire_tasks_total')).toBe(1);
    expect(valueOf(await scrape(two), 'imagewire_tasks_total')).toBe(0);
    await client.close();
  });

  it('asks for its bearer token when one is set, and refuses any other', async () => {
    const token = 'metrics-token-7Qx2';
    const server = await started(startTestServer({ metricsToken: token }));
    expect(valueOf(await scrape(server, token), 'imagewire_ready')).toBe(1);
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${token}x`, `Basic ${token}`, `Bearer ${token.slice(0, -1)}`, 'Bearer', `Bearer ${'x'.repeat(8_000)}`]) {
      const answer = await fetch(`${server.httpUrl}/metrics`, authorization === undefined ? {} : { headers: { authorization } });
      expect(answer.status, authorization).toBe(401);
      expect(answer.headers.get('www-authenticate')).toContain('Bearer');
      expect(await answer.json()).toEqual({ errors: [expect.objectContaining({ code: 'invalidMetricsToken' })] });
    }
    // Any other token is refused; the server keeps answering.
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[\x21-\x7e]{1,64}$/), async (guess) => {
        fc.pre(guess !== token);
        const answer = await fetch(`${server.httpUrl}/metrics`, { headers: { authorization: `Bearer ${guess}` } });
        await answer.body?.cancel();
        return answer.status === 401;
      }),
      { numRuns: 40 },
    );
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
  });

  it('refuses a metricsToken that could not be sent in a header', async () => {
    await expect(createServer({ metricsToken: 'has space' })).rejects.toThrow(RangeError);
    await expect(createServer({ metricsToken: '' })).rejects.toThrow(RangeError);
  });
});

describe('health routes', () => {
  it('answers /healthz and /readyz, and /readyz turns false as soon as close() starts', async () => {
    const server = await started(startTestServer());
    expect(await (await fetch(`${server.httpUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect(server.ready).toBe(true);
    const closing = server.close();
    expect(server.ready).toBe(false);
    expect(server.notReady).toBe('draining');
    await closing;
    expect(server.ready).toBe(false);
  });

  it('answers wrong methods with 405 and methodNotAllowed, huge headers with 431, and keeps serving', async () => {
    const server = await started(startTestServer());
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        const answer = await fetch(`${server.httpUrl}${path}`, { method, body: method === 'POST' || method === 'PUT' ? 'x' : null });
        expect(answer.status, `${method} ${path}`).toBe(405);
        expect(answer.headers.get('allow')).toBe('GET, HEAD');
        expect(await answer.json()).toEqual({ errors: [expect.objectContaining({ code: 'methodNotAllowed' })] });
      }
      const head = await fetch(`${server.httpUrl}${path}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
    }
    const huge = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.httpUrl}/metrics`, { headers: { authorization: `Bearer ${'a'.repeat(40_000)}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(huge).toBe(431);
    expect((await fetch(`${server.httpUrl}/readyz`)).status).toBe(200);
  });
});

/** Lines a pino logger wrote to `stream`, parsed (every line must be JSON). */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('logs', () => {
  it('logs start, connection ends, task ends and shutdown at info, and never a key, a token or image data', async () => {
    const key = 'KEY-visible-5d1c0ffee9a4';
    const stream = new PassThrough();
    let written = '';
    stream.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
    const logger = createPinoLogger({ level: 'trace', format: 'json', destination: stream });
    const server = await createServer({ apiKeys: [key], stepDelayMs: 0, logger });
    const minted = await fetch(`${server.httpUrl}/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    const token = ((await minted.json()) as { data: { token: string }[] }).data[0]?.token as string;
    expect(token.length).toBeGreaterThan(20);
    const images: string[] = [];
    for (const credential of [key, token]) {
      const { client } = await RawClient.authenticated(server.url, credential);
      const task = inferenceTask({ outputType: 'base64Data', previews: { maxSide: 32 } });
      client.send([task]);
      images.push(finalItem(await client.waitFor((f) => isFinal(f, task.taskUUID))).imageBase64Data as string);
      await client.close();
    }
    const http = await fetch(`${server.httpUrl}/v1`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify([inferenceTask({ outputType: 'dataURI' })]) });
    images.push(((await http.json()) as { data: { imageDataURI: string }[] }).data[0]?.imageDataURI.split(',')[1] as string);
    await eventually(() => server.stats().connections, (n) => n === 0);
    await server.close();
    const lines = jsonLines(written);
    for (const secret of [key, token, ...images.map((image) => image.slice(0, 48))]) expect(written).not.toContain(secret);
    expect(images.every((image) => image.length > 100)).toBe(true);

    const info = lines.filter((line) => line.level === 'info');
    expect(info[0]).toMatchObject({ msg: 'listening', mode: 'single', address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), url: server.url });
    const closed = info.filter((line) => line.msg === 'connection closed');
    expect(closed).toHaveLength(2);
    for (const line of closed) {
      expect(line).toMatchObject({ peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/), keyId: expect.stringMatching(/^[0-9a-f]{12}$/), session: expect.stringMatching(/^[0-9a-f-]{36}$/), resumed: false, durationMs: expect.any(Number), closeCode: 1000, closedBy: 'client' });
    }
    // A key and the tokens it minted share the owner, so one key id.
    expect(closed[0]?.keyId).toBe(closed[1]?.keyId);
    const ended = info.filter((line) => line.msg === 'task ended');
    expect(ended).toHaveLength(3);
    for (const line of ended) {
      expect(line).toMatchObject({ taskUUID: expect.any(String), taskType: 'imageInference', outcome: 'success', keyId: closed[0]?.keyId, durationMs: expect.any(Number), images: 1, bytesOut: expect.any(Number) });
      expect(line.bytesOut).toBeGreaterThan(100);
    }
    expect(ended.filter((line) => typeof line.firstPreviewMs === 'number')).toHaveLength(2);
    expect(info.map((line) => line.msg).slice(-2)).toEqual(['shutting down', 'shut down']);
  });

  it('logs a failed task with its error code', async () => {
    const stream = new PassThrough();
    let written = '';
    stream.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
    const server = await started(createServer({ stepDelayMs: 0, logger: createPinoLogger({ format: 'json', destination: stream }) }));
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ model: 'nobody:1@1' });
    client.send([task]);
    await client.waitFor((f) => f.kind === 'json' && f.errors[0]?.taskUUID === task.taskUUID);
    // Refused at admission: no task ran, so no task line; an engine failure is one.
    const failing = inferenceTask({ seedImage: 'https://127.0.0.1:1/seed.png' });
    client.send([failing]);
    await client.waitFor((f) => f.kind === 'json' && f.errors[0]?.taskUUID === failing.taskUUID);
    expect(valueOf(await scrape(server), 'imagewire_outbound_requests_total', { kind: 'input', outcome: 'refused' })).toBe(1);
    await client.close();
    const ended = jsonLines(written).filter((line) => line.msg === 'task ended');
    expect(ended).toEqual([expect.objectContaining({ taskUUID: failing.taskUUID, outcome: 'error', errorCode: expect.any(String), images: 0, bytesOut: 0 })]);
  });
});
