// Drops and restarts against the real server's fault hooks: every final delivered exactly once,
// with and without the ack extension, whether the drop comes before authentication, right after
// it, or in the middle of streaming, and across server restarts with and without kept state.
import { describe, expect, it } from 'vitest';
import type { ImageInferenceEvent, ImagewireClient, TaskStream } from '../../src/index.js';
import type { ImageResult } from '../../src/index.js';
import { nextEvent } from './helpers.js';
import { clientOf, closeAfterTest, smallRequest } from '../helpers/test-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Reads a task to the end; returns the final indices in arrival order. */
async function finalsOf(task: TaskStream<ImageInferenceEvent, ImageResult[]>): Promise<number[]> {
  const finals: number[] = [];
  for await (const event of task) if (event.type === 'final') finals.push(event.index);
  return finals;
}

/** Resolves once the server runs a task (its frame arrived), so a fault hits a known point. */
function running(server: TestServer): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = () => (server.stats().tasksRunning > 0 ? resolve() : setImmediate(check));
    check();
  });
}

function sorted(values: number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

const modes = [
  { name: 'with ack', extensions: { ack: true, binaryResults: true } },
  { name: 'without ack', extensions: { ack: false, binaryResults: false } },
] as const;

describe.each(modes)('resume $name', ({ extensions }) => {
  it('resumes after a drop in the middle of streaming and delivers every final once', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 2 }));
    const client = clientOf(server, { extensions });
    await client.connect();
    const resumed = nextEvent(client, 'connected');
    // Cut the socket right after the second task output frame reached the wire.
    server.faults.dropAfterFrames(2);
    const task = client.imageInference(smallRequest({ numberResults: 4, steps: 8 }));
    const finals = await finalsOf(task);
    expect((await resumed).resumed).toBe(true);
    expect(sorted(finals)).toEqual([0, 1, 2, 3]);
    expect(client.stats().resends).toBe(0);
  });

  it('hands over a final that was held because the socket died before it was written', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 2 }));
    const client = clientOf(server, { extensions });
    await client.connect();
    server.faults.dropBeforeFrame(2);
    const finals = await finalsOf(client.imageInference(smallRequest({ numberResults: 3 })));
    expect(sorted(finals)).toEqual([0, 1, 2]);
  });

  it('connects through drops before authentication', async () => {
    const server = closeAfterTest(await startTestServer());
    server.faults.closeOnConnect(3);
    const client = clientOf(server, { extensions });
    expect(await client.imageInference(smallRequest()).result()).toHaveLength(1);
    expect(client.stats().attempts).toBe(4);
  });

  it('connects through drops right after authentication without a hot loop', async () => {
    const server = closeAfterTest(await startTestServer());
    server.faults.closeAfterAuth(3);
    const client = clientOf(server, { extensions, reconnect: { initialDelayMs: 20, maxDelayMs: 1_000 } });
    const delays: number[] = [];
    client.on('state', (change) => {
      if (change.state.name === 'reconnecting') delays.push(change.state.delayMs);
    });
    expect(await client.imageInference(smallRequest()).result()).toHaveLength(1);
    expect(client.stats().attempts).toBe(4);
    // A connection that drops right after its reply gets no immediate retry and no reset:
    // the bound doubles each time (20, 40, 80 ms; the waits are random below it).
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBeLessThan(20);
    expect(delays[2]).toBeLessThan(80);
  });
});

describe('server restart', () => {
  it('recovers in-flight tasks after a restart that lost all state: getResponse, then the same taskUUID again', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 20 }));
    const client = clientOf(server);
    await client.connect();
    const task = client.imageInference(smallRequest({ numberResults: 2, steps: 20 }));
    const finals = finalsOf(task);
    // Wait until the server runs the task, then restart it without its state.
    await running(server);
    const reconnected = nextEvent(client, 'connected');
    await server.restart({ keepState: false });
    const info = await reconnected;
    expect(info.resumed).toBe(false);
    expect(sorted(await finals)).toEqual([0, 1]);
    const stats = client.stats();
    expect(stats.resends).toBe(1);
    expect(stats.checks).toBeGreaterThanOrEqual(1);
    // The same work under the same taskUUID: the images carry it.
    expect((await task.result()).every((image) => image.taskUUID === task.taskUUID)).toBe(true);
  });

  it('resumes the session across a restart that kept its state', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 10 }));
    const client = clientOf(server);
    await client.connect();
    const task = client.imageInference(smallRequest({ numberResults: 3, steps: 10 }));
    const finals = finalsOf(task);
    await running(server);
    const reconnected = nextEvent(client, 'connected');
    await server.restart({ keepState: true });
    expect((await reconnected).resumed).toBe(true);
    expect(sorted(await finals)).toEqual([0, 1, 2]);
    expect(client.stats().resends).toBe(0);
  });
});

describe('lost sessions', () => {
  it('re-attaches a running task with getResponse when the session expired, without sending it again', async () => {
    // A resume window of 1 ms: by the time the client is back, its session is gone.
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 20, resumeWindowMs: 1 }));
    const client = clientOf(server, { reconnect: { initialDelayMs: 50, maxDelayMs: 50 } });
    await client.connect();
    const task = client.imageInference(smallRequest({ numberResults: 2, steps: 20 }));
    const finals = finalsOf(task);
    await running(server);
    const reconnected = nextEvent(client, 'connected');
    server.faults.dropAll();
    expect((await reconnected).resumed).toBe(false);
    expect(sorted(await finals)).toEqual([0, 1]);
    expect(client.stats().resends).toBe(0);
    expect(client.stats().checks).toBe(1);
  });

  it('collects a task that finished while the session was lost', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 0, resumeWindowMs: 1 }));
    const client = clientOf(server, { extensions: { ack: false, binaryResults: false } });
    await client.connect();
    // The socket dies before the final is written, and the session expires before the client is back.
    server.faults.dropBeforeFrame(1);
    const finals = await finalsOf(client.imageInference(smallRequest({ numberResults: 1 })));
    expect(finals).toEqual([0]);
    expect(client.stats().resends).toBe(0);
  });

  it('gives up the session when another connection takes it over, and recovers its tasks', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 10 }));
    const first = clientOf(server, { pollIntervalMs: 20 });
    await first.connect();
    const task = first.imageInference(smallRequest({ numberResults: 2, steps: 10 }));
    const finals = finalsOf(task);
    // A second client (a duplicated browser tab) authenticates with the same session UUID.
    const stolen = new Map([[`imagewire:session:${server.url}`, first.sessionUUID ?? '']]);
    const storage = { getItem: (k: string) => stolen.get(k) ?? null, setItem: (k: string, v: string) => void stolen.set(k, v), removeItem: (k: string) => void stolen.delete(k) };
    const takenOver = nextEvent(first, 'error', (error) => error.code === 'sessionTakenOver');
    const second: ImagewireClient = clientOf(server, { sessionStorage: storage });
    await second.connect();
    await takenOver;
    expect(sorted(await finals)).toEqual([0, 1]);
    expect(first.sessionUUID).not.toBe(second.sessionUUID);
  });
});
