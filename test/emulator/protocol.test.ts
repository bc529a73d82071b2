// The emulator's base protocol over a raw socket: routing, authentication, ping, refusals of
// malformed frames and unauthenticated tasks, pipelining behind the authentication, idle close.
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RawClient } from '../helpers/raw-client.js';
import { imageTask, isAuthReply, isErrors, isPong, isResultOf, json, emulatorFixture } from './kit.js';

const start = emulatorFixture();

describe('routing', () => {
  it('upgrades /v1 whatever the query, and answers 404 to other paths', async () => {
    const emu = await start();
    const client = await RawClient.connect(`${emu.url}?sdk=js&version=1.3.2&dryRun=1`);
    await client.close();
    await expect(RawClient.connect(emu.url.replace('/v1', '/v2'))).rejects.toThrow('HTTP 404');
    await expect(RawClient.connect(emu.url.replace('/v1', '/'))).rejects.toThrow('HTTP 404');
    const page = await fetch(`${emu.httpUrl}/v1`);
    expect(page.status).toBe(404);
  });
});

describe('authentication', () => {
  it('answers exactly the documented reply, with a fresh session UUID', async () => {
    const emu = await start();
    const client = await RawClient.connect(emu.url);
    client.send([{ taskType: 'authentication', apiKey: 'any-key' }]);
    const reply = json(await client.waitFor(isAuthReply));
    expect(Object.keys(reply)).toEqual(['data']);
    expect(reply.data).toEqual([{ taskType: 'authentication', connectionSessionUUID: expect.stringMatching(/^[0-9a-f-]{36}$/) }]);
    await client.close();
  });

  it('refuses a key outside the accepted list with invalidApiKey, and then refuses tasks', async () => {
    const emu = await start({ apiKeys: ['good'] });
    const client = await RawClient.connect(emu.url);
    client.send([{ taskType: 'authentication', apiKey: 'bad' }]);
    const refusal = json(await client.waitFor(isErrors));
    expect(refusal).toEqual({
      errors: [{ code: 'invalidApiKey', message: expect.any(String), parameter: 'apiKey', type: 'string', taskType: 'authentication' }],
    });
    const task = imageTask();
    client.send([task]);
    const refused = await client.waitFor((f) => f.kind === 'json' && f.errors[0]?.taskUUID === task.taskUUID);
    expect(json(refused).errors).toEqual([expect.objectContaining({ code: 'missingApiKey', taskType: 'imageInference', taskUUID: task.taskUUID })]);
    expect(emu.stats().inferencesAccepted.get(task.taskUUID)).toBeUndefined();
    // The accepted key still works on the same socket.
    const auth = await client.authenticate('good');
    expect(auth.taskType).toBe('authentication');
    await client.close();
  });

  it('refuses an empty key and a missing key', async () => {
    const emu = await start();
    const client = await RawClient.connect(emu.url);
    client.send([{ taskType: 'authentication', apiKey: '' }]);
    client.send([{ taskType: 'authentication' }]);
    const [empty, missing] = await client.waitForCount(isErrors, 2);
    expect(json(empty!).errors).toEqual([expect.objectContaining({ code: 'invalidApiKey', parameter: 'apiKey' })]);
    expect(json(missing!).errors).toEqual([expect.objectContaining({ code: 'missingApiKey', parameter: 'apiKey', taskType: 'authentication' })]);
    await client.close();
  });

  it('refuses every task sent before authentication, and keeps the socket open', async () => {
    const emu = await start();
    const client = await RawClient.connect(emu.url);
    const inference = imageTask();
    const poll = { taskType: 'getResponse', taskUUID: inference.taskUUID };
    client.send([inference, poll]);
    const refusals = await client.waitForCount(isErrors, 2);
    expect(refusals.map((f) => json(f).errors)).toEqual([
      [expect.objectContaining({ code: 'missingApiKey', taskType: 'imageInference', taskUUID: inference.taskUUID })],
      [expect.objectContaining({ code: 'missingApiKey', taskType: 'getResponse', taskUUID: inference.taskUUID })],
    ]);
    expect(client.isClosed).toBe(false);
    await client.close();
  });

  it('runs tasks pipelined behind the authentication (same frame or next frames) after its reply', async () => {
    const emu = await start({ authDelayMs: 50 });
    const client = await RawClient.connect(emu.url);
    const first = imageTask();
    const second = imageTask();
    client.send([{ taskType: 'authentication', apiKey: 'k' }, first]);
    client.send([second]);
    await client.waitFor(isResultOf(first.taskUUID));
    await client.waitFor(isResultOf(second.taskUUID));
    // The reply came first; nothing was refused.
    expect(isAuthReply(client.frames[0]!)).toBe(true);
    expect(client.frames.filter(isErrors)).toEqual([]);
    await client.close();
  });
});

