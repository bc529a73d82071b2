// Resume: held results handed over once and in order, the ack extension's exact replay (with the
// session's extensions carried over when enableExtensions set them, or asked for again in the
// authentication by older clients), another key's or an expired session starting fresh, and
// session takeover.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { finalItem, isEnableAnswer, isFinal, itemOf, RawClient, type Received } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';
import { clusterMode } from '../helpers/cluster-mode.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const isPong = (f: Received): boolean => f.kind === 'json' && f.data[0]?.taskType === 'ping';
const isAuth = (f: Received): boolean => f.kind === 'json' && f.data[0]?.taskType === 'authentication';

describe('resume without ack', () => {
  // Memory only: asserts this process's held-frame counters (stats()); in cluster mode they live in Redis (test/cluster/session-log.test.ts).
  it.skipIf(clusterMode)('delivers every result held after a killed socket once, in order', async () => {
    server = await startTestServer();
    const first = await RawClient.authenticated(server.url);
    const session = first.auth.connectionSessionUUID as string;
    const task = inferenceTask({ numberResults: 4 });
    // The socket is cut instead of writing the second result: results 1..3 are held.
    server.faults.dropBeforeFrame(2);
    first.client.send([task]);
    await first.client.waitForClose();
    // Result 0 was written before the cut (it may or may not have made it: plain resume cannot tell).
    expect(first.client.framesOf(task.taskUUID).map((f) => finalItem(f).index)).not.toContain(1);

    const live = server;
    await eventually(() => live.stats().heldFrames, (n) => n === 3);
    const second = await RawClient.connect(server.url);
    const auth = await second.authenticate('test-key', { connectionSessionUUID: session });
    expect(auth).toMatchObject({ connectionSessionUUID: session, resumed: true });
    expect(auth).not.toHaveProperty('resumeError');
    const replayed = await second.waitForCount((f) => isFinal(f, task.taskUUID), 3);
    expect(replayed.map((f) => finalItem(f).index)).toEqual([1, 2, 3]);
    await second.expectNone((f) => isFinal(f, task.taskUUID), { from: second.frames.indexOf(replayed[2] as Received) + 1 });
    expect(server.stats().heldFrames).toBe(0);
    await second.close();
  });

  // Memory only: asserts this process's held-frame counters (stats()); in cluster mode they live in Redis (test/cluster/session-log.test.ts).
  it.skipIf(clusterMode)('holds results that finish while no socket is attached', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ engine });
    const first = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 2 });
    first.client.send([task]);
    await engine.waiting(1);
    server.faults.dropAll();
    await first.client.waitForClose();
    const live = server;
    await eventually(() => live.stats().connections, (n) => n === 0);
    engine.openAll();
    await eventually(() => live.stats().heldFrames, (n) => n === 2);
    const second = await RawClient.connect(server.url);
    await second.authenticate('test-key', { connectionSessionUUID: first.auth.connectionSessionUUID });
    const finals = await second.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    expect(finals.map((f) => finalItem(f).index)).toEqual([0, 1]);
    await second.close();
  });

  it('starts a fresh session for another key, and the session stays resumable by its own key', async () => {
    server = await startTestServer();
    const owner = await RawClient.authenticated(server.url, 'key-a');
    const session = owner.auth.connectionSessionUUID as string;
    const task = inferenceTask();
    server.faults.dropBeforeFrame(1);
    owner.client.send([task]);
    await owner.client.waitForClose();

    const thief = await RawClient.connect(server.url);
    const stolen = await thief.authenticate('key-b', { connectionSessionUUID: session });
    expect(stolen).toMatchObject({ resumed: false, resumeError: 'sessionNotFound' });
    expect(stolen.connectionSessionUUID).not.toBe(session);
    await thief.expectNone((f) => isFinal(f, task.taskUUID));

    const back = await RawClient.connect(server.url);
    expect(await back.authenticate('key-a', { connectionSessionUUID: session })).toMatchObject({ connectionSessionUUID: session, resumed: true });
    await back.waitFor((f) => isFinal(f, task.taskUUID));
    await thief.close();
    await back.close();
  });

  it('starts a fresh session for an unknown session UUID, never an error', async () => {
    server = await startTestServer();
    const client = await RawClient.connect(server.url);
    const auth = await client.authenticate('k', { connectionSessionUUID: '8d0e6f3c-2b1a-4c5d-9e8f-7a6b5c4d3e2f' });
    expect(auth).toMatchObject({ resumed: false, resumeError: 'sessionNotFound' });
    expect(auth.connectionSessionUUID).not.toBe('8d0e6f3c-2b1a-4c5d-9e8f-7a6b5c4d3e2f');
    await client.close();
  });

  // Memory only: moves the server's fake clock; in cluster mode Redis expires keys on its own clock (test/cluster/session-log.test.ts, task-store.test.ts).
  it.skipIf(clusterMode)('forgets a session and its held results after resumeWindowMs', async () => {
    const clock = new FakeClock();
    server = await startTestServer({ resumeWindowMs: 50, clock });
    const first = await RawClient.authenticated(server.url);
    const task = inferenceTask();
    server.faults.dropBeforeFrame(1);
    first.client.send([task]);
    await first.client.waitForClose();
    const running = server;
    await eventually(() => running.stats(), (stats) => stats.tasksRunning === 0 && stats.connections === 0);
    // The window runs from the drop: held to its last millisecond, gone at its end.
    clock.advance(49);
    expect(running.stats()).toMatchObject({ sessions: 1, heldFrames: 1 });
    clock.advance(1);
    expect(running.stats()).toMatchObject({ sessions: 0, heldFrames: 0, heldBytes: 0 });
    const second = await RawClient.connect(server.url);
    const auth = await second.authenticate('test-key', { connectionSessionUUID: first.auth.connectionSessionUUID });
    expect(auth).toMatchObject({ resumed: false, resumeError: 'sessionNotFound' });
    await second.expectNone((f) => isFinal(f, task.taskUUID));
    await second.close();
  });
});

