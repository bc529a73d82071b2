// Routing of received frames, on a scripted socket: the cases the official SDKs get wrong
// (sdk-js probe P9–P12): a frame mixing two tasks, one errors frame for two tasks, a progress item
// that is not a result, an error naming no task, and a listener that throws.
import { describe, expect, it } from 'vitest';
import { ImagewireClient, type ImageInferenceRequest } from '../../src/client/index.js';
import { FakeSocket } from './fake-socket.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const request: ImageInferenceRequest = { positivePrompt: 'a fox', model: 'runware:101@1', width: 128, height: 128, numberResults: 2 };

function image(taskUUID: string, index: number) {
  return { taskType: 'imageInference', taskUUID, imageUUID: `5d0c0b4e-2f2b-4f3e-9f5a-5b0b9a2f4c1${index}`, imageBase64Data: PNG, index };
}

async function connected(options: { onListenerError?: (error: unknown) => void } = {}) {
  FakeSocket.reset({ onConnect: () => 'accept' });
  const client = new ImagewireClient({ apiKey: 'k', url: 'ws://fake/v1', WebSocket: FakeSocket, networkEvents: false, ...options });
  await client.connect();
  const socket = FakeSocket.created.at(-1);
  if (socket === undefined) throw new Error('no socket');
  return { client, socket };
}

/** Resolves once the socket has seen a frame for `taskUUID` (the task was written). */
async function written(socket: FakeSocket, taskUUID: string): Promise<void> {
  while (!socket.sent.some((frame) => frame.includes(taskUUID))) await new Promise((resolve) => setImmediate(resolve));
}

describe('routing', () => {
  it('splits a frame carrying items of two tasks between them (P9)', async () => {
    const { client, socket } = await connected();
    const a = client.imageInference(request);
    const b = client.imageInference(request);
    await written(socket, b.taskUUID);
    socket.receive({ data: [image(a.taskUUID, 0), image(b.taskUUID, 0)] });
    socket.receive({ data: [image(a.taskUUID, 1), image(b.taskUUID, 1)] });
    const [imagesA, imagesB] = await Promise.all([a.result(), b.result()]);
    expect(imagesA.map((i) => [i.taskUUID, i.index])).toEqual([
      [a.taskUUID, 0],
      [a.taskUUID, 1],
    ]);
    expect(imagesB.map((i) => [i.taskUUID, i.index])).toEqual([
      [b.taskUUID, 0],
      [b.taskUUID, 1],
    ]);
    await client.close();
  });

  it('gives each task its own error from one errors frame (P10)', async () => {
    const { client, socket } = await connected();
    const a = client.imageInference(request);
    const b = client.imageInference(request);
    await written(socket, b.taskUUID);
    socket.receive({
      errors: [
        { code: 'invalidSteps', message: 'a', parameter: 'steps', taskType: 'imageInference', taskUUID: a.taskUUID },
        { code: 'invalidCFGScale', message: 'b', parameter: 'CFGScale', taskType: 'imageInference', taskUUID: b.taskUUID },
      ],
    });
    await expect(a.result()).rejects.toMatchObject({ code: 'invalidSteps', taskUUID: a.taskUUID });
    await expect(b.result()).rejects.toMatchObject({ code: 'invalidCFGScale', taskUUID: b.taskUUID });
    await client.close();
  });

  it('does not take a progress item for a result (P11)', async () => {
    const { client, socket } = await connected();
    const task = client.imageInference({ ...request, numberResults: 1 });
    await written(socket, task.taskUUID);
    socket.receive({ data: [{ taskType: 'imageInference', taskUUID: task.taskUUID, status: 'processing', progress: 50 }] });
    expect(task.state).toBe('running');
    socket.receive({ data: [image(task.taskUUID, 0)] });
    expect((await task.result())[0]?.imageUUID).toBe(image(task.taskUUID, 0).imageUUID);
    await client.close();
  });

  it('reports an error that names no task and fails no task', async () => {
    const { client, socket } = await connected();
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    const task = client.imageInference({ ...request, numberResults: 1 });
    await written(socket, task.taskUUID);
    socket.receive({ errors: [{ code: 'invalidJSON', message: 'the frame is not valid JSON' }] });
    expect(task.state).toBe('running');
    expect(errors).toMatchObject([{ code: 'invalidJSON' }]);
    socket.receive({ data: [image(task.taskUUID, 0)] });
    expect(await task.result()).toHaveLength(1);
    await client.close();
  });

  it('keeps running when a listener throws (P12), and reports the throw', async () => {
    const reported: unknown[] = [];
    const { client, socket } = await connected({ onListenerError: (error) => reported.push(error) });
    client.on('error', () => {
      throw new Error('listener bug');
    });
    let later = 0;
    client.on('error', () => later++);
    const task = client.imageInference({ ...request, numberResults: 1 });
    await written(socket, task.taskUUID);
    socket.receive({ errors: [{ code: 'invalidFrame', message: 'x' }] });
    socket.receive({ data: [image(task.taskUUID, 0)] });
    expect(await task.result()).toHaveLength(1);
    expect(reported).toMatchObject([{ message: 'listener bug' }]);
    expect(later).toBe(1);
    await client.close();
  });

  it('ignores items of tasks it does not know and late items of ended tasks', async () => {
    const { client, socket } = await connected();
    const task = client.imageInference({ ...request, numberResults: 1 });
    await written(socket, task.taskUUID);
    socket.receive({ data: [image(task.taskUUID, 0)] });
    await task.result();
    socket.receive({ data: [image(task.taskUUID, 0)] });
    socket.receive({ data: [image('7f000000-0000-4000-8000-000000000000', 0)] });
    expect(client.stats().orphanItems).toBe(2);
    await client.close();
  });
});
