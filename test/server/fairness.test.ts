// Engine slots between keys: input fetches and uploadEndpoint PUTs hold no slot (with every guarantee
// of the task kept through the phases), and slots are served round robin by key, so key A's slow
// inputs, slow uploads or long queue never hold back key B's task.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { startHeldHttp } from '../helpers/held-http.js';
import { solidPng } from '../helpers/http-fixture.js';
import { recordingEngine } from '../helpers/images-api.js';
import { finalItem, isErrorOf, isFinal, itemOf, QUIET_MS, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

/** The slow listeners these tests hold fetches and PUTs on live on loopback, which the server only reaches when told to. */
const loopback = { allowPrivateNetwork: true } as const;

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function codeOf(client: RawClient, taskUUID: string): Promise<string | undefined> {
  const frame = await client.waitFor((f) => isErrorOf(f, taskUUID));
  return frame.kind === 'json' ? frame.errors[0]?.code : undefined;
}

/** Sends a ping and waits for its pong: every frame sent before it on this socket was handled. */
async function ping(client: RawClient): Promise<void> {
  const from = client.frames.length;
  client.send([{ taskType: 'ping', ping: true }]);
  await client.waitFor((f) => f.kind === 'json' && f.data[0]?.pong === true, { from });
}

async function cancel(client: RawClient, taskUUID: string): Promise<unknown> {
  const from = client.frames.length;
  client.send([{ taskType: 'cancel', taskUUID }]);
  return itemOf(await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskType === 'cancel', { from }));
}

describe('input fetches hold no engine slot', () => {
  it("lets B's task run while A's seedImage URLs answer slowly", async () => {
    await using slow = await startHeldHttp(await solidPng(64, 64, '#3366cc'));
    server = await startTestServer({ ...loopback, limits: { maxConcurrentTasks: 2 } });
    const a = await RawClient.authenticated(server.url, 'key-a');
    const b = await RawClient.authenticated(server.url, 'key-b');
    const slowTasks = [1, 2, 3, 4].map((i) => inferenceTask({ seedImage: `${slow.url}/seed-${i}.png`, strength: 0.5 }));
    a.client.send(slowTasks);
    await slow.received(2);
    const quick = inferenceTask();
    b.client.send([quick]);
    // Were the fetches in engine slots, both would be taken and B would wait for A's URLs.
    await b.client.waitFor((f) => isFinal(f, quick.taskUUID));
    expect(slow.requests.some((request) => request.answered)).toBe(false);
    slow.releaseAll();
    for (const task of slowTasks) await a.client.waitFor((f) => isFinal(f, task.taskUUID));
    await a.client.close();
    await b.client.close();
  });

  it("lets B's task run while A's imageUpload fetches its URL slowly", async () => {
    await using slow = await startHeldHttp(await solidPng(64, 64, '#3366cc'));
    server = await startTestServer({ ...loopback, limits: { maxConcurrentTasks: 1 } });
    const a = await RawClient.authenticated(server.url, 'key-a');
    const b = await RawClient.authenticated(server.url, 'key-b');
    const upload = { taskType: 'imageUpload', taskUUID: inferenceTask().taskUUID, image: `${slow.url}/upload.png` };
    a.client.send([upload]);
    await slow.received(1);
    const quick = inferenceTask();
    b.client.send([quick]);
    await b.client.waitFor((f) => isFinal(f, quick.taskUUID));
    slow.releaseAll();
    const answer = await a.client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === upload.taskUUID);
    expect(itemOf(answer)).toMatchObject({ taskType: 'imageUpload', imageUUID: expect.any(String) as string });
    await a.client.close();
    await b.client.close();
  });

  it('resolves inputs in as many slots as the engine has, shared round robin by key', async () => {
    await using slow = await startHeldHttp(await solidPng(64, 64, '#3366cc'));
    server = await startTestServer({ ...loopback, limits: { maxConcurrentTasks: 1 } });
    const a = await RawClient.authenticated(server.url, 'key-a');
    const b = await RawClient.authenticated(server.url, 'key-b');
    const aTasks = [1, 2, 3].map((i) => inferenceTask({ seedImage: `${slow.url}/a${i}.png` }));
    a.client.send(aTasks);
    await slow.received(1);
    await ping(a.client);
    const bTask = inferenceTask({ seedImage: `${slow.url}/b1.png` });
    b.client.send([bTask]);
    await ping(b.client);
    // One fetch at a time: inputs fetched ahead of the engine stay as bounded as the engine's own.
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect(slow.requests).toHaveLength(1);
    for (let i = 1; i <= 4; i++) {
      await slow.received(i);
      slow.release(1);
    }
    // A's first was fetching when B asked; then the keys take turns.
    expect(slow.requests.map((request) => request.path)).toEqual(['/a1.png', '/a2.png', '/b1.png', '/a3.png']);
    for (const task of aTasks) await a.client.waitFor((f) => isFinal(f, task.taskUUID));
    await b.client.waitFor((f) => isFinal(f, bTask.taskUUID));
    await a.client.close();
    await b.client.close();
  });

  it('counts a task waiting for its inputs against the in-flight limits of its key', async () => {
    await using slow = await startHeldHttp(await solidPng(64, 64, '#3366cc'));
    server = await startTestServer({ ...loopback, limits: { maxInFlightPerKey: 1 } });
    const a = await RawClient.authenticated(server.url, 'key-a');
    const b = await RawClient.authenticated(server.url, 'key-b');
    const waiting = inferenceTask({ seedImage: `${slow.url}/seed.png` });
    a.client.send([waiting]);
    await slow.received(1);
    const refused = inferenceTask();
    a.client.send([refused]);
    expect(await codeOf(a.client, refused.taskUUID)).toBe('tooManyTasksInFlight');
    const other = inferenceTask();
    b.client.send([other]);
    await b.client.waitFor((f) => isFinal(f, other.taskUUID));
    slow.releaseAll();
    await a.client.waitFor((f) => isFinal(f, waiting.taskUUID));
    await a.client.close();
    await b.client.close();
  });

  it('stops a task waiting for its inputs when it is cancelled: the fetch is aborted', async () => {
    await using slow = await startHeldHttp(await solidPng(64, 64, '#3366cc'));
    server = await startTestServer(loopback);
    const { client } = await RawClient.authenticated(server.url, 'key-a');
    const task = inferenceTask({ seedImage: `${slow.url}/seed.png` });
    client.send([task]);
    await slow.received(1);
    expect(await cancel(client, task.taskUUID)).toEqual({ taskType: 'cancel', taskUUID: task.taskUUID, cancelled: true });
    await slow.abandoned(1);
    const live = server;
    await eventually(() => live.stats().tasksRunning, (n) => n === 0);
    await client.expectNone((f) => isFinal(f, task.taskUUID) || isErrorOf(f, task.taskUUID));
    await client.close();
  });
});

