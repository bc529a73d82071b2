// Limits: each answered with its error code (or its documented effect) while everyone else keeps
// being served.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultLimits, limitCodes } from '../../src/server/index.js';
import { eventually } from '../helpers/eventually.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { isErrorOf, isFinal, itemOf, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function codeOf(client: RawClient, taskUUID: string): Promise<string | undefined> {
  const frame = await client.waitFor((f) => isErrorOf(f, taskUUID));
  return frame.kind === 'json' ? frame.errors[0]?.code : undefined;
}

describe('limits', () => {
  it('has one table of defaults and codes', () => {
    expect(defaultLimits).toMatchObject({ maxFrameBytes: 8 * 1024 * 1024, maxTasksPerFrame: 256, maxInFlightPerConnection: 32, maxInFlightPerKey: 128, maxHeldSessions: 10_000 });
    expect(limitCodes).toMatchObject({ maxFrameBytes: 'frameTooLarge', maxInFlightPerConnection: 'tooManyTasksInFlight', maxHeldSessions: 'sessionLimitReached' });
  });

  it('refuses a task beyond maxInFlightPerConnection and serves other connections meanwhile', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ engine, limits: { maxInFlightPerConnection: 1 } });
    const { client } = await RawClient.authenticated(server.url, 'k');
    const first = inferenceTask();
    const second = inferenceTask();
    client.send([first, second]);
    expect(await codeOf(client, second.taskUUID)).toBe('tooManyTasksInFlight');
    const other = await RawClient.authenticated(server.url, 'k');
    const third = inferenceTask();
    other.client.send([third]);
    await engine.waiting(2);
    engine.openAll();
    await client.waitFor((f) => isFinal(f, first.taskUUID));
    await other.client.waitFor((f) => isFinal(f, third.taskUUID));
    // With the first done, the connection takes tasks again.
    const fourth = inferenceTask();
    client.send([fourth]);
    await client.waitFor((f) => isFinal(f, fourth.taskUUID));
    await client.close();
    await other.client.close();
  });

  it('refuses a task beyond maxInFlightPerKey across connections, not other keys', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ engine, limits: { maxInFlightPerKey: 1 } });
    const a1 = await RawClient.authenticated(server.url, 'a');
    const a2 = await RawClient.authenticated(server.url, 'a');
    const b = await RawClient.authenticated(server.url, 'b');
    const running = inferenceTask();
    a1.client.send([running]);
    await engine.waiting(1);
    const refused = inferenceTask();
    a2.client.send([refused]);
    expect(await codeOf(a2.client, refused.taskUUID)).toBe('tooManyTasksInFlight');
    const otherKey = inferenceTask();
    b.client.send([otherKey]);
    await engine.waiting(2);
    engine.openAll();
    await b.client.waitFor((f) => isFinal(f, otherKey.taskUUID));
    await a1.client.waitFor((f) => isFinal(f, running.taskUUID));
    for (const c of [a1, a2, b]) await c.client.close();
  });

  it('queues beyond maxConcurrentTasks and refuses beyond maxQueuedTasks with queueFull', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ engine, limits: { maxConcurrentTasks: 1, maxQueuedTasks: 1 } });
    const { client } = await RawClient.authenticated(server.url);
    const [running, queued, refused] = [inferenceTask(), inferenceTask(), inferenceTask()];
    client.send([running]);
    await engine.waiting(1);
    client.send([queued, refused]);
    expect(await codeOf(client, refused.taskUUID)).toBe('queueFull');
    expect(engine.signals).toHaveLength(1);
    engine.openAll();
    await client.waitFor((f) => isFinal(f, running.taskUUID));
    await client.waitFor((f) => isFinal(f, queued.taskUUID));
    await client.close();
  });

  it('lets a cancelled queued task leave the queue at once: its room goes to the next, and it never reaches the engine', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ engine, limits: { maxConcurrentTasks: 1, maxQueuedTasks: 1 } });
    const { client } = await RawClient.authenticated(server.url);
    const [running, cancelled, next] = [inferenceTask(), inferenceTask(), inferenceTask()];
    client.send([running]);
    await engine.waiting(1);
    client.send([cancelled]);
    client.send([{ taskType: 'cancel', taskUUID: cancelled.taskUUID }]);
    const answer = await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskType === 'cancel');
    expect(itemOf(answer)).toEqual({ taskType: 'cancel', taskUUID: cancelled.taskUUID, cancelled: true });
    // The queue holds one task: the cancelled one must have left it for this one to be taken.
    client.send([next]);
    await client.expectNone((f) => isErrorOf(f, next.taskUUID));
    engine.openAll();
    await client.waitFor((f) => isFinal(f, running.taskUUID));
    await client.waitFor((f) => isFinal(f, next.taskUUID));
    expect(engine.signals).toHaveLength(2);
    expect(client.frames.some((f) => isFinal(f, cancelled.taskUUID))).toBe(false);
    expect(server.stats().tasksRunning).toBe(0);
    await client.close();
  });

  it('refuses a new session with sessionLimitReached only while every kept session has a socket', async () => {
    server = await startTestServer({ limits: { maxHeldSessions: 1 } });
    const first = await RawClient.authenticated(server.url);
    const second = await RawClient.connect(server.url);
    second.send([{ taskType: 'authentication', apiKey: 'k' }]);
    const refused = await second.waitFor((f) => f.kind === 'json' && f.errors.length > 0);
    expect(refused.kind === 'json' && refused.errors[0]).toMatchObject({ code: 'sessionLimitReached', taskType: 'authentication' });
    // Once the first socket is gone its held session makes room.
    await first.client.close();
    const live = server;
    await eventually(() => live.stats().connections, (n) => n === 1);
    expect((await second.authenticate('k')).taskType).toBe('authentication');
    expect(server.stats().sessions).toBe(1);
    await second.close();
  });

  it('drops a detached session whose held results exceed maxHeldBytesPerSession', async () => {
    server = await startTestServer({ limits: { maxHeldBytesPerSession: 2_000 } });
    const first = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 3, width: 256, height: 256 });
    server.faults.dropBeforeFrame(1);
    first.client.send([task]);
    await first.client.waitForClose();
    const live = server;
    await eventually(() => live.stats(), (s) => s.sessions === 0 && s.tasksRunning === 0 && s.heldBytes === 0);
    expect(server.logs.lines.some((line) => line.level === 'warn' && line.message.includes('maxHeldBytesPerSession'))).toBe(true);
    const second = await RawClient.connect(server.url);
    expect(await second.authenticate('test-key', { connectionSessionUUID: first.auth.connectionSessionUUID })).toMatchObject({ resumed: false, resumeError: 'sessionNotFound' });
    await second.close();
  });

  it('drops the oldest detached sessions past maxHeldBytesTotal', async () => {
    /** Authenticates, has one result held by cutting the socket before it, and returns the session. */
    const holdOne = async (live: TestServer): Promise<string> => {
      const { client, auth } = await RawClient.authenticated(live.url);
      live.faults.dropBeforeFrame(1);
      client.send([inferenceTask({ outputType: 'URL' })]);
      await client.waitForClose();
      await eventually(() => live.stats().tasksRunning, (n) => n === 0);
      return auth.connectionSessionUUID as string;
    };
    // Measure what one held result costs, then allow two and a half of them.
    const probe = await startTestServer();
    await holdOne(probe);
    const one = probe.stats().heldBytes;
    await probe.close();
    expect(one).toBeGreaterThan(0);

    // One key here: its share is the whole total, so the total bound is what drops sessions.
    const total = Math.floor(one * 2.5);
    server = await startTestServer({ limits: { maxHeldBytesTotal: total, maxHeldBytesPerKey: total } });
    const sessions = [await holdOne(server), await holdOne(server), await holdOne(server)];
    expect(server.stats()).toMatchObject({ sessions: 2, heldFrames: 2 });
    const oldest = await RawClient.connect(server.url);
    expect(await oldest.authenticate('test-key', { connectionSessionUUID: sessions[0] })).toMatchObject({ resumed: false });
    const latest = await RawClient.connect(server.url);
    expect(await latest.authenticate('test-key', { connectionSessionUUID: sessions[2] })).toMatchObject({ resumed: true });
    await latest.close();
    await oldest.close();
  });
});

