// Half-open sockets against the real server: a peer that stops answering pings, or stops writing
// anything, is detected by the keepalive deadline and replaced; no task is swallowed.
import { describe, expect, it } from 'vitest';
import { TimeoutError, type ImageInferenceEvent, type ImageResult, type TaskStream } from '../../src/index.js';
import { nextEvent } from './helpers.js';
import { clientOf, closeAfterTest, smallRequest } from '../helpers/test-client.js';
import { startTestServer } from '../helpers/test-server.js';

async function finalsOf(task: TaskStream<ImageInferenceEvent, ImageResult[]>): Promise<number[]> {
  const finals: number[] = [];
  for await (const event of task) if (event.type === 'final') finals.push(event.index);
  return finals.sort((a, b) => a - b);
}

describe('half-open connections', () => {
  it('replaces a socket whose pongs are withheld', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server, { keepAlive: { intervalMs: 100, pongTimeoutMs: 100 } });
    await client.connect();
    const dead = nextEvent(client, 'disconnected');
    server.faults.withholdPongs(true);
    const { error } = await dead;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: 'pong', code: 'pongTimeout' });
    server.faults.withholdPongs(false);
    await nextEvent(client, 'connected');
    expect(await client.imageInference(smallRequest()).result()).toHaveLength(1);
  });

  it('does not let a frozen peer swallow a task: the task completes after the socket is replaced', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 1 }));
    const client = clientOf(server, { keepAlive: { intervalMs: 100, pongTimeoutMs: 100 } });
    await client.connect();
    server.faults.freeze(true);
    const task = client.imageInference(smallRequest({ numberResults: 2 }));
    const finals = finalsOf(task);
    await nextEvent(client, 'disconnected', (info) => info.error.code === 'pongTimeout');
    server.faults.freeze(false);
    expect(await finals).toEqual([0, 1]);
  });

  it('checks a socket whose timers were frozen before writing to it', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server, { keepAlive: { intervalMs: 60_000, pongTimeoutMs: 100 } });
    await client.connect();
    server.faults.freeze(true);
    // Nothing was received for longer than a ping and its deadline: the next task write triggers
    // a health check instead of trusting the socket (socket.io's wall-clock idea).
    const { now } = Date;
    Date.now = () => now() + 120_000;
    try {
      const dead = nextEvent(client, 'disconnected');
      const task = client.imageInference(smallRequest());
      expect((await dead).error.code).toBe('pongTimeout');
      server.faults.freeze(false);
      expect(await task.result()).toHaveLength(1);
    } finally {
      Date.now = now;
    }
  });
});
