// Every task has exactly one ending: abort (local, and cancel on the server), leaving the loop,
// a timeout, close() with tasks open. Aborts reject with the signal's reason.
import { describe, expect, it } from 'vitest';
import { ConnectionError, TimeoutError } from '../../src/index.js';
import { nextEvent, waitForState } from './helpers.js';
import { clientOf, closeAfterTest, smallRequest } from '../helpers/test-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Resolves when the server runs no task any more (the cancel reached it). */
function serverIdle(server: TestServer): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (server.stats().tasksRunning === 0 ? resolve() : setImmediate(check));
    check();
  });
}

describe('ending tasks', () => {
  it('rejects with the signal reason on abort and cancels the task on the server', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 20 }));
    const client = clientOf(server);
    const controller = new AbortController();
    const task = client.imageInference(smallRequest({ steps: 50, previews: true, signal: controller.signal }));
    for await (const event of client.imageInference(smallRequest())) void event;
    // Abort once the task runs on the server.
    await new Promise<void>((resolve) => {
      const check = () => (server.stats().tasksRunning > 0 ? resolve() : setImmediate(check));
      check();
    });
    const reason = new Error('user navigated away');
    controller.abort(reason);
    await expect(task.result()).rejects.toBe(reason);
    expect(task.state).toBe('cancelled');
    await serverIdle(server);
  });

  it('rejects at once for a signal that is already aborted, and sends nothing', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const task = client.imageInference(smallRequest({ signal: AbortSignal.abort('too late') }));
    await expect(task.result()).rejects.toBe('too late');
    expect(client.stats().attempts).toBe(0);
  });

  it('cancels locally and on the server when the consumer leaves the loop', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 20 }));
    const client = clientOf(server);
    const task = client.imageInference(smallRequest({ steps: 50, previews: true }));
    for await (const event of task) {
      expect(event.type).toBe('preview');
      break;
    }
    expect(task.state).toBe('cancelled');
    await serverIdle(server);
  });

  it('times out a task with a TimeoutError of phase task, and cancels it on the server', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 50 }));
    const client = clientOf(server);
    const task = client.imageInference(smallRequest({ steps: 50, timeoutMs: 200 }));
    await expect(task.result()).rejects.toBeInstanceOf(TimeoutError);
    await expect(task.result()).rejects.toMatchObject({ phase: 'task', code: 'taskTimeout', timeoutMs: 200 });
    await serverIdle(server);
  });

  it('times out a task that waits for a connection that never comes', async () => {
    const server = closeAfterTest(await startTestServer());
    await server.close();
    const client = clientOf(server, { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    const task = client.imageInference(smallRequest({ timeoutMs: 150 }));
    await expect(task.result()).rejects.toMatchObject({ name: 'TimeoutError', phase: 'task' });
    expect(client.stats().outboxFrames).toBe(0);
  });

  it('settles every open task with clientClosed on close() and never reconnects', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 20 }));
    const client = clientOf(server);
    const tasks = Array.from({ length: 5 }, () => client.imageInference(smallRequest({ steps: 50 })));
    await nextEvent(client, 'connected');
    await client.close();
    for (const task of tasks) {
      await expect(task.result()).rejects.toBeInstanceOf(ConnectionError);
      await expect(task.result()).rejects.toMatchObject({ code: 'clientClosed' });
    }
    expect(client.state).toBe('closed');
    await expect(client.imageInference(smallRequest()).result()).rejects.toMatchObject({ code: 'clientClosed' });
    await expect(client.ping()).rejects.toMatchObject({ code: 'clientClosed' });
    await serverIdle(server);
    expect(server.stats().connections).toBe(0);
  });

  it('closes while reconnecting without a socket left behind', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server, { reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    await client.connect();
    server.faults.closeOnConnect(100);
    server.faults.dropAll();
    await waitForState(client, 'reconnecting');
    await client.close();
    expect(client.state).toBe('closed');
  });

  it('gives up after maxAttempts failures in a row and ends tasks with reconnectFailed', async () => {
    const server = closeAfterTest(await startTestServer());
    server.faults.closeOnConnect(100);
    const client = clientOf(server, { reconnect: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 } });
    const task = client.imageInference(smallRequest());
    await expect(task.result()).rejects.toMatchObject({ name: 'ConnectionError', code: 'reconnectFailed' });
    expect(client.state).toBe('closed');
    expect(client.stats().attempts).toBe(3);
  });
});
