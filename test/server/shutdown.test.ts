// Graceful shutdown: close() stops taking sockets and tasks at once, sends idle clients away (1001),
// lets running tasks deliver their results within shutdownGraceMs, then closes the rest; the client
// reconnects at once on a going-away close, and a task refused while the server drained is sent
// again to the server it reaches next.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type StateChange } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function server(options: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const started = await startTestServer(options);
  servers.push(started);
  return started;
}

describe('close() with a grace period', () => {
  it('sends idle sockets away at once, delivers the running task, then closes its socket with 1001', async () => {
    const engine = createGateEngine();
    const live = await server({ engine, shutdownGraceMs: 10_000 });
    const busy = await RawClient.authenticated(live.url);
    const idle = await RawClient.authenticated(live.url);
    const task = inferenceTask();
    busy.client.send([task]);
    await engine.waiting(1);
    const closing = live.close();
    expect(live.ready).toBe(false);
    expect(live.notReady).toBe('draining');
    expect(await idle.client.waitForClose()).toEqual({ code: 1001, reason: 'server shutting down' });
    // Nothing new while draining: no socket, and a task on the open socket is refused.
    await expect(RawClient.connect(live.url)).rejects.toThrow('503');
    const late = inferenceTask();
    busy.client.send([late]);
    const refused = await busy.client.waitFor((f) => f.kind === 'json' && f.errors.some((error) => error.taskUUID === late.taskUUID));
    expect(refused.kind === 'json' && refused.errors[0]?.code).toBe('serverShuttingDown');
    engine.openAll();
    await busy.client.waitFor((f) => isFinal(f, task.taskUUID));
    expect(await busy.client.waitForClose()).toEqual({ code: 1001, reason: 'server shutting down' });
    await closing;
    expect(engine.signals[0]?.aborted).toBe(false);
  });

  it('cancels what still runs at the deadline, then closes every socket', async () => {
    const engine = createGateEngine();
    const live = await server({ engine, shutdownGraceMs: 300 });
    const { client } = await RawClient.authenticated(live.url);
    const task = inferenceTask();
    client.send([task]);
    await engine.waiting(1);
    await live.close();
    await engine.aborted(0);
    expect(await client.waitForClose()).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(client.framesOf(task.taskUUID).some((frame) => isFinal(frame, task.taskUUID))).toBe(false);
  });
});

describe('the client during a shutdown', () => {
  it('gets its running task, keeps the task the draining server refused, reconnects at once and sends it to the next server', async () => {
    const engine = createGateEngine();
    const first = await server({ engine, shutdownGraceMs: 10_000 });
    const port = first.port;
    const client = createClient({ apiKey: 'test-key', url: first.url, networkEvents: false, reconnect: { maxAttempts: 50, initialDelayMs: 50, maxDelayMs: 100 } });
    const changes: StateChange[] = [];
    client.on('state', (change) => changes.push(change));
    try {
      const running = client.imageInference({ positivePrompt: 'a fox', model: 'imagewire:1@1', width: 128, height: 128, steps: 2, outputType: 'URL' });
      await engine.waiting(1);
      const closing = first.close();
      const refused = client.imageInference({ positivePrompt: 'a hare', model: 'imagewire:1@1', width: 128, height: 128, steps: 2, outputType: 'URL' });
      await eventually(() => first.logs.lines.some((line) => line.message === 'shutting down'), (seen) => seen);
      engine.openAll();
      const [image] = await running.result();
      expect(image?.imageURL).toContain(`:${port}/`);
      await closing;
      const goingAway = changes.find((change) => change.to === 'reconnecting');
      expect(goingAway?.state).toMatchObject({ delayMs: 0 });
      // The next process comes up on the same address (a restart); the kept task goes there.
      await server({ port });
      const [second] = await refused.result();
      expect(second?.imageURL).toContain(`:${port}/`);
      expect(client.state).toBe('open');
    } finally {
      await client.close();
    }
  });
});