describe('uploadEndpoint PUTs hold no engine slot', () => {
  it("lets B's task run while A's finals upload slowly, and still delivers A's finals in order, each after its upload", async () => {
    await using slow = await startHeldHttp();
    server = await startTestServer({ ...loopback, limits: { maxConcurrentTasks: 1 } });
    const a = await RawClient.authenticated(server.url, 'key-a');
    const b = await RawClient.authenticated(server.url, 'key-b');
    const uploading = inferenceTask({ numberResults: 2, uploadEndpoint: `${slow.url}/out` });
    a.client.send([uploading]);
    await slow.received(1);
    const quick = inferenceTask();
    b.client.send([quick]);
    // With the only slot held through the upload, B would wait for A's endpoint.
    await b.client.waitFor((f) => isFinal(f, quick.taskUUID));
    expect(a.client.framesOf(uploading.taskUUID)).toEqual([]);
    // One PUT at a time: the second starts only after the first succeeded, and each final follows its PUT.
    expect(slow.requests).toHaveLength(1);
    slow.release(1);
    const first = await a.client.waitFor((f) => isFinal(f, uploading.taskUUID));
    expect(finalItem(first).index).toBe(0);
    await slow.received(2);
    await a.client.expectNone((f) => isFinal(f, uploading.taskUUID), { from: a.client.frames.indexOf(first) + 1 });
    slow.release(1);
    const second = await a.client.waitFor((f) => isFinal(f, uploading.taskUUID), { from: a.client.frames.indexOf(first) + 1 });
    expect(finalItem(second).index).toBe(1);
    const live = server;
    await eventually(() => live.stats().tasksRunning, (n) => n === 0);
    await a.client.close();
    await b.client.close();
  });

  it('ends the task with uploadFailed at the first failed PUT and uploads nothing after it', async () => {
    await using slow = await startHeldHttp();
    server = await startTestServer(loopback);
    const { client } = await RawClient.authenticated(server.url, 'key-a');
    const task = inferenceTask({ numberResults: 3, uploadEndpoint: `${slow.url}/out` });
    client.send([task]);
    await slow.received(1);
    slow.release(1);
    await client.waitFor((f) => isFinal(f, task.taskUUID));
    await slow.received(2);
    slow.release(1, 500);
    expect(await codeOf(client, task.taskUUID)).toBe('uploadFailed');
    expect(client.framesOf(task.taskUUID).filter((f) => isFinal(f, task.taskUUID))).toHaveLength(1);
    await client.expectNone((f) => isFinal(f, task.taskUUID), { from: client.frames.length });
    expect(slow.requests).toHaveLength(2);
    const live = server;
    await eventually(() => live.stats().tasksRunning, (n) => n === 0);
    await client.close();
  });

  it('counts an uploading task against the in-flight limits of its key until its last PUT', async () => {
    await using slow = await startHeldHttp();
    server = await startTestServer({ ...loopback, limits: { maxInFlightPerKey: 1 } });
    const { client } = await RawClient.authenticated(server.url, 'key-a');
    const uploading = inferenceTask({ uploadEndpoint: `${slow.url}/out` });
    client.send([uploading]);
    await slow.received(1);
    const refused = inferenceTask();
    client.send([refused]);
    expect(await codeOf(client, refused.taskUUID)).toBe('tooManyTasksInFlight');
    slow.release(1);
    await client.waitFor((f) => isFinal(f, uploading.taskUUID));
    const next = inferenceTask();
    client.send([next]);
    await client.waitFor((f) => isFinal(f, next.taskUUID));
    await client.close();
  });

  it('stops an uploading task when it is cancelled: the PUT is aborted and no final is sent', async () => {
    await using slow = await startHeldHttp();
    server = await startTestServer(loopback);
    const { client } = await RawClient.authenticated(server.url, 'key-a');
    const task = inferenceTask({ uploadEndpoint: `${slow.url}/out` });
    client.send([task]);
    await slow.received(1);
    expect(await cancel(client, task.taskUUID)).toEqual({ taskType: 'cancel', taskUUID: task.taskUUID, cancelled: true });
    await slow.abandoned(1);
    const live = server;
    await eventually(() => live.stats().tasksRunning, (n) => n === 0);
    await client.expectNone((f) => isFinal(f, task.taskUUID));
    await client.close();
  });

  it('aborts fetches and PUTs in progress when the server shuts down', async () => {
    await using slowInput = await startHeldHttp(await solidPng(64, 64, '#3366cc'));
    await using slowUpload = await startHeldHttp();
    server = await startTestServer(loopback);
    const { client } = await RawClient.authenticated(server.url, 'key-a');
    client.send([inferenceTask({ seedImage: `${slowInput.url}/seed.png` }), inferenceTask({ uploadEndpoint: `${slowUpload.url}/out` })]);
    await slowInput.received(1);
    await slowUpload.received(1);
    await server.close();
    await slowInput.abandoned(1);
    await slowUpload.abandoned(1);
    expect(server.stats().tasksRunning).toBe(0);
  });
});

