// getResponse on the emulator: one frame per poll with every result so far (status "success"), a
// "processing" item while the task runs, a "status":"error" item for a failed task, the original
// task's taskType and taskUUID on every item, and the not-found code.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, type Received } from '../helpers/raw-client.js';
import { imageTask, isErrorOf, isResultOf, json, startFastEmulator } from './kit.js';
import type { RunwareEmulator } from './runware-emulator.js';

let emulator: RunwareEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function connected(options: Parameters<typeof startFastEmulator>[0] = {}): Promise<{ emu: RunwareEmulator; client: RawClient }> {
  emulator = await startFastEmulator(options);
  const { client } = await RawClient.authenticated(emulator.url, 'key-a');
  return { emu: emulator, client };
}

/** Sends a getResponse for `taskUUID` and returns the items of its answer. */
async function poll(client: RawClient, taskUUID: string): Promise<Record<string, unknown>[]> {
  const from = client.frames.length;
  client.send([{ taskType: 'getResponse', taskUUID }]);
  const frame = await client.waitFor((f) => f.kind === 'json' && (f.data.some((item) => item.taskUUID === taskUUID) || f.errors.length > 0), { from });
  return json(frame).data as Record<string, unknown>[];
}

const statuses = (items: Record<string, unknown>[]): unknown[] => items.map((item) => item.status);

describe('getResponse', () => {
  it('reports an async task as processing, then every image as success, on the original identity', async () => {
    const { client } = await connected({ imageDelayMs: 200 });
    const task = imageTask({ deliveryMethod: 'async', numberResults: 2, includeCost: true });
    client.send([task]);
    await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === task.taskUUID);
    const early = await poll(client, task.taskUUID);
    expect(early).toEqual([{ taskType: 'imageInference', taskUUID: task.taskUUID, status: 'processing' }]);
    let items = early;
    while (items.some((item) => item.status === 'processing')) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      items = await poll(client, task.taskUUID);
    }
    expect(statuses(items)).toEqual(['success', 'success']);
    for (const item of items) {
      expect(Object.keys(item)).toEqual(['taskType', 'taskUUID', 'status', 'imageUUID', 'imageURL', 'seed', 'cost']);
      expect(item).toMatchObject({ taskType: 'imageInference', taskUUID: task.taskUUID });
    }
    // Results only through getResponse: none were pushed.
    expect(client.frames.filter(isResultOf(task.taskUUID))).toEqual([]);
    await client.close();
  });

  it('answers for a sync task too, with the items it pushed, while running and after', async () => {
    const { client } = await connected({ imageDelayMs: 150 });
    const task = imageTask({ numberResults: 3 });
    client.send([task]);
    const first = await client.waitFor(isResultOf(task.taskUUID));
    const running = await poll(client, task.taskUUID);
    expect(statuses(running).at(-1)).toBe('processing');
    expect(running[0]).toMatchObject({ status: 'success', imageUUID: (json(first).data as Record<string, unknown>[])[0]!.imageUUID });
    await client.waitForCount(isResultOf(task.taskUUID), 3);
    const done = await poll(client, task.taskUUID);
    expect(statuses(done)).toEqual(['success', 'success', 'success']);
    await client.close();
  });

  it('reports a failed task with the images it made and a status "error" item', async () => {
    const { emu, client } = await connected();
    emu.faults.failNextTasks(1, { afterImages: 1, code: 'inferenceError', message: 'GPU fell over.' });
    const task = imageTask({ numberResults: 3 });
    client.send([task]);
    const failure = json(await client.waitFor(isErrorOf(task.taskUUID)));
    expect(failure.errors).toEqual([{ code: 'inferenceError', message: 'GPU fell over.', taskType: 'imageInference', taskUUID: task.taskUUID }]);
    expect(client.frames.filter(isResultOf(task.taskUUID))).toHaveLength(1);
    const items = await poll(client, task.taskUUID);
    expect(statuses(items)).toEqual(['success', 'error']);
    expect(items[1]).toEqual({ taskType: 'imageInference', taskUUID: task.taskUUID, status: 'error', error: { code: 'inferenceError', message: 'GPU fell over.' } });
    // The next task is not affected.
    const next = imageTask();
    client.send([next]);
    await client.waitFor(isResultOf(next.taskUUID));
    await client.close();
  });

  it('answers an unknown taskUUID with taskFailedOrNotFound, or the configured code', async () => {
    for (const notFoundCode of [undefined, 'taskNotFound']) {
      const { client } = await connected(notFoundCode === undefined ? {} : { notFoundCode });
      const taskUUID = crypto.randomUUID();
      client.send([{ taskType: 'getResponse', taskUUID }]);
      const answer = json(await client.waitFor(isErrorOf(taskUUID)));
      expect(answer.errors).toEqual([
        { code: notFoundCode ?? 'taskFailedOrNotFound', message: expect.any(String), parameter: 'taskUUID', type: 'string', taskType: 'getResponse', taskUUID },
      ]);
      await client.close();
      await emulator?.close();
    }
  });

  it("does not show another key's task", async () => {
    const { emu, client } = await connected();
    const task = imageTask();
    client.send([task]);
    await client.waitFor(isResultOf(task.taskUUID));
    const other = await RawClient.authenticated(emu.url, 'key-b');
    other.client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    expect(json(await other.client.waitFor(isErrorOf(task.taskUUID))).errors).toEqual([expect.objectContaining({ code: 'taskFailedOrNotFound' })]);
    await other.client.close();
    await client.close();
  });

  it('answers several getResponse tasks of one frame, one frame each', async () => {
    const { client } = await connected();
    const a = imageTask();
    const b = imageTask({ numberResults: 2 });
    client.send([a, b]);
    await client.waitFor(isResultOf(a.taskUUID));
    await client.waitForCount(isResultOf(b.taskUUID), 2);
    const from = client.frames.length;
    client.send([
      { taskType: 'getResponse', taskUUID: a.taskUUID },
      { taskType: 'getResponse', taskUUID: b.taskUUID },
    ]);
    const answers = await client.waitForCount((f: Received) => f.kind === 'json' && f.data[0]?.status === 'success', 2, { from });
    expect(answers.map((f) => (json(f).data as unknown[]).length)).toEqual([1, 2]);
    expect(answers.map((f) => (f.kind === 'json' ? f.data[0]?.taskUUID : undefined))).toEqual([a.taskUUID, b.taskUUID]);
    await client.close();
  });

  it('never counts polls as received tasks', async () => {
    const { emu, client } = await connected();
    const task = imageTask();
    client.send([task]);
    await client.waitFor(isResultOf(task.taskUUID));
    await poll(client, task.taskUUID);
    await poll(client, task.taskUUID);
    expect(emu.stats().tasksReceived.get(task.taskUUID)).toBe(1);
    await client.close();
  });
});
