// Backpressure against the real server: a slow consumer holds at most one preview per result
// index plus the finals; maxInFlight caps the tasks in flight; the waiting queue and the outbox are
// bounded, and a full one refuses (QueueFullError) or waits, as configured.
import { describe, expect, it } from 'vitest';
import { QueueFullError } from '../../src/index.js';
import { waitForState } from './helpers.js';
import { clientOf, closeAfterTest, smallRequest } from '../helpers/test-client.js';
import { startTestServer } from '../helpers/test-server.js';

describe('backpressure', () => {
  it('keeps a slow consumer bounded: one preview per index, finals kept', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const numberResults = 4;
    const task = client.imageInference(smallRequest({ numberResults, steps: 60, previews: { maxSide: 32 } }));
    let maxBuffered = 0;
    // Nobody reads while the task runs: sample what is buffered until it ends.
    const images = await new Promise<number>((resolve) => {
      const sample = () => {
        maxBuffered = Math.max(maxBuffered, task.buffered);
        if (task.state !== 'running') resolve(task.buffered);
        else setImmediate(sample);
      };
      sample();
    });
    // After completion only the finals are left (each final superseded its index's preview).
    expect(images).toBe(numberResults);
    expect(maxBuffered).toBeLessThanOrEqual(2 * numberResults);
    const events: string[] = [];
    for await (const event of task) events.push(event.type);
    expect(events).toEqual(['final', 'final', 'final', 'final']);
  });

  it('sends previews only when asked for', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const previews: number[] = [];
    for await (const event of client.imageInference(smallRequest({ steps: 6, previews: true }))) if (event.type === 'preview') previews.push(event.step);
    expect(previews.length).toBeGreaterThan(0);
    expect(previews).toEqual([...previews].sort((a, b) => a - b));
    const plain: string[] = [];
    for await (const event of client.imageInference(smallRequest({ steps: 6 }))) plain.push(event.type);
    expect(plain).toEqual(['final']);
  });

  it('caps the tasks in flight', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 1 }));
    const client = clientOf(server, { maxInFlight: 3 });
    let maxInFlight = 0;
    let maxServer = 0;
    const tasks = Array.from({ length: 12 }, () => client.imageInference(smallRequest({ steps: 4 })));
    await Promise.all(
      tasks.map(async (task) => {
        for await (const _event of task) {
          maxInFlight = Math.max(maxInFlight, client.stats().inFlight);
          maxServer = Math.max(maxServer, server.stats().tasksRunning);
        }
      }),
    );
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(maxServer).toBeLessThanOrEqual(3);
  });

  it('refuses beyond the waiting queue with QueueFullError when told to', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 1 }));
    const client = clientOf(server, { maxInFlight: 1, maxWaiting: 2 });
    const tasks = Array.from({ length: 6 }, () => client.imageInference(smallRequest()));
    const outcomes = await Promise.allSettled(tasks.map((task) => task.result()));
    const refused = outcomes.filter((o) => o.status === 'rejected');
    // One in flight, two waiting, three refused at once.
    expect(refused).toHaveLength(3);
    for (const outcome of refused) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'clientQueueFull', queue: 'tasks', limit: 2 });
  });

  it('lets tasks wait for room when told to, and lets producers pace themselves', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 1 }));
    const client = clientOf(server, { maxInFlight: 1, maxWaiting: 2, whenFull: 'wait' });
    const tasks = Array.from({ length: 6 }, () => client.imageInference(smallRequest()));
    expect(client.stats().waiting).toBe(5);
    const outcomes = await Promise.all(tasks.map((task) => task.result()));
    expect(outcomes.every((images) => images.length === 1)).toBe(true);
    // A producer that awaits room never has more than maxWaiting tasks waiting.
    let maxWaiting = 0;
    const paced = [];
    for (let i = 0; i < 6; i++) {
      await client.waitForRoom();
      paced.push(client.imageInference(smallRequest()).result());
      maxWaiting = Math.max(maxWaiting, client.stats().waiting);
    }
    await Promise.all(paced);
    expect(maxWaiting).toBeLessThanOrEqual(2);
  });

  it('frees the room of a waiting task that is aborted, at once, and wakes waitForRoom', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 50 }));
    const client = clientOf(server, { maxInFlight: 1, maxWaiting: 1 });
    const running = client.imageInference(smallRequest({ steps: 20 }));
    const leave = new AbortController();
    const waiting = client.imageInference({ ...smallRequest(), signal: leave.signal });
    expect(client.stats()).toMatchObject({ inFlight: 1, waiting: 1 });
    await expect(client.imageInference(smallRequest()).result()).rejects.toBeInstanceOf(QueueFullError);
    const room = client.waitForRoom();
    leave.abort(new Error('changed my mind'));
    await room;
    await expect(waiting.result()).rejects.toThrow('changed my mind');
    expect(client.stats()).toMatchObject({ inFlight: 1, waiting: 0 });
    // The first task is still running, and a new one takes the freed place instead of being refused.
    const next = client.imageInference(smallRequest());
    expect(client.stats().waiting).toBe(1);
    expect(running.state).toBe('running');
    expect(await next.result()).toHaveLength(1);
    expect(await running.result()).toHaveLength(1);
  });

  it('bounds the outbox while disconnected and refuses a frame that does not fit', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server, { outbox: { maxFrames: 100, maxBytes: 4_096 }, reconnect: { initialDelayMs: 5_000, maxDelayMs: 5_000 } });
    await client.connect();
    await server.close();
    await waitForState(client, 'reconnecting');
    const big = 'A'.repeat(8_000);
    const task = client.imageInference(smallRequest({ seedImage: `data:image/png;base64,${big}` }));
    await expect(task.result()).rejects.toMatchObject({ name: 'QueueFullError', code: 'outboxFull', queue: 'outbox' });
    const small = client.imageInference(smallRequest());
    expect(client.stats().outboxFrames).toBe(1);
    small.cancel();
    expect(client.stats().outboxFrames).toBe(0);
  });
});