describe('ping', () => {
  it('answers exactly {"data":[{"taskType":"ping","pong":true}]} before and after authentication', async () => {
    const emu = await start();
    const client = await RawClient.connect(emu.url);
    client.send([{ taskType: 'ping', ping: true }]);
    const before = await client.waitFor(isPong);
    expect(before.kind === 'json' && before.text).toBe('{"data":[{"taskType":"ping","pong":true}]}');
    await client.authenticate('k');
    const from = client.frames.length;
    client.send([{ taskType: 'ping', ping: true }]);
    const after = await client.waitFor(isPong, { from });
    expect(after.kind === 'json' && after.text).toBe('{"data":[{"taskType":"ping","pong":true}]}');
    await client.close();
  });

  it('answers WebSocket control pings too', async () => {
    const emu = await start();
    const client = await RawClient.connect(emu.url);
    const pong = new Promise<void>((resolve) => client.ws.once('pong', () => resolve()));
    client.ws.ping();
    await pong;
    await client.close();
  });

  it('closes a socket after idleTimeoutMs without a client frame', async () => {
    const emu = await start({ idleTimeoutMs: 100 });
    const client = await RawClient.connect(emu.url);
    await client.authenticate('k');
    const closed = await client.waitForClose(3_000);
    expect(closed.code).toBe(1000);
  });

  it('keeps a socket that pings open past idleTimeoutMs', async () => {
    const emu = await start({ idleTimeoutMs: 400 });
    const client = await RawClient.connect(emu.url);
    await client.authenticate('k');
    for (let i = 0; i < 6; i++) {
      const from = client.frames.length;
      client.send([{ taskType: 'ping', ping: true }]);
      await client.waitFor(isPong, { from });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(client.isClosed).toBe(false);
    await client.close();
  });
});

describe('malformed frames', () => {
  const cases: Array<[string, string | Uint8Array, string]> = [
    ['not JSON', '{"taskType":', 'invalidJSON'],
    ['a JSON object, not an array', '{"taskType":"ping","ping":true}', 'invalidRequest'],
    ['an empty array', '[]', 'invalidRequest'],
    ['an array of non-objects', '[1]', 'invalidRequest'],
    ['a task without taskType', '[{"ping":true}]', 'missingTaskType'],
    ['a taskType that is not a string', '[{"taskType":7}]', 'invalidTaskType'],
    ['a binary frame', new Uint8Array([0x5b, 0x5d]), 'invalidRequest'],
  ];
  it.each(cases)('answers %s with an errors frame, socket open', async (_name, frame, code) => {
    const emu = await start();
    const client = await RawClient.connect(emu.url);
    client.send(frame);
    const answer = json(await client.waitFor(isErrors));
    expect(answer.errors).toEqual([expect.objectContaining({ code, message: expect.any(String) })]);
    expect(client.isClosed).toBe(false);
    client.send([{ taskType: 'ping', ping: true }]);
    await client.waitFor(isPong);
    await client.close();
  });

  it('answers an unknown taskType with unsupportedTaskType naming it, socket open', async () => {
    const emu = await start();
    const client = await RawClient.connect(emu.url);
    await client.authenticate('k');
    client.send([{ taskType: 'test', data: 'hello' }]);
    const answer = json(await client.waitFor(isErrors));
    expect(answer.errors).toEqual([{ code: 'unsupportedTaskType', message: expect.stringContaining("'test'"), parameter: 'taskType', type: 'string', taskType: 'test' }]);
    client.send([{ taskType: 'ping', ping: true }]);
    await client.waitFor(isPong);
    await client.close();
  });

  it('refuses a taskUUID that is not a UUID v4', async () => {
    const emu = await start();
    const client = await RawClient.connect(emu.url);
    await client.authenticate('k');
    client.send([imageTask({ taskUUID: 'not-a-uuid' }), imageTask({ taskUUID: undefined })]);
    const [invalid, missing] = await client.waitForCount(isErrors, 2);
    expect(json(invalid!).errors).toEqual([expect.objectContaining({ code: 'invalidTaskUUID', parameter: 'taskUUID', taskUUID: 'not-a-uuid' })]);
    expect(json(missing!).errors).toEqual([expect.objectContaining({ code: 'missingTaskUUID', parameter: 'taskUUID', taskType: 'imageInference' })]);
    expect(emu.stats().inferencesAccepted.size).toBe(0);
    await client.close();
  });
});

describe('socket hygiene', () => {
  it('counts sockets and frees them on close', async () => {
    const emu = await start();
    const clients = await Promise.all([RawClient.connect(emu.url), RawClient.connect(emu.url)]);
    expect(emu.stats().socketsOpen).toBe(2);
    await Promise.all(clients.map((client) => client.close()));
    const ws = new WebSocket(emu.url);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.terminate();
    await expect.poll(() => emu.stats().socketsOpen).toBe(0);
    expect(emu.stats().socketsTotal).toBe(3);
  });
});
