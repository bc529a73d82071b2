// Each fault of the emulator, deterministically: cuts after the kth result frame, a last frame lost
// at a drop (and never replayed), half-open sockets that swallow client frames, restarts that
// forget, echoed sessions without state, withheld pongs, sockets cut on connect.
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { RawClient } from '../helpers/raw-client.js';
import { imageTask, isErrorOf, isErrors, isPong, isResultOf, json, resultItems, emulatorFixture } from './kit.js';
import type { RunwareEmulator } from './runware-emulator.js';

const start = emulatorFixture();

async function authenticated(emu: RunwareEmulator, extra: Record<string, unknown> = {}): Promise<{ client: RawClient; session: string }> {
  const client = await RawClient.connect(emu.url);
  const auth = await client.authenticate('key-a', extra);
  return { client, session: auth.connectionSessionUUID as string };
}

/** Waits until the emulator has made `count` images of a task (asking getResponse on `client`). */
async function madeImages(client: RawClient, taskUUID: string, count: number): Promise<void> {
  for (;;) {
    const from = client.frames.length;
    client.send([{ taskType: 'getResponse', taskUUID }]);
    const answer = await client.waitFor((f) => f.kind === 'json' && f.data[0]?.status !== undefined && f.data[0]?.taskUUID === taskUUID, { from });
    const items = json(answer).data as Record<string, unknown>[];
    if (items.filter((item) => item.status === 'success').length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('dropAfterResults', () => {
  it('cuts the socket right after the kth next result frame, which is delivered', async () => {
    const emu = await start();
    const { client, session } = await authenticated(emu);
    const task = imageTask({ numberResults: 4, seed: 1 });
    emu.faults.dropAfterResults(2);
    client.send([task]);
    const closed = await client.waitForClose();
    expect(closed.code).toBe(1006);
    expect(resultItems(client.frames, task.taskUUID).map((item) => item.seed)).toEqual([1, 2]);
    await eventually(() => emu.stats().resultsBuffered, (n) => n === 2);
    const resumed = await authenticated(emu, { connectionSessionUUID: session });
    const replayed = await resumed.client.waitForCount(isResultOf(task.taskUUID), 2);
    expect(resultItems(replayed, task.taskUUID).map((item) => item.seed)).toEqual([3, 4]);
    expect(emu.stats()).toMatchObject({ resultsLost: 0, resultsWritten: 4 });
    await resumed.client.close();
  });

  it('counts result frames across sockets and stops after firing', async () => {
    const emu = await start();
    const a = await authenticated(emu);
    const b = await authenticated(emu);
    emu.faults.dropAfterResults(2);
    const first = imageTask();
    a.client.send([first]);
    await a.client.waitFor(isResultOf(first.taskUUID));
    const second = imageTask({ numberResults: 3 });
    b.client.send([second]);
    await b.client.waitForClose();
    expect(resultItems(b.client.frames, second.taskUUID)).toHaveLength(1);
    // Disarmed after firing: socket a keeps working.
    const third = imageTask({ numberResults: 2 });
    a.client.send([third]);
    await a.client.waitForCount(isResultOf(third.taskUUID), 2);
    expect(a.client.isClosed).toBe(false);
    await a.client.close();
  });
});

describe('loseLastFrameBeforeDrop', () => {
  it('loses the frame written just before the cut: not received, not replayed', async () => {
    const emu = await start();
    const { client, session } = await authenticated(emu);
    const task = imageTask({ numberResults: 4, seed: 1 });
    emu.faults.loseLastFrameBeforeDrop();
    emu.faults.dropAfterResults(2);
    client.send([task]);
    await client.waitForClose();
    expect(resultItems(client.frames, task.taskUUID).map((item) => item.seed)).toEqual([1]);
    await eventually(() => emu.stats().resultsBuffered, (n) => n === 2);
    const resumed = await authenticated(emu, { connectionSessionUUID: session });
    const replayed = await resumed.client.waitForCount(isResultOf(task.taskUUID), 2);
    expect(resultItems(replayed, task.taskUUID).map((item) => item.seed)).toEqual([3, 4]);
    await resumed.client.expectNone(isResultOf(task.taskUUID), { from: resumed.client.frames.indexOf(replayed[1]!) + 1 });
    expect(emu.stats()).toMatchObject({ resultsLost: 1, resultsWritten: 3 });
    // getResponse still knows all four: the service thinks the lost one was delivered.
    resumed.client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    const answer = await resumed.client.waitFor((f) => f.kind === 'json' && f.data[0]?.status === 'success');
    expect((json(answer).data as unknown[]).length).toBe(4);
    await resumed.client.close();
  });

  it('applies to dropAll too, and only to the next drop', async () => {
    const emu = await start();
    const { client, session } = await authenticated(emu);
    emu.faults.loseLastFrameBeforeDrop();
    const task = imageTask();
    client.send([task]);
    await madeImages(client, task.taskUUID, 1);
    emu.faults.dropAll();
    await client.waitForClose();
    expect(client.frames.filter(isResultOf(task.taskUUID))).toEqual([]);
    expect(emu.stats().resultsLost).toBe(1);
    const resumed = await authenticated(emu, { connectionSessionUUID: session });
    await resumed.client.expectNone(isResultOf(task.taskUUID));
    // The fault was consumed: the next task's frames go out at once and the next drop loses nothing.
    const next = imageTask();
    resumed.client.send([next]);
    await resumed.client.waitFor(isResultOf(next.taskUUID));
    emu.faults.dropAll();
    await resumed.client.waitForClose();
    expect(emu.stats().resultsLost).toBe(1);
  });

  it('writes the held frame when the faults are reset', async () => {
    const emu = await start();
    const { client } = await authenticated(emu);
    emu.faults.loseLastFrameBeforeDrop();
    const task = imageTask();
    client.send([task]);
    await madeImages(client, task.taskUUID, 1);
    expect(client.frames.filter(isResultOf(task.taskUUID))).toEqual([]);
    emu.faults.reset();
    await client.waitFor(isResultOf(task.taskUUID));
    expect(emu.stats().resultsLost).toBe(0);
    await client.close();
  });
});

describe('loseClientFramesAfterDrop', () => {
  it('keeps the socket open but deaf for ms, then closes it; the session buffers meanwhile', async () => {
    const emu = await start({ imageDelayMs: 20 });
    const { client, session } = await authenticated(emu);
    const running = imageTask({ numberResults: 3 });
    client.send([running]);
    await client.waitFor(isResultOf(running.taskUUID));
    emu.faults.loseClientFramesAfterDrop(800);
    emu.faults.dropAll();
    const lost = imageTask();
    const from = client.frames.length;
    client.send([lost]);
    client.send([{ taskType: 'ping', ping: true }]);
    await client.expectNone(() => true, { from, windowMs: 150 });
    expect(client.isClosed).toBe(false);
    const closed = await client.waitForClose();
    expect(closed.code).toBe(1006);
    expect(emu.stats().inferencesAccepted.get(lost.taskUUID)).toBeUndefined();
    expect(emu.stats().clientFramesLost).toBe(2);
    // What the running task produced after the drop was buffered for resume.
    const resumed = await authenticated(emu, { connectionSessionUUID: session });
    const before = resultItems(client.frames, running.taskUUID).length;
    await resumed.client.waitForCount(isResultOf(running.taskUUID), 3 - before);
    await resumed.client.close();
  });

  it('does not answer WebSocket control pings while half-open', async () => {
    const emu = await start();
    const { client } = await authenticated(emu);
    emu.faults.loseClientFramesAfterDrop(300);
    emu.faults.dropAll();
    let pongs = 0;
    client.ws.on('pong', () => pongs++);
    client.ws.ping();
    await client.waitForClose();
    expect(pongs).toBe(0);
  });
});

describe('dropAll', () => {
  it('cuts every socket at once', async () => {
    const emu = await start();
    const clients = await Promise.all([authenticated(emu), authenticated(emu), RawClient.connect(emu.url)]);
    emu.faults.dropAll();
    const closes = await Promise.all(clients.map((c) => ('client' in c ? c.client : c).waitForClose()));
    expect(closes.map((c) => c.code)).toEqual([1006, 1006, 1006]);
    await eventually(() => emu.stats().socketsOpen, (n) => n === 0);
  });
});

describe('restartForgettingSessions', () => {
  it('cuts every socket, forgets sessions, buffers and tasks, and listens again on the same port', async () => {
    const emu = await start({ imageDelayMs: 30 });
    const { client, session } = await authenticated(emu);
    const done = imageTask();
    client.send([done]);
    await client.waitFor(isResultOf(done.taskUUID));
    const running = imageTask({ numberResults: 5 });
    client.send([running]);
    await client.waitFor(isResultOf(running.taskUUID));
    await emu.faults.restartForgettingSessions();
    expect((await client.waitForClose()).code).toBe(1006);
    expect(emu.stats()).toMatchObject({ restarts: 1, sessions: 0, socketsOpen: 0 });

    const after = await authenticated(emu, { connectionSessionUUID: session });
    expect(after.session).not.toBe(session);
    after.client.send([{ taskType: 'getResponse', taskUUID: done.taskUUID }]);
    expect(json(await after.client.waitFor(isErrorOf(done.taskUUID))).errors).toEqual([expect.objectContaining({ code: 'taskFailedOrNotFound' })]);
    // The running task stopped with the old service; its UUID is free again (the resend runs).
    await after.client.expectNone(isResultOf(running.taskUUID), { windowMs: 100 });
    after.client.send([running]);
    await after.client.waitForCount(isResultOf(running.taskUUID), 5);
    expect(emu.stats().inferencesAccepted.get(running.taskUUID)).toBe(2);
    await after.client.close();
  });

  it('restart(options) applies new options', async () => {
    const emu = await start();
    await emu.restart({ apiKeys: ['only'] });
    const client = await RawClient.connect(emu.url);
    client.send([{ taskType: 'authentication', apiKey: 'key-a' }]);
    expect(json(await client.waitFor(isErrors)).errors).toEqual([expect.objectContaining({ code: 'invalidApiKey' })]);
    await client.authenticate('only');
    await client.close();
  });
});

describe('echoOldSessionWithEmptyState', () => {
  it('answers a resume of a forgotten session with the same UUID and no state', async () => {
    const emu = await start();
    const { client, session } = await authenticated(emu);
    const task = imageTask({ numberResults: 3 });
    emu.faults.dropAfterResults(1);
    client.send([task]);
    await client.waitForClose();
    await eventually(() => emu.stats().resultsBuffered, (n) => n === 2);
    await emu.faults.restartForgettingSessions();
    emu.faults.echoOldSessionWithEmptyState();

    const echoed = await authenticated(emu, { connectionSessionUUID: session });
    expect(echoed.session).toBe(session);
    await echoed.client.expectNone(isResultOf(task.taskUUID));
    echoed.client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    await echoed.client.waitFor(isErrorOf(task.taskUUID));
    expect(emu.stats().resultsLost).toBe(2);
    // A UUID that never existed still gets a new one; so does another key.
    const stranger = crypto.randomUUID();
    expect((await authenticated(emu, { connectionSessionUUID: stranger })).session).not.toBe(stranger);
    const other = await RawClient.connect(emu.url);
    expect((await other.authenticate('key-b', { connectionSessionUUID: session })).connectionSessionUUID).not.toBe(session);
    await other.close();
    await echoed.client.close();
  });
});

describe('withholdPongs', () => {
  it('ignores pings while on', async () => {
    const emu = await start();
    const { client } = await authenticated(emu);
    emu.faults.withholdPongs(true);
    client.send([{ taskType: 'ping', ping: true }]);
    await client.expectNone(isPong);
    emu.faults.withholdPongs(false);
    client.send([{ taskType: 'ping', ping: true }]);
    await client.waitFor(isPong);
    await client.close();
  });
});

describe('closeOnConnect', () => {
  it('cuts the next n sockets right after the upgrade', async () => {
    const emu = await start();
    emu.faults.closeOnConnect(2);
    for (let i = 0; i < 2; i++) {
      const cut = await RawClient.connect(emu.url);
      expect((await cut.waitForClose()).code).toBe(1006);
    }
    const { client } = await authenticated(emu);
    expect(client.isClosed).toBe(false);
    await client.close();
    expect(emu.stats().socketsTotal).toBe(3);
  });
});

describe('failNextTasks', () => {
  it('fails the next n accepted tasks with an error frame about the task', async () => {
    const emu = await start();
    const { client } = await authenticated(emu);
    emu.faults.failNextTasks(2);
    const [a, b, c] = [imageTask({ numberResults: 2 }), imageTask(), imageTask()];
    client.send([a, b, c]);
    for (const failed of [a, b]) {
      expect(json(await client.waitFor(isErrorOf(failed.taskUUID))).errors).toEqual([
        { code: 'inferenceError', message: expect.any(String), taskType: 'imageInference', taskUUID: failed.taskUUID },
      ]);
    }
    await client.waitFor(isResultOf(c.taskUUID));
    expect(resultItems(client.frames, a.taskUUID)).toEqual([]);
    await client.close();
  });
});
