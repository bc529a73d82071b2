// Against a plain Runware server (no imagewire fields in the authentication reply), on a scripted
// socket: extension fields are never sent where they are not understood, and resume is told from
// the session UUID the server answers with.
import { describe, expect, it } from 'vitest';
import { ImagewireClient } from '../../src/client/index.js';
import { nextEvent } from './helpers.js';
import { FakeSocket } from './fake-socket.js';

function client(): ImagewireClient {
  return new ImagewireClient({ apiKey: 'k', url: 'ws://fake/v1', WebSocket: FakeSocket, networkEvents: false, reconnect: { initialDelayMs: 1, maxDelayMs: 2 } });
}

describe('plain Runware server', () => {
  it('does not send the previews field to a server without the extension', async () => {
    FakeSocket.reset({ onConnect: () => 'accept' });
    const c = client();
    await c.connect();
    const task = c.imageInference({ positivePrompt: 'a fox', model: 'runware:101@1', width: 128, height: 128, previews: true });
    const socket = FakeSocket.created[0];
    while (socket?.sent.some((frame) => frame.includes(task.taskUUID)) !== true) await new Promise((resolve) => setImmediate(resolve));
    const frame = socket.sent.find((text) => text.includes(task.taskUUID)) ?? '';
    expect(JSON.parse(frame)).toEqual([expect.not.objectContaining({ previews: expect.anything() })]);
    expect(JSON.parse(frame)[0]).toMatchObject({ taskType: 'imageInference', taskUUID: task.taskUUID, outputType: 'base64Data' });
    await c.close();
  });

  it('sends only the documented fields, from its first frame, and no enable frame to a server that offers nothing', async () => {
    FakeSocket.reset({ onConnect: () => 'accept' });
    const c = client();
    await c.connect();
    await c.ping();
    FakeSocket.created[0]?.drop();
    await nextEvent(c, 'connected');
    await c.ping();
    const tasks = FakeSocket.created.flatMap((socket) => socket.sent.flatMap((frame) => JSON.parse(frame) as Record<string, unknown>[]));
    expect(tasks.map((task) => [task.taskType, Object.keys(task).sort()])).toEqual([
      ['authentication', ['apiKey', 'taskType']],
      ['ping', ['ping', 'taskType']],
      ['authentication', ['apiKey', 'connectionSessionUUID', 'taskType']],
      ['ping', ['ping', 'taskType']],
    ]);
    await c.close();
  });

  it('tells a resume from the session UUID when the reply has no `resumed` field', async () => {
    FakeSocket.reset({ onConnect: () => 'accept' });
    const c = client();
    const first = nextEvent(c, 'connected');
    await c.connect();
    expect((await first).resumed).toBe(false);
    const second = nextEvent(c, 'connected');
    FakeSocket.created[0]?.drop();
    expect((await second).resumed).toBe(true);
    const auth = JSON.parse(FakeSocket.created[1]?.sent[0] ?? '[]') as [{ connectionSessionUUID?: string; ack?: number }];
    expect(auth[0].connectionSessionUUID).toBe('11111111-1111-4111-8111-111111111111');
    await c.close();
  });
});
