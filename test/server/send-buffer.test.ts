// A peer that stops reading: its unsent output is bounded by limits.maxSocketBufferedBytes. Replies
// that do not fit (getResponse answers) are not queued: the socket is closed with 4001 "send buffer
// full". Task outputs wait in the session (its own byte bound) and survive the close, so a resume
// gets every one of them once.
import { createConnection, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeCodes, defaultLimits } from '../../src/server/index.js';
import { eventually } from '../helpers/eventually.js';
import { fixedImageEngine, randomImage } from '../helpers/fixed-engine.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { finalItem, isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

const servers: TestServer[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  for (const server of servers.splice(0)) await server.close();
});

/** A raw client whose TCP socket the test can pause (a peer that stops reading) and resume. */
async function pausableClient(url: string): Promise<{ client: RawClient; tcp: Socket }> {
  let tcp: Socket | undefined;
  const client = await RawClient.connect(url, {
    createConnection: (options) => {
      tcp = createConnection(options as Parameters<typeof createConnection>[0]);
      return tcp;
    },
  });
  clients.push(client);
  if (tcp === undefined) throw new Error('no TCP socket');
  return { client, tcp };
}

function sendBufferFull(server: TestServer): boolean {
  return server.logs.lines.some((line) => line.message === 'send buffer full');
}

describe('send buffer', () => {
  it('has a documented default and a close code of its own', () => {
    expect(defaultLimits.maxSocketBufferedBytes).toBe(16 * 1024 * 1024);
    expect(defaultLimits.sendStallTimeoutMs).toBe(5_000);
    expect(closeCodes.sendBufferFull).toBe(4001);
  });

  it('closes a peer that stops reading 120 getResponse answers with 4001; its task outputs are resumed once', async () => {
    const engine = createGateEngine(fixedImageEngine(randomImage(256 * 1024)));
    const server = await startTestServer({ engine, limits: { maxSocketBufferedBytes: 1024 * 1024 } });
    servers.push(server);
    const { client, tcp } = await pausableClient(server.url);
    const auth = await client.authenticate('key');
    const done = inferenceTask();
    client.send([done]);
    engine.open(1);
    await client.waitFor((frame) => isFinal(frame, done.taskUUID));
    // A task whose four finals are still to come.
    const pending = inferenceTask({ numberResults: 4 });
    client.send([pending]);
    await engine.waiting(1);

    tcp.pause();
    const asks = Array.from({ length: 120 }, () => ({ taskType: 'getResponse', taskUUID: done.taskUUID }));
    client.send(asks);
    await eventually(() => sendBufferFull(server), (full) => full);
    // The finals come while the socket is closing: they are held for the session.
    engine.openAll();
    await eventually(() => server.stats().heldFrames, (held) => held === 4);
    tcp.resume();
    const closed = await client.waitForClose();
    expect(closed).toEqual({ code: 4001, reason: 'send buffer full' });
    const answered = client.frames.filter((frame) => frame.kind === 'json' && frame.data.some((item) => item.taskType === 'imageInference' && item.taskUUID === done.taskUUID)).length;
    // Not all 120 answers were queued: the bound cut them off.
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan(120);
    expect(client.framesOf(pending.taskUUID)).toEqual([]);

    const { client: resumed, auth: again } = await RawClient.authenticated(server.url, 'key', { connectionSessionUUID: auth.connectionSessionUUID });
    clients.push(resumed);
    expect(again.resumed).toBe(true);
    const finals = await resumed.waitForCount((frame) => isFinal(frame, pending.taskUUID), 4);
    expect(finals.map((frame) => finalItem(frame).index).sort()).toEqual([0, 1, 2, 3]);
    await resumed.expectNone((frame) => isFinal(frame, pending.taskUUID), { from: resumed.frames.indexOf(finals[3]!) + 1 });
  });

  it('keeps a slow but reading peer: its task outputs wait for the buffer instead of closing it', async () => {
    const server = await startTestServer({ engine: fixedImageEngine(randomImage(1024 * 1024)), limits: { maxSocketBufferedBytes: 256 * 1024, sendStallTimeoutMs: 2_000 } });
    servers.push(server);
    const { client, tcp } = await pausableClient(server.url);
    await client.authenticate('key');
    const tasks = Array.from({ length: 12 }, () => inferenceTask());
    // Reads in bursts: paused half of the time, far slower than the server writes.
    const reading = setInterval(() => (tcp.isPaused() ? tcp.resume() : tcp.pause()), 40);
    try {
      client.send(tasks);
      for (const task of tasks) await client.waitFor((frame) => isFinal(frame, task.taskUUID), { timeoutMs: 20_000 });
    } finally {
      clearInterval(reading);
      tcp.resume();
    }
    expect(client.isClosed).toBe(false);
    expect(sendBufferFull(server)).toBe(false);
  });

  it('lets one frame larger than the bound through when nothing is queued', async () => {
    const server = await startTestServer({ engine: fixedImageEngine(randomImage(512 * 1024)), limits: { maxSocketBufferedBytes: 64 * 1024 } });
    servers.push(server);
    const { client } = await RawClient.authenticated(server.url);
    clients.push(client);
    const task = inferenceTask();
    client.send([task]);
    const final = await client.waitFor((frame) => isFinal(frame, task.taskUUID));
    expect(String(finalItem(final).imageBase64Data).length).toBeGreaterThan(512 * 1024);
    client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    await client.waitFor((frame) => frame.kind === 'json' && frame.data[0]?.taskType === 'imageInference' && frame.data[0]?.status === 'success');
    expect(client.isClosed).toBe(false);
  });
});
