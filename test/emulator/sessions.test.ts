// Sessions on the emulator: results produced while a session has no socket are buffered and
// written, in order, right after the reply to an authentication naming the session; unknown,
// expired or foreign sessions start fresh without an error; a second socket takes a session over.
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { RawClient } from '../helpers/raw-client.js';
import { imageTask, isAuthReply, isResultOf, resultItems, emulatorFixture } from './kit.js';
import type { RunwareEmulator } from './runware-emulator.js';

const start = emulatorFixture();

/** Authenticates a first socket and returns it with its session UUID. */
async function firstSocket(emu: RunwareEmulator, apiKey = 'key-a'): Promise<{ client: RawClient; session: string }> {
  const { client, auth } = await RawClient.authenticated(emu.url, apiKey);
  return { client, session: auth.connectionSessionUUID as string };
}

/** Opens a socket that resumes `session`; returns it and the session UUID of the reply. */
async function resume(emu: RunwareEmulator, session: string, apiKey = 'key-a'): Promise<{ client: RawClient; session: string }> {
  const client = await RawClient.connect(emu.url);
  const auth = await client.authenticate(apiKey, { connectionSessionUUID: session });
  return { client, session: auth.connectionSessionUUID as string };
}

describe('resume', () => {
  it('writes the results buffered after a drop, in order, right after the reply', async () => {
    const emu = await start();
    const first = await firstSocket(emu);
    const task = imageTask({ numberResults: 4, seed: 10 });
    emu.faults.dropAfterResults(1);
    first.client.send([task]);
    await first.client.waitForClose();
    expect(resultItems(first.client.frames, task.taskUUID).map((item) => item.seed)).toEqual([10]);
    await eventually(() => emu.stats().resultsBuffered, (n) => n === 3);

    const second = await resume(emu, first.session);
    expect(second.session).toBe(first.session);
    await second.client.waitForCount(isResultOf(task.taskUUID), 3);
    expect(isAuthReply(second.client.frames[0]!)).toBe(true);
    expect(second.client.frames.slice(1, 4).every(isResultOf(task.taskUUID))).toBe(true);
    expect(resultItems(second.client.frames, task.taskUUID).map((item) => item.seed)).toEqual([11, 12, 13]);
    expect(emu.stats()).toMatchObject({ sessionsResumed: 1, resultsReplayed: 3, resultsWritten: 4 });
    // Handed over once: a second resume gets nothing more.
    await second.client.close();
    const third = await resume(emu, first.session);
    await third.client.expectNone(isResultOf(task.taskUUID));
    await third.client.close();
  });

  it('keeps delivering a running task to the resumed socket', async () => {
    const emu = await start({ imageDelayMs: 20 });
    const first = await firstSocket(emu);
    const task = imageTask({ numberResults: 5 });
    emu.faults.dropAfterResults(1);
    first.client.send([task]);
    await first.client.waitForClose();
    const second = await resume(emu, first.session);
    await second.client.waitForCount(isResultOf(task.taskUUID), 4);
    expect(emu.stats().inferencesAccepted.get(task.taskUUID)).toBe(1);
    await second.client.close();
  });

  it('answers an unknown session with a new UUID and no error', async () => {
    const emu = await start();
    const unknown = crypto.randomUUID();
    const resumed = await resume(emu, unknown);
    expect(resumed.session).not.toBe(unknown);
    expect(resumed.client.frames.filter((f) => f.kind === 'json' && f.errors.length > 0)).toEqual([]);
    const notUuid = await resume(emu, 'not-a-session');
    expect(notUuid.session).toMatch(/^[0-9a-f-]{36}$/);
    await resumed.client.close();
    await notUuid.client.close();
  });

  it('forgets a session and its results after resumeWindowMs', async () => {
    const emu = await start({ resumeWindowMs: 50 });
    const first = await firstSocket(emu);
    const task = imageTask({ numberResults: 2 });
    emu.faults.dropAfterResults(1);
    first.client.send([task]);
    await first.client.waitForClose();
    await eventually(() => emu.stats(), (stats) => stats.resultsExpired === 1 && stats.sessions === 0);
    const second = await resume(emu, first.session);
    expect(second.session).not.toBe(first.session);
    await second.client.expectNone(isResultOf(task.taskUUID));
    await second.client.close();
  });

  it("does not resume another key's session", async () => {
    const emu = await start();
    const first = await firstSocket(emu, 'key-a');
    const task = imageTask({ numberResults: 2 });
    emu.faults.dropAfterResults(1);
    first.client.send([task]);
    await first.client.waitForClose();
    const thief = await resume(emu, first.session, 'key-b');
    expect(thief.session).not.toBe(first.session);
    await thief.client.expectNone(isResultOf(task.taskUUID));
    const owner = await resume(emu, first.session, 'key-a');
    expect(owner.session).toBe(first.session);
    await owner.client.waitFor(isResultOf(task.taskUUID));
    await thief.client.close();
    await owner.client.close();
  });

  it('lets a second socket take a session over and closes the first', async () => {
    const emu = await start({ imageDelayMs: 30 });
    const first = await firstSocket(emu);
    const task = imageTask({ numberResults: 3 });
    first.client.send([task]);
    await first.client.waitFor(isResultOf(task.taskUUID));
    const second = await resume(emu, first.session);
    expect(second.session).toBe(first.session);
    expect((await first.client.waitForClose()).code).toBe(1000);
    // The rest of the task goes to the new socket.
    const before = resultItems(first.client.frames, task.taskUUID).length;
    await second.client.waitForCount(isResultOf(task.taskUUID), 3 - before);
    await second.client.close();
  });

  it('buffers while a socket re-authenticates into another session', async () => {
    const emu = await start();
    const first = await firstSocket(emu);
    const other = await firstSocket(emu);
    const task = imageTask({ numberResults: 2 });
    emu.faults.dropAfterResults(1);
    first.client.send([task]);
    await first.client.waitForClose();
    // Resume on a socket that was in another session: the reply comes first, then the results.
    const from = other.client.frames.length;
    const auth = await other.client.authenticate('key-a', { connectionSessionUUID: first.session });
    expect(auth.connectionSessionUUID).toBe(first.session);
    await other.client.waitFor(isResultOf(task.taskUUID), { from });
    await other.client.close();
  });
});