describe('session takeover', () => {
  it('closes the old socket with 4000 and sends the session frames only to the new one', async () => {
    server = await startTestServer();
    const old = await RawClient.authenticated(server.url);
    const session = old.auth.connectionSessionUUID as string;
    const fresh = await RawClient.connect(server.url);
    expect(await fresh.authenticate('test-key', { connectionSessionUUID: session })).toMatchObject({ connectionSessionUUID: session, resumed: true });
    expect(await old.client.waitForClose()).toEqual({ code: 4000, reason: 'session taken over' });
    const task = inferenceTask();
    fresh.send([task]);
    await fresh.waitFor((f) => isFinal(f, task.taskUUID));
    expect(old.client.framesOf(task.taskUUID)).toEqual([]);
    await fresh.close();
  });
});

describe('resume with the ack extension', () => {
  // Memory only: asserts this process's held-frame counters (stats()); in cluster mode they live in Redis (test/cluster/session-log.test.ts).
  it.skipIf(clusterMode)('numbers task frames from 1 and forgets them once acknowledged by a ping', async () => {
    server = await startTestServer();
    const { client, auth } = await RawClient.authenticated(server.url, 'k', { extensions: ['ack'] });
    expect(auth.enabledExtensions).toEqual(['ack']);
    const task = inferenceTask({ numberResults: 3 });
    client.send([task]);
    const finals = await client.waitForCount((f) => isFinal(f, task.taskUUID), 3);
    expect(finals.map((f) => f.seq)).toEqual([1, 2, 3]);
    expect(server.stats().heldFrames).toBe(3);
    const from = client.frames.length;
    client.send([{ taskType: 'ping', ping: true, ack: 2 }]);
    const pong = await client.waitFor(isPong, { from });
    expect(pong.kind === 'json' && pong.text).toBe('{"data":[{"taskType":"ping","pong":true}]}');
    expect(server.stats().heldFrames).toBe(1);
    // Pongs and the authentication reply are never sequenced.
    expect(client.frames.filter((f) => !isFinal(f, task.taskUUID)).every((f) => f.seq === undefined)).toBe(true);
    await client.close();
  });

  it('replays exactly the unacknowledged frames, with their original numbers', async () => {
    server = await startTestServer();
    const first = await RawClient.authenticated(server.url, 'k', { extensions: ['ack'] });
    const a = inferenceTask({ numberResults: 2 });
    first.client.send([a]);
    await first.client.waitForCount((f) => isFinal(f, a.taskUUID), 2);
    let from = first.client.frames.length;
    first.client.send([{ taskType: 'ping', ping: true, ack: 2 }]);
    await first.client.waitFor(isPong, { from });
    const b = inferenceTask({ numberResults: 2 });
    first.client.send([b]);
    await first.client.waitForCount((f) => isFinal(f, b.taskUUID), 2);
    // Frames 3 and 4 were written but never acknowledged; the client claims it has 3.
    server.faults.dropAll();
    await first.client.waitForClose();

    const second = await RawClient.connect(server.url);
    await second.authenticate('k', { connectionSessionUUID: first.auth.connectionSessionUUID, extensions: ['ack'], ack: 3 });
    from = second.frames.findIndex(isAuth) + 1;
    const replay = await second.waitFor((f) => f.seq !== undefined, { from });
    expect(replay.seq).toBe(4);
    expect(finalItem(replay)).toMatchObject({ taskUUID: b.taskUUID, index: 1 });
    await second.expectNone((f) => f.seq !== undefined, { from: second.frames.indexOf(replay) + 1 });
    // Live frames continue the numbering.
    const c = inferenceTask();
    second.send([c]);
    expect((await second.waitFor((f) => isFinal(f, c.taskUUID))).seq).toBe(5);
    await second.close();
  });

  it('loses nothing when frames are lost in flight (dropAfterFrames)', async () => {
    server = await startTestServer();
    const first = await RawClient.authenticated(server.url, 'k', { extensions: ['ack'] });
    const task = inferenceTask({ numberResults: 5 });
    server.faults.dropAfterFrames(2);
    first.client.send([task]);
    await first.client.waitForClose();
    const got = first.client.framesOf(task.taskUUID).map((f) => f.seq as number);
    const highest = Math.max(0, ...got);
    expect(highest).toBeLessThanOrEqual(2);

    const second = await RawClient.connect(server.url);
    await second.authenticate('k', { connectionSessionUUID: first.auth.connectionSessionUUID, extensions: ['ack'], ack: highest });
    const rest = await second.waitForCount((f) => isFinal(f, task.taskUUID), 5 - highest);
    expect(rest.map((f) => f.seq)).toEqual(Array.from({ length: 5 - highest }, (_, i) => highest + 1 + i));
    const indices = [...first.client.framesOf(task.taskUUID), ...rest].map((f) => finalItem(f).index);
    expect(indices).toEqual([0, 1, 2, 3, 4]);
    await second.expectNone((f) => isFinal(f, task.taskUUID), { from: second.frames.indexOf(rest.at(-1) as Received) + 1 });
    await second.close();
  });

  it('replays everything unacknowledged when the resume carries no ack', async () => {
    server = await startTestServer();
    const first = await RawClient.authenticated(server.url, 'k', { extensions: ['ack'] });
    const task = inferenceTask({ numberResults: 2 });
    first.client.send([task]);
    await first.client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    first.client.terminate();
    const live = server;
    await eventually(() => live.stats().connections, (n) => n === 0);
    const second = await RawClient.connect(server.url);
    await second.authenticate('k', { connectionSessionUUID: first.auth.connectionSessionUUID, extensions: ['ack'] });
    const replayed = await second.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    expect(replayed.map((f) => f.seq)).toEqual([1, 2]);
    await second.close();
  });

  it('replays without sequence numbers to a resuming socket that did not ask for ack', async () => {
    server = await startTestServer();
    const first = await RawClient.authenticated(server.url, 'k', { extensions: ['ack'] });
    const task = inferenceTask();
    first.client.send([task]);
    expect((await first.client.waitFor((f) => isFinal(f, task.taskUUID))).seq).toBe(1);
    first.client.terminate();
    const live = server;
    await eventually(() => live.stats().connections, (n) => n === 0);
    const second = await RawClient.connect(server.url);
    await second.authenticate('k', { connectionSessionUUID: first.auth.connectionSessionUUID });
    const replayed = await second.waitFor((f) => isFinal(f, task.taskUUID));
    expect(replayed.seq).toBeUndefined();
    expect(replayed.kind === 'json' && Object.keys(replayed.value)).toEqual(['data']);
    await second.close();
  });

  it('does not sequence anything for a client that did not ask for ack', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 2 });
    client.send([task]);
    await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    for (const frame of client.frames) {
      expect(frame.seq).toBeUndefined();
      if (frame.kind === 'json') expect(Object.keys(frame.value)).toEqual(['data']);
    }
    expect(server.stats().heldFrames).toBe(0);
    await client.close();
  });
});

