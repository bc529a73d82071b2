// getResponse and async delivery: statuses, the immediate acknowledgement, re-attaching a running
// task to another session of the same key, and taskNotFound for anyone else.
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerDataItem } from '../../src/protocol/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { finalItem, isErrorOf, isFinal, RawClient, type Received } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';
import { clusterMode } from '../helpers/cluster-mode.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Sends one getResponse and resolves with its answer (items or errors). */
async function getResponse(client: RawClient, taskUUID: string): Promise<{ items: ServerDataItem[]; errors: { code: string }[] }> {
  const from = client.frames.length;
  client.send([{ taskType: 'getResponse', taskUUID }]);
  const frame = await client.waitFor((f) => f.kind === 'json' && (f.data.some((i) => i.status !== undefined) || f.errors.some((e) => e.taskType === 'getResponse')), { from });
  if (frame.kind !== 'json') throw new Error('expected JSON');
  return { items: frame.data, errors: frame.errors };
}

/** Polls getResponse until `accept` holds, as a client would. */
async function pollUntil(client: RawClient, taskUUID: string, accept: (items: ServerDataItem[]) => boolean): Promise<ServerDataItem[]> {
  for (let i = 0; i < 500; i++) {
    const { items } = await getResponse(client, taskUUID);
    if (accept(items)) return items;
  }
  throw new Error('getResponse never reached the expected state');
}

describe('getResponse', () => {
  it('answers processing while running, then every result with status success', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ engine });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 2 });
    client.send([task]);
    await engine.waiting(1);
    const running = await getResponse(client, task.taskUUID);
    expect(running.items).toEqual([{ taskType: 'imageInference', taskUUID: task.taskUUID, status: 'processing', progress: 0 }]);
    engine.openAll();
    await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    const done = await getResponse(client, task.taskUUID);
    expect(done.items.map((item) => [item.status, item.index])).toEqual([
      ['success', 0],
      ['success', 1],
    ]);
    expect(done.items[0]?.imageBase64Data).toBe(finalItem(client.frames.find((f) => isFinal(f, task.taskUUID)) as Received).imageBase64Data);
    await client.close();
  });

  it('reports a failed task with status error and its code', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ seedImage: '0b6f7d0e-3c1a-4e2b-9f8d-7c6b5a4e3d2c' });
    client.send([task]);
    const error = await client.waitFor((f) => isErrorOf(f, task.taskUUID));
    expect(error.kind === 'json' && error.errors[0]).toMatchObject({ code: 'imageNotFound', parameter: 'seedImage' });
    const { items } = await getResponse(client, task.taskUUID);
    expect(items).toEqual([{ taskType: 'imageInference', taskUUID: task.taskUUID, status: 'error', error: { code: 'imageNotFound', message: expect.any(String), parameter: 'seedImage' } }]);
    await client.close();
  });

  it('answers taskNotFound for an unknown task, and for another key\'s task', async () => {
    server = await startTestServer();
    const a = await RawClient.authenticated(server.url, 'key-a');
    const b = await RawClient.authenticated(server.url, 'key-b');
    const task = inferenceTask();
    a.client.send([task]);
    await a.client.waitFor((f) => isFinal(f, task.taskUUID));
    const answer = await getResponse(b.client, task.taskUUID);
    expect(answer.errors[0]).toMatchObject({ code: 'taskNotFound', taskType: 'getResponse', taskUUID: task.taskUUID, parameter: 'taskUUID' });
    expect((await getResponse(a.client, task.taskUUID)).items[0]?.status).toBe('success');
    await a.client.close();
    await b.client.close();
  });

  // Memory only: moves the server's fake clock; in cluster mode Redis expires keys on its own clock (test/cluster/session-log.test.ts, task-store.test.ts).
  it.skipIf(clusterMode)('forgets finished tasks after taskRetentionMs, and the taskUUID can then be sent again', async () => {
    const clock = new FakeClock();
    server = await startTestServer({ taskRetentionMs: 30, clock });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask();
    client.send([task]);
    await client.waitFor((f) => isFinal(f, task.taskUUID));
    clock.advance(29);
    expect((await getResponse(client, task.taskUUID)).items[0]?.status).toBe('success');
    clock.advance(1);
    expect((await getResponse(client, task.taskUUID)).errors[0]).toMatchObject({ code: 'taskNotFound', taskUUID: task.taskUUID });
    const from = client.frames.length;
    client.send([task]);
    await client.waitFor((f) => isFinal(f, task.taskUUID), { from });
    await client.close();
  });
});

