// The server's life: graceful close, restart on the same port (with and without state), stats,
// async disposal, fault hooks on connect and after authentication, and logs that never hold a key.
import { describe, expect, it } from 'vitest';
import { createServer } from '../../src/server/index.js';
import { eventually } from '../helpers/eventually.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { isFinal, RawClient } from '../helpers/raw-client.js';
import { captureLogger, inferenceTask, startTestServer } from '../helpers/test-server.js';

describe('close', () => {
  it('cancels running tasks, closes sockets with 1001 and stops accepting', async () => {
    const engine = createGateEngine();
    const server = await startTestServer({ engine });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask();
    client.send([task]);
    await engine.waiting(1);
    const url = server.url;
    const closing = server.close();
    expect(await client.waitForClose()).toEqual({ code: 1001, reason: 'server shutting down' });
    await closing;
    await engine.aborted(0);
    expect(client.framesOf(task.taskUUID)).toEqual([]);
    expect(server.stats()).toEqual({ connections: 0, sessions: 0, heldFrames: 0, heldBytes: 0, tasksRunning: 0 });
    await expect(RawClient.connect(url)).rejects.toThrow();
    await server.close();
  });

  it('disposes with await using', async () => {
    const urls: string[] = [];
    {
      await using server = await startTestServer();
      urls.push(server.url);
      const { client } = await RawClient.authenticated(server.url);
      await client.close();
    }
    await expect(RawClient.connect(urls[0] as string)).rejects.toThrow();
  });
});

describe('restart', () => {
  it('listens again on the same port and loses sessions and tasks by default', async () => {
    const server = await startTestServer();
    const port = server.port;
    const first = await RawClient.authenticated(server.url);
    const task = inferenceTask();
    first.client.send([task]);
    await first.client.waitFor((f) => isFinal(f, task.taskUUID));
    await server.restart();
    expect(await first.client.waitForClose()).toMatchObject({ code: 1001 });
    expect(server.port).toBe(port);
    const second = await RawClient.connect(server.url);
    expect(await second.authenticate('test-key', { connectionSessionUUID: first.auth.connectionSessionUUID })).toMatchObject({ resumed: false, resumeError: 'sessionNotFound' });
    second.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    const answer = await second.waitFor((f) => f.kind === 'json' && f.errors.length > 0);
    expect(answer.kind === 'json' && answer.errors[0]?.code).toBe('taskNotFound');
    await second.close();
    await server.close();
  });

  it('keeps sessions and running tasks with keepState, so a client resumes', async () => {
    const engine = createGateEngine();
    const server = await startTestServer({ engine });
    const first = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 2 });
    first.client.send([task]);
    await engine.waiting(1);
    await server.restart({ keepState: true });
    await first.client.waitForClose();
    engine.openAll();
    await eventually(() => server.stats().heldFrames, (n) => n === 2);
    const second = await RawClient.connect(server.url);
    expect(await second.authenticate('test-key', { connectionSessionUUID: first.auth.connectionSessionUUID })).toMatchObject({ resumed: true });
    await second.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    await second.close();
    await server.close();
  });
});

describe('connection faults', () => {
  it('closeOnConnect cuts the next sockets before authentication', async () => {
    const server = await startTestServer();
    server.faults.closeOnConnect(2);
    for (let i = 0; i < 2; i++) {
      const client = await RawClient.connect(server.url);
      expect((await client.waitForClose()).code).toBe(1006);
    }
    const ok = await RawClient.authenticated(server.url);
    await ok.client.close();
    await server.close();
  });

  it('closeAfterAuth cuts a socket right after its authentication reply, leaving the session resumable', async () => {
    const server = await startTestServer();
    server.faults.closeAfterAuth(1);
    const first = await RawClient.connect(server.url);
    first.send([{ taskType: 'authentication', apiKey: 'k' }]);
    const reply = await first.waitFor(() => true);
    const session = reply.kind === 'json' ? reply.data[0]?.connectionSessionUUID : undefined;
    expect((await first.waitForClose()).code).toBe(1006);
    const second = await RawClient.connect(server.url);
    expect(await second.authenticate('k', { connectionSessionUUID: session })).toMatchObject({ resumed: true });
    await second.close();
    await server.close();
  });

  it('reset turns every fault off', async () => {
    const server = await startTestServer();
    server.faults.closeOnConnect(5);
    server.faults.withholdPongs(true);
    server.faults.reset();
    const { client } = await RawClient.authenticated(server.url);
    client.send([{ taskType: 'ping', ping: true }]);
    await client.waitFor((f) => f.kind === 'json' && f.data[0]?.pong === true);
    await client.close();
    await server.close();
  });
});

describe('logs', () => {
  it('never contain an API key, whatever happens', async () => {
    const logger = captureLogger();
    const secret = 'sk-live-7f3a9c2e-DO-NOT-LOG';
    const wrong = 'sk-wrong-key-ALSO-SECRET';
    const server = await createServer({ stepDelayMs: 0, apiKeys: [secret], logger });
    const bad = await RawClient.connect(server.url);
    bad.send([{ taskType: 'authentication', apiKey: wrong }]);
    await bad.waitFor((f) => f.kind === 'json' && f.errors.length > 0);
    const { client } = await RawClient.authenticated(server.url, secret);
    const task = inferenceTask();
    client.send([task, { taskType: 'authentication', apiKey: secret }]);
    await client.waitFor((f) => isFinal(f, task.taskUUID));
    const json = { 'content-type': 'application/json' };
    expect((await fetch(`${server.httpUrl}/v1`, { method: 'POST', headers: { authorization: `Bearer ${wrong}`, ...json }, body: JSON.stringify([inferenceTask()]) })).status).toBe(401);
    expect((await fetch(`${server.httpUrl}/v1`, { method: 'POST', headers: json, body: JSON.stringify([{ taskType: 'authentication', apiKey: secret }, inferenceTask()]) })).status).toBe(200);
    server.faults.dropAll();
    await server.close();
    expect(logger.lines.length).toBeGreaterThan(3);
    expect(logger.text()).not.toContain(secret);
    expect(logger.text()).not.toContain(wrong);
    expect(logger.text()).not.toContain('DO-NOT-LOG');
  });
});

describe('stats', () => {
  it('counts connections, sessions and running tasks', async () => {
    const engine = createGateEngine();
    const server = await startTestServer({ engine });
    const a = await RawClient.authenticated(server.url);
    const b = await RawClient.authenticated(server.url);
    a.client.send([inferenceTask()]);
    await engine.waiting(1);
    expect(server.stats()).toEqual({ connections: 2, sessions: 2, heldFrames: 0, heldBytes: 0, tasksRunning: 1 });
    engine.openAll();
    await b.client.close();
    await eventually(() => server.stats(), (s) => s.connections === 1 && s.tasksRunning === 0);
    await a.client.close();
    await server.close();
  });
});