describe('resume with extensions set by enableExtensions', () => {
  /** A session with `extensions` on whose socket was cut; resolves with its UUID. */
  async function cutSession(live: TestServer, extensions: string[], run: (client: RawClient) => Promise<void>): Promise<string> {
    const { client, auth } = await RawClient.authenticated(live.url, 'k');
    await client.enableExtensions(extensions);
    await run(client);
    if (!client.isClosed) client.terminate();
    await client.waitForClose();
    await eventually(() => live.stats().connections, (n) => n === 0);
    return auth.connectionSessionUUID as string;
  }

  // Memory only: asserts this process's held-frame counters (stats()); in cluster mode they live in Redis (test/cluster/session-log.test.ts).
  it.skipIf(clusterMode)('replays held frames numbered right after the reply; the enableExtensions ack behind them forgets what the client had', async () => {
    server = await startTestServer();
    const live = server;
    const task = inferenceTask({ numberResults: 4 });
    let had: number[] = [];
    const session = await cutSession(live, ['ack'], async (client) => {
      // Frames 1 and 2 are written, then the socket is cut: 3 is held unwritten, 4 comes while detached.
      live.faults.dropBeforeFrame(3);
      client.send([task]);
      await client.waitForClose();
      had = client.framesOf(task.taskUUID).map((f) => f.seq as number);
    });
    expect(had.every((seq) => seq <= 2)).toBe(true);
    await eventually(() => live.stats().heldFrames, (n) => n === 4);

    const second = await RawClient.connect(server.url);
    const auth = await second.authenticate('k', { connectionSessionUUID: session });
    expect(auth).toMatchObject({ connectionSessionUUID: session, resumed: true, enabledExtensions: ['ack'] });
    const replayed = await second.waitForCount((f) => isFinal(f, task.taskUUID), 4);
    expect(replayed.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
    expect(replayed.map((f) => finalItem(f).index)).toEqual([0, 1, 2, 3]);
    expect(second.frames.indexOf(replayed[0] as Received)).toBe(second.frames.findIndex(isAuth) + 1);

    // The client has 1 and 2 from the first socket (and drops the repeats); it says so.
    const answer = await second.enableExtensions(['ack'], 2);
    expect(itemOf(answer)).toEqual({ taskType: 'enableExtensions', enabledExtensions: ['ack'] });
    expect(server.stats().heldFrames).toBe(2);
    const next = inferenceTask();
    second.send([next]);
    expect((await second.waitFor((f) => isFinal(f, next.taskUUID))).seq).toBe(5);
    const from = second.frames.length;
    second.send([{ taskType: 'ping', ping: true, ack: 5 }]);
    await second.waitFor(isPong, { from });
    expect(server.stats().heldFrames).toBe(0);
    await second.close();
  });

  // Memory only: asserts this process's held-frame counters (stats()); in cluster mode they live in Redis (test/cluster/session-log.test.ts).
  it.skipIf(clusterMode)('keeps nothing for an ack once a resumed client turns ack off, and the session stays off', async () => {
    server = await startTestServer();
    const task = inferenceTask({ numberResults: 2 });
    const session = await cutSession(server, ['ack'], async (client) => {
      client.send([task]);
      await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    });
    expect(server.stats().heldFrames).toBe(2);

    const second = await RawClient.connect(server.url);
    expect(await second.authenticate('k', { connectionSessionUUID: session })).toMatchObject({ resumed: true, enabledExtensions: ['ack'] });
    const replayed = await second.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    expect(replayed.map((f) => f.seq)).toEqual([1, 2]);
    expect(itemOf(await second.enableExtensions([]))).toEqual({ taskType: 'enableExtensions', enabledExtensions: [] });
    expect(server.stats().heldFrames).toBe(0);
    const next = inferenceTask();
    second.send([next]);
    const final = await second.waitFor((f) => isFinal(f, next.taskUUID));
    expect(final.kind === 'json' && Object.keys(final.value)).toEqual(['data']);
    expect(server.stats().heldFrames).toBe(0);
    second.terminate();
    const live = server;
    await eventually(() => live.stats().connections, (n) => n === 0);

    const third = await RawClient.connect(server.url);
    expect(await third.authenticate('k', { connectionSessionUUID: session })).toMatchObject({ resumed: true, enabledExtensions: [] });
    await third.expectNone((f) => isFinal(f, task.taskUUID) || isFinal(f, next.taskUUID));
    await third.close();
  });

  // Memory only: asserts this process's held-frame counters (stats()); in cluster mode they live in Redis (test/cluster/session-log.test.ts).
  it.skipIf(clusterMode)('clamps an enableExtensions ack beyond anything written on resume; numbering goes on', async () => {
    server = await startTestServer();
    const task = inferenceTask({ numberResults: 2 });
    const session = await cutSession(server, ['ack'], async (client) => {
      client.send([task]);
      await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    });
    const second = await RawClient.connect(server.url);
    await second.authenticate('k', { connectionSessionUUID: session });
    await second.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    await second.enableExtensions(['ack'], 1_000);
    expect(server.stats().heldFrames).toBe(0);
    const next = inferenceTask();
    second.send([next]);
    expect((await second.waitFor((f) => isFinal(f, next.taskUUID))).seq).toBe(3);
    expect(server.stats().heldFrames).toBe(1);
    await second.close();
  });

  // Memory only: asserts this process's held-frame counters (stats()); in cluster mode they live in Redis (test/cluster/session-log.test.ts).
  it.skipIf(clusterMode)('hands the held frames to a client that resumes and never sends enableExtensions, under the carried extensions', async () => {
    server = await startTestServer();
    const live = server;
    const task = inferenceTask({ numberResults: 2, outputType: 'base64Data' });
    const session = await cutSession(server, ['ack', 'binaryResults'], async (client) => {
      live.faults.dropBeforeFrame(1);
      client.send([task]);
      await client.waitForClose();
    });
    await eventually(() => live.stats().heldFrames, (n) => n === 2);
    const second = await RawClient.connect(server.url);
    expect(await second.authenticate('k', { connectionSessionUUID: session })).toMatchObject({ resumed: true, enabledExtensions: ['ack', 'binaryResults'] });
    const replayed = await second.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    expect(replayed.map((f) => [f.kind, f.seq, finalItem(f).index])).toEqual([
      ['binary', 1, 0],
      ['binary', 2, 1],
    ]);
    const next = inferenceTask();
    second.send([next]);
    expect((await second.waitFor((f) => isFinal(f, next.taskUUID))).seq).toBe(3);
    await second.close();
  });

  it("lets an older client's resume ask again: the authentication's extensions and ack replace the session's", async () => {
    server = await startTestServer();
    const task = inferenceTask({ numberResults: 2 });
    const session = await cutSession(server, ['ack', 'binaryResults'], async (client) => {
      client.send([task]);
      await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    });
    const second = await RawClient.connect(server.url);
    const auth = await second.authenticate('k', { connectionSessionUUID: session, extensions: ['ack'], ack: 1 });
    expect(auth).toMatchObject({ resumed: true, enabledExtensions: ['ack'] });
    const replay = await second.waitFor((f) => isFinal(f, task.taskUUID));
    expect([replay.kind, replay.seq, finalItem(replay).index]).toEqual(['json', 2, 1]);
    await second.expectNone((f) => isFinal(f, task.taskUUID), { from: second.frames.indexOf(replay) + 1 });
    await second.close();
  });

  it('starts with every extension off when the session cannot be resumed', async () => {
    server = await startTestServer();
    const session = await cutSession(server, ['ack', 'binaryResults'], async () => undefined);
    const thief = await RawClient.connect(server.url);
    expect(await thief.authenticate('other-key', { connectionSessionUUID: session })).toMatchObject({ resumed: false, resumeError: 'sessionNotFound', enabledExtensions: [] });
    await thief.close();
  });

  it('gives the socket that takes a session over the extensions the session has', async () => {
    server = await startTestServer();
    const old = await RawClient.authenticated(server.url, 'k');
    await old.client.enableExtensions(['ack']);
    const fresh = await RawClient.connect(server.url);
    expect(await fresh.authenticate('k', { connectionSessionUUID: old.auth.connectionSessionUUID })).toMatchObject({ resumed: true, enabledExtensions: ['ack'] });
    await old.client.waitForClose();
    const task = inferenceTask();
    fresh.send([task]);
    expect((await fresh.waitFor((f) => isFinal(f, task.taskUUID))).seq).toBe(1);
    expect(fresh.frames.some(isEnableAnswer)).toBe(false);
    await fresh.close();
  });
});