describe('deliveryMethod async', () => {
  it('acknowledges at once, pushes no results, and serves them through getResponse', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ deliveryMethod: 'async', numberResults: 2, previews: true });
    client.send([task]);
    const ack = await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === task.taskUUID);
    expect(ack.kind === 'json' && ack.text).toBe(`{"data":[{"taskType":"imageInference","taskUUID":"${task.taskUUID}","status":"processing"}]}`);
    const items = await pollUntil(client, task.taskUUID, (list) => list.filter((i) => i.status === 'success').length === 2);
    expect(items.map((i) => i.index)).toEqual([0, 1]);
    expect(items.every((i) => typeof i.imageBase64Data === 'string')).toBe(true);
    // Nothing was pushed besides the acknowledgement: no previews, no finals.
    expect(client.frames.filter((f) => f.kind === 'json' && f.data.some((i) => i.taskUUID === task.taskUUID && i.status === undefined))).toEqual([]);
    await client.close();
  });

  it('reports an async task that fails through getResponse only', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ deliveryMethod: 'async', seedImage: 'not-an-image!!' });
    client.send([task]);
    // The form of seedImage is checked before the acknowledgement.
    const refused = await client.waitFor((f) => isErrorOf(f, task.taskUUID));
    expect(refused.kind === 'json' && refused.errors[0]?.code).toBe('invalidSeedImage');
    const late = inferenceTask({ deliveryMethod: 'async', seedImage: 'aGVsbG8gd29ybGQsIG5vdCBhbiBpbWFnZQ==' });
    client.send([late]);
    await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === late.taskUUID);
    const items = await pollUntil(client, late.taskUUID, (list) => list.some((i) => i.status === 'error'));
    expect(items.at(-1)).toMatchObject({ status: 'error', error: { code: 'invalidSeedImage', parameter: 'seedImage' } });
    expect(client.frames.filter((f) => isErrorOf(f, late.taskUUID))).toEqual([]);
    await client.close();
  });
});

describe('re-attach', () => {
  it('moves a running task whose session lost its socket to the session that asks for it', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ engine });
    const first = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 3 });
    first.client.send([task]);
    engine.open(1);
    await first.client.waitFor((f) => isFinal(f, task.taskUUID));
    await engine.waiting(1);
    server.faults.dropAll();
    await first.client.waitForClose();

    const second = await RawClient.authenticated(server.url);
    const answer = await getResponse(second.client, task.taskUUID);
    expect(answer.items.map((i) => i.status)).toEqual(['success', 'processing']);
    engine.openAll();
    const rest = await second.client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    expect(rest.map((f) => finalItem(f).index)).toEqual([1, 2]);

    // The first session does not get them again.
    const back = await RawClient.connect(server.url);
    expect(await back.authenticate('test-key', { connectionSessionUUID: first.auth.connectionSessionUUID })).toMatchObject({ resumed: true });
    await back.expectNone((f) => isFinal(f, task.taskUUID));
    await second.client.close();
    await back.close();
  });

  it('leaves a task with its session while that session has an attached socket', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ engine });
    const owner = await RawClient.authenticated(server.url);
    const watcher = await RawClient.authenticated(server.url);
    const task = inferenceTask();
    owner.client.send([task]);
    await engine.waiting(1);
    expect((await getResponse(watcher.client, task.taskUUID)).items[0]?.status).toBe('processing');
    engine.openAll();
    await owner.client.waitFor((f) => isFinal(f, task.taskUUID));
    await watcher.client.expectNone((f) => isFinal(f, task.taskUUID));
    await owner.client.close();
    await watcher.client.close();
  });
});