describe('engine slots are served round robin by key', () => {
  it("runs B's task after at most one more of A's, however many A queued", async () => {
    const recorder = recordingEngine();
    const engine = createGateEngine(recorder);
    server = await startTestServer({ engine, limits: { maxConcurrentTasks: 1 } });
    const a = await RawClient.authenticated(server.url, 'key-a');
    const b = await RawClient.authenticated(server.url, 'key-b');
    const aTasks = Array.from({ length: 8 }, () => inferenceTask());
    a.client.send(aTasks);
    await engine.waiting(1);
    // A's whole queue is in before B asks: the pong comes after A's frame was handled.
    await ping(a.client);
    const bTasks = [inferenceTask(), inferenceTask()];
    b.client.send(bTasks);
    await ping(b.client);
    engine.openAll();
    for (const task of aTasks) await a.client.waitFor((f) => isFinal(f, task.taskUUID));
    for (const task of bTasks) await b.client.waitFor((f) => isFinal(f, task.taskUUID));
    const order = recorder.requests.map((request) => (bTasks.some((task) => task.taskUUID === request.taskUUID) ? 'B' : 'A'));
    // A's first was running when B asked; then the keys take turns until B has nothing left.
    expect(order.join('')).toBe('AABABAAAAA');
    await a.client.close();
    await b.client.close();
  });
});
