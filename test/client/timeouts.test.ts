// The connect and auth deadlines on fake time: a socket that never opens, or opens and never
// answers the authentication, is given up with a TimeoutError of its phase and retried; and a
// frame from a replaced socket does nothing.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ImagewireClient, TimeoutError, type ImagewireError } from '../../src/client/index.js';
import { FakeSocket } from './fake-socket.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function client(): { c: ImagewireClient; errors: ImagewireError[] } {
  const c = new ImagewireClient({ apiKey: 'k', url: 'ws://fake/v1', WebSocket: FakeSocket, networkEvents: false, connectTimeoutMs: 1_000, authTimeoutMs: 500, reconnect: { initialDelayMs: 10 } });
  const errors: ImagewireError[] = [];
  c.on('error', (error) => errors.push(error));
  return { c, errors };
}

describe('deadlines of an attempt', () => {
  it('gives up a socket that does not open within connectTimeoutMs, and retries', async () => {
    FakeSocket.reset({ onConnect: () => 'accept', open: 'hang' });
    const { c, errors } = client();
    void c.connect().catch(() => undefined);
    await vi.advanceTimersByTimeAsync(999);
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors[0]).toBeInstanceOf(TimeoutError);
    expect(errors[0]).toMatchObject({ phase: 'connect', code: 'connectTimeout', timeoutMs: 1_000 });
    expect(FakeSocket.created[0]?.readyState).toBe(3);
    await vi.advanceTimersByTimeAsync(20);
    expect(FakeSocket.created.length).toBe(2);
    await c.close();
  });

  it('gives up an authentication that gets no reply within authTimeoutMs', async () => {
    FakeSocket.reset({ onConnect: () => 'silent' });
    const { c, errors } = client();
    void c.connect().catch(() => undefined);
    await vi.advanceTimersByTimeAsync(500);
    expect(errors[0]).toMatchObject({ name: 'TimeoutError', phase: 'auth' });
    expect(c.state).toBe('reconnecting');
    await c.close();
  });

  it('ignores a frame that arrives on a socket it already replaced', async () => {
    FakeSocket.reset({ onConnect: () => 'accept' });
    const { c } = client();
    await c.connect();
    const old = FakeSocket.created[0];
    old?.drop();
    await vi.advanceTimersByTimeAsync(20);
    expect(c.state).toBe('open');
    // A late frame on the old socket (forced open again) reaches no listener.
    if (old !== undefined) old.readyState = 1;
    const task = c.imageInference({ positivePrompt: 'a fox', model: 'runware:101@1', width: 128, height: 128 });
    old?.receive({ data: [{ taskType: 'imageInference', taskUUID: task.taskUUID, imageUUID: 'x', imageBase64Data: 'AAAA', index: 0 }] });
    expect(task.state).toBe('running');
    expect(old?.listenerCount()).toBe(1);
    await c.close();
  });
});
