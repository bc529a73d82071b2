// Two cluster nodes in one process on one real Redis: sessions resume on the other node with every
// final exactly once and in seq order, and getResponse, conflicts, cancel, image URLs and the per-key
// bound answer from either node.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, finalItem, isFinal, type Received } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';
import { redisAvailable, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { call, parseEventStream, solidPng } from '../helpers/images-api.js';

describe.runIf(redisAvailable())('two cluster nodes on one Redis', () => {
  let redis: TestRedis;
  const open: TestServer[] = [];
  const node = async (options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> => {
    const server = await startTestServer({ redis: redis.url, ...options });
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

  it('resumes on the other node under ack: every final exactly once, in seq order', async () => {
    const a = await node({ stepDelayMs: 5 });
    const b = await node({ engine: false });
    const first = await RawClient.authenticated(a.url, 'k', { extensions: ['ack'] });
    const task = inferenceTask({ numberResults: 6, steps: 4 });
    first.client.send([task]);
    await first.client.waitFor((f) => isFinal(f, task.taskUUID));
    first.client.terminate();
    const had = first.client.framesOf(task.taskUUID).map((f) => f.seq as number);
    const acked = Math.max(...had);
    const second = await RawClient.connect(b.url);
    const auth = await second.authenticate('k', { connectionSessionUUID: first.auth.connectionSessionUUID, extensions: ['ack'], ack: acked });
    expect(auth).toMatchObject({ resumed: true, connectionSessionUUID: first.auth.connectionSessionUUID });
    const rest = await second.waitForCount((f) => isFinal(f, task.taskUUID), 6 - had.length, { timeoutMs: 15_000 });
    const seqs = [...had, ...rest.map((f) => f.seq as number)];
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...first.client.framesOf(task.taskUUID), ...rest].map((f) => finalItem(f).index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    await second.expectNone((f) => isFinal(f, task.taskUUID), { from: second.frames.indexOf(rest[rest.length - 1] as Received) + 1 });
    await second.close();
  });

  it('takes a session over from the other node (4000 there)', async () => {
    const a = await node();
    const b = await node();
    const first = await RawClient.authenticated(a.url, 'k');
    const second = await RawClient.connect(b.url);
    await second.authenticate('k', { connectionSessionUUID: first.auth.connectionSessionUUID });
    expect((await first.client.waitForClose()).code).toBe(4000);
    const task = inferenceTask();
    second.send([task]);
    await second.waitFor((f) => isFinal(f, task.taskUUID));
    await second.close();
  });

  it('answers conflictTaskUUID, getResponse and image URLs from the other node', async () => {
    const a = await node();
    const b = await node();
    const one = await RawClient.authenticated(a.url, 'k');
    const task = inferenceTask({ outputType: 'URL' });
    one.client.send([task]);
    const final = finalItem(await one.client.waitFor((f) => isFinal(f, task.taskUUID)));
    const two = await RawClient.authenticated(b.url, 'k');
    two.client.send([task]);
    const conflict = await two.client.waitFor((f) => f.kind === 'json' && f.errors[0]?.taskUUID === task.taskUUID);
    expect(conflict.kind === 'json' && conflict.errors[0]?.code).toBe('conflictTaskUUID');
    two.client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    const answer = await two.client.waitFor((f) => f.kind === 'json' && f.data.some((item) => item.taskType === 'imageInference' && item.status === 'success'));
    expect(answer.kind === 'json' && answer.data[0]).toMatchObject({ taskUUID: task.taskUUID, imageUUID: final.imageUUID, status: 'success' });
    const url = String(final.imageURL).replace(a.httpUrl, b.httpUrl);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    await one.client.close();
    await two.client.close();
  });

  it('cancels from node B a task accepted on node A', async () => {
    const a = await node({ stepDelayMs: 200 });
    const b = await node({ engine: false });
    const one = await RawClient.authenticated(a.url, 'k');
    const task = inferenceTask({ steps: 50, previews: { maxSide: 64, format: 'JPG' } });
    one.client.send([task]);
    // A preview (published by the worker on node A's channel) says the task runs.
    await one.client.waitFor((f) => f.kind === 'json' && f.data[0]?.preview === true && f.data[0]?.taskUUID === task.taskUUID);
    const two = await RawClient.authenticated(b.url, 'k');
    two.client.send([{ taskType: 'cancel', taskUUID: task.taskUUID }]);
    const answer = await two.client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskType === 'cancel');
    expect(answer.kind === 'json' && answer.data[0]).toMatchObject({ taskUUID: task.taskUUID, cancelled: true });
    await one.client.expectNone((f) => isFinal(f, task.taskUUID), { windowMs: 500 });
    two.client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    const got = await two.client.waitFor((f) => f.kind === 'json' && f.data.some((item) => item.status === 'error'));
    expect(got.kind === 'json' && got.data.at(-1)).toMatchObject({ status: 'error', error: { code: 'taskCancelled' } });
    await one.client.close();
    await two.client.close();
  });

  it('holds the per-key in-flight bound across nodes', async () => {
    const limits = { maxInFlightPerKey: 2 };
    const a = await node({ limits, engine: false });
    const b = await node({ limits, engine: false });
    const one = await RawClient.authenticated(a.url, 'bound');
    const two = await RawClient.authenticated(b.url, 'bound');
    const [t1, t2, t3] = [inferenceTask(), inferenceTask(), inferenceTask()];
    one.client.send([t1]);
    two.client.send([t2]);
    // Both are admitted once getResponse knows them (pipelined behind each task on its socket).
    for (const [client, task] of [[one.client, t1], [two.client, t2]] as const) {
      client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
      await client.waitFor((f) => f.kind === 'json' && f.data.some((item) => item.taskUUID === task.taskUUID && item.status === 'processing'));
    }
    one.client.send([t3]);
    const refused = await one.client.waitFor((f) => f.kind === 'json' && f.errors[0]?.taskUUID === t3.taskUUID);
    expect(refused.kind === 'json' && refused.errors[0]?.code).toBe('tooManyTasksInFlight');
    await one.client.close();
    await two.client.close();
  });

  it('answers POST /v1 on a node that runs no engine (a worker elsewhere does)', async () => {
    await node();
    const b = await node({ engine: false });
    const task = inferenceTask({ numberResults: 2 });
    const response = await fetch(`${b.httpUrl}/v1`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer k' }, body: JSON.stringify([task]) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { taskUUID: string; index: number }[] };
    expect(body.data.map((item) => item.index).sort()).toEqual([0, 1]);
  });

  it('answers the OpenAI-style images API (JSON, streamed and edits) and imagine on a node without an engine', async () => {
    const a = await node();
    const b = await node({ engine: false });
    const generated = await call(b.httpUrl, 'POST', '/v1/images/generations', { key: 'k', body: { prompt: 'a blue whale', size: '256x256', response_format: 'url', seed: 3 } });
    expect(generated.status).toBe(200);
    const url = (generated.json as { data: { url: string }[] }).data[0]?.url ?? '';
    expect((await fetch(url.replace(b.httpUrl, a.httpUrl))).status).toBe(200);
    const streamed = await call(b.httpUrl, 'POST', '/v1/images/generations', { key: 'k', body: { prompt: 'a red fox', size: '256x256', stream: true, partial_images: 2 } });
    const events = parseEventStream(streamed.text).map((event) => event.event);
    expect(events.at(-1)).toBe('image_generation.completed');
    const form = new FormData();
    form.set('prompt', 'the same, at night');
    form.set('size', '256x256');
    form.set('image', new Blob([new Uint8Array(await solidPng(64, { r: 200, g: 40, b: 40 }))], { type: 'image/png' }), 'in.png');
    const edited = await call(b.httpUrl, 'POST', '/v1/images/edits', { key: 'k', body: form });
    expect(edited.status).toBe(200);
    const imagined = await call(b.httpUrl, 'POST', '/v1/images/imagine', { key: 'k', body: { name: 'n', prompt: 'a lighthouse' } });
    expect(imagined.status).toBe(201);
    const id = (imagined.json as { id: string }).id;
    expect((await call(a.httpUrl, 'GET', `/v1/images/${id}`, { key: 'k' })).status).toBe(200);
    const published = await call(a.httpUrl, 'POST', `/v1/images/${id}/publish`, { key: 'k' });
    const publicUrl = (published.json as { url: string }).url;
    expect((await fetch(publicUrl.replace(a.httpUrl, b.httpUrl))).status).toBe(200);
  });
});
