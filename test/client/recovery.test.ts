// Recovery rules on a scripted imagewire-like server whose session is never resumed: ask with
// getResponse; send again, under the same taskUUID, only after taskNotFound; end the task with a
// SessionLostError when it cannot be recovered; never send work under a new taskUUID.
import { afterEach, describe, expect, it } from 'vitest';
import { ImagewireClient, SessionLostError, type ImageInferenceRequest } from '../../src/client/index.js';
import { FakeSocket } from './fake-socket.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const request: ImageInferenceRequest = { positivePrompt: 'a fox', model: 'runware:101@1', width: 128, height: 128 };
let sessions = 0;

/** An auth reply that never resumes: a new session UUID every time, imagewire fields present. */
function freshSession() {
  sessions++;
  const uuid = `00000000-0000-4000-8000-${String(sessions).padStart(12, '0')}`;
  return { data: [{ taskType: 'authentication', connectionSessionUUID: uuid, resumed: false, extensions: ['cancel'], enabledExtensions: [] }] };
}

function written(socket: FakeSocket | undefined, taskType: string): Record<string, unknown>[] {
  return (socket?.sent ?? []).map((text) => (JSON.parse(text) as Record<string, unknown>[])[0] ?? {}).filter((task) => task.taskType === taskType);
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

const clients: ImagewireClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

function client(): ImagewireClient {
  const c = new ImagewireClient({ apiKey: 'k', url: 'ws://fake/v1', WebSocket: FakeSocket, networkEvents: false, reconnect: { initialDelayMs: 1, maxDelayMs: 2 } });
  clients.push(c);
  return c;
}

describe('recovery after a session that was not resumed', () => {
  it('sends the task again under the same taskUUID only after taskNotFound', async () => {
    FakeSocket.reset({
      onConnect: () => 'accept',
      authReply: freshSession,
      onTask: (task, socket) => {
        // The first socket swallows the task (it died in flight); the second knows nothing of it.
        if (task.taskType === 'getResponse') socket.receive({ errors: [{ code: 'taskNotFound', message: 'unknown', taskType: 'getResponse', taskUUID: task.taskUUID }] });
        if (task.taskType === 'imageInference' && FakeSocket.created.indexOf(socket) === 1) {
          socket.receive({ data: [{ taskType: 'imageInference', taskUUID: task.taskUUID, imageUUID: '6a0c0b4e-2f2b-4f3e-9f5a-5b0b9a2f4c11', imageBase64Data: PNG, index: 0 }] });
        }
      },
    });
    const c = client();
    const task = c.imageInference(request);
    await until(() => written(FakeSocket.created[0], 'imageInference').length === 1);
    FakeSocket.created[0]?.drop();
    expect(await task.result()).toHaveLength(1);
    const second = FakeSocket.created[1];
    // Asked first, then sent again: the same taskUUID, and nothing else about this task.
    const order = (second?.sent ?? []).map((text) => (JSON.parse(text) as { taskType: string; taskUUID?: string }[])[0]).filter((t) => t?.taskUUID === task.taskUUID).map((t) => t?.taskType);
    expect(order).toEqual(['getResponse', 'imageInference']);
    expect(written(second, 'imageInference')[0]).toEqual(written(FakeSocket.created[0], 'imageInference')[0]);
    expect(c.stats()).toMatchObject({ checks: 1, resends: 1 });
  });

  it('does not send the task again when getResponse shows the server has it', async () => {
    FakeSocket.reset({
      onConnect: () => 'accept',
      authReply: freshSession,
      onTask: (task, socket) => {
        if (task.taskType === 'getResponse') {
          socket.receive({ data: [{ taskType: 'imageInference', taskUUID: task.taskUUID, imageUUID: '6a0c0b4e-2f2b-4f3e-9f5a-5b0b9a2f4c11', imageBase64Data: PNG, index: 0, status: 'success' }] });
        }
      },
    });
    const c = client();
    const task = c.imageInference(request);
    await until(() => written(FakeSocket.created[0], 'imageInference').length === 1);
    FakeSocket.created[0]?.drop();
    expect(await task.result()).toHaveLength(1);
    expect(written(FakeSocket.created[1], 'imageInference')).toEqual([]);
    expect(c.stats()).toMatchObject({ checks: 1, resends: 0 });
  });

  it('ends the task with a SessionLostError when the server cannot say', async () => {
    FakeSocket.reset({
      onConnect: () => 'accept',
      authReply: freshSession,
      onTask: (task, socket) => {
        if (task.taskType === 'getResponse') socket.receive({ errors: [{ code: 'internalServerError', message: 'the task store is down', taskType: 'getResponse', taskUUID: task.taskUUID }] });
      },
    });
    const c = client();
    const task = c.imageInference(request);
    await until(() => written(FakeSocket.created[0], 'imageInference').length === 1);
    FakeSocket.created[0]?.drop();
    await expect(task.result()).rejects.toBeInstanceOf(SessionLostError);
    await expect(task.result()).rejects.toMatchObject({ code: 'sessionLost', taskUUID: task.taskUUID, cause: { code: 'internalServerError' } });
    expect(written(FakeSocket.created[1], 'imageInference')).toEqual([]);
  });

  it('asks again after every reconnect until it gets an answer (answers are never replayed)', async () => {
    let answer = false;
    FakeSocket.reset({
      onConnect: () => 'accept',
      authReply: freshSession,
      onTask: (task, socket) => {
        if (task.taskType === 'getResponse' && answer) {
          socket.receive({ data: [{ taskType: 'imageInference', taskUUID: task.taskUUID, imageUUID: '6a0c0b4e-2f2b-4f3e-9f5a-5b0b9a2f4c11', imageBase64Data: PNG, index: 0, status: 'success' }] });
        }
      },
    });
    const c = client();
    const task = c.imageInference(request);
    await until(() => written(FakeSocket.created[0], 'imageInference').length === 1);
    FakeSocket.created[0]?.drop();
    await until(() => written(FakeSocket.created[1], 'getResponse').length === 1);
    answer = true;
    FakeSocket.created[1]?.drop();
    expect(await task.result()).toHaveLength(1);
    expect(written(FakeSocket.created[2], 'getResponse')).toHaveLength(1);
    expect(FakeSocket.created.flatMap((socket) => written(socket, 'imageInference'))).toHaveLength(1);
  });
});