describe('tasks waiting for an authentication in progress', () => {
  it('holds at most maxTasksPerFrame of them, refuses the frame that would exceed it, and runs the held ones once the key is accepted', async () => {
    let accept: (ok: boolean) => void = () => undefined;
    const decision = new Promise<boolean>((resolve) => (accept = resolve));
    let checks = 0;
    server = await startTestServer({
      limits: { maxTasksPerFrame: 3 },
      apiKeys: () => {
        checks++;
        return decision;
      },
    });
    const client = await RawClient.connect(server.url);
    const held = [inferenceTask(), inferenceTask()];
    const refused = [inferenceTask(), inferenceTask()];
    client.send([{ taskType: 'authentication', apiKey: 'slow-key' }, ...held]);
    await eventually(() => checks, (n) => n === 1);
    client.send(refused);
    const tooMany = await client.waitFor((f) => f.kind === 'json' && f.errors[0]?.code === 'tooManyTasks');
    expect(tooMany.kind === 'json' && tooMany.errors[0]?.message).toMatch(/at most 3 tasks may wait for the authentication in progress/);
    accept(true);
    for (const task of held) await client.waitFor((f) => isFinal(f, task.taskUUID));
    // The refused frame's tasks never ran: asking for them finds nothing.
    for (const task of refused) {
      client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
      expect(await codeOf(client, task.taskUUID)).toBe('taskNotFound');
    }
    await client.close();
  });
});
