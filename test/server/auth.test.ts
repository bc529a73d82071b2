// Authentication on the WebSocket face: the reply's exact shape, bad keys, open mode, tasks before
// authentication, pipelining behind it, and the path/query routing official SDKs rely on.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { isAbout, isFinal, itemOf, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('authentication', () => {
  it('answers a good key with exactly the authentication item and a session UUID', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const client = await RawClient.connect(server.url);
    client.send([{ taskType: 'authentication', apiKey: 'k1' }]);
    const frame = await client.waitFor(() => true);
    expect(frame.kind).toBe('json');
    if (frame.kind !== 'json') return;
    expect(Object.keys(frame.value)).toEqual(['data']);
    expect(frame.data).toHaveLength(1);
    const item = itemOf(frame);
    expect(item.taskType).toBe('authentication');
    expect(item.connectionSessionUUID).toMatch(/^[0-9a-f-]{36}$/);
    expect(item.resumed).toBe(false);
    expect(item.extensions).toEqual(['ack', 'binaryResults', 'previews', 'cancel']);
    expect(item.enabledExtensions).toEqual([]);
    await client.close();
  });

  it('refuses a bad key with the invalidApiKey error shape and keeps the socket for a retry', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const client = await RawClient.connect(server.url);
    client.send([{ taskType: 'authentication', apiKey: 'wrong' }]);
    const frame = await client.waitFor(() => true);
    expect(frame.kind === 'json' && JSON.parse(frame.text)).toEqual({
      errors: [{ code: 'invalidApiKey', message: 'Invalid API key', parameter: 'apiKey', type: 'string', taskType: 'authentication' }],
    });
    const auth = await client.authenticate('k1');
    expect(auth.connectionSessionUUID).toBeTypeOf('string');
    await client.close();
  });

  it('closes the socket with 1008 after three failed authentications', async () => {
    server = await startTestServer({ apiKeys: ['k1'] });
    const client = await RawClient.connect(server.url);
    for (let i = 0; i < 3; i++) client.send([{ taskType: 'authentication', apiKey: `wrong-${i}` }]);
    const closed = await client.waitForClose();
    expect(closed.code).toBe(1008);
    expect(client.frames.filter((f) => f.kind === 'json' && f.errors[0]?.code === 'invalidApiKey')).toHaveLength(3);
  });

  it('accepts a key function, sync or async', async () => {
    server = await startTestServer({ apiKeys: async (key) => key.startsWith('ok-') });
    const good = await RawClient.connect(server.url);
    expect((await good.authenticate('ok-1')).taskType).toBe('authentication');
    const bad = await RawClient.connect(server.url);
    bad.send([{ taskType: 'authentication', apiKey: 'nope' }]);
    await bad.waitFor((f) => f.kind === 'json' && f.errors[0]?.code === 'invalidApiKey');
    await good.close();
    await bad.close();
  });

  it('accepts any non-empty key in open mode and still refuses an empty one', async () => {
    server = await startTestServer();
    const client = await RawClient.connect(server.url);
    client.send([{ taskType: 'authentication', apiKey: '' }]);
    await client.waitFor((f) => f.kind === 'json' && f.errors[0]?.code === 'invalidApiKey' && f.errors[0]?.taskType === 'authentication');
    expect((await client.authenticate('anything')).taskType).toBe('authentication');
    await client.close();
  });

  it('refuses tasks sent before authentication with notAuthenticated and does not run them', async () => {
    server = await startTestServer();
    const client = await RawClient.connect(server.url);
    const task = inferenceTask();
    client.send([task]);
    const refused = await client.waitFor((f) => isAbout(f, task.taskUUID));
    expect(refused.kind === 'json' && refused.errors[0]).toMatchObject({ code: 'notAuthenticated', taskType: 'imageInference', taskUUID: task.taskUUID });
    await client.authenticate('k');
    await client.expectNone((f) => isFinal(f, task.taskUUID));
    expect(server.stats().tasksRunning).toBe(0);
    await client.close();
  });

  it('runs tasks pipelined in the authentication frame and in frames sent before its reply', async () => {
    server = await startTestServer({ apiKeys: async (key) => key === 'k' });
    const client = await RawClient.connect(server.url);
    const inFrame = inferenceTask();
    const nextFrame = inferenceTask();
    client.send([{ taskType: 'authentication', apiKey: 'k' }, inFrame]);
    client.send([nextFrame]);
    const auth = await client.waitFor(() => true);
    expect(auth.kind === 'json' && auth.data[0]?.taskType).toBe('authentication');
    await client.waitFor((f) => isFinal(f, inFrame.taskUUID));
    await client.waitFor((f) => isFinal(f, nextFrame.taskUUID));
    await client.close();
  });

  it('refuses tasks pipelined behind a refused authentication', async () => {
    server = await startTestServer({ apiKeys: ['k'] });
    const client = await RawClient.connect(server.url);
    const task = inferenceTask();
    client.send([{ taskType: 'authentication', apiKey: 'bad' }, task]);
    await client.waitFor((f) => f.kind === 'json' && f.errors[0]?.code === 'invalidApiKey');
    const refused = await client.waitFor((f) => isAbout(f, task.taskUUID));
    expect(refused.kind === 'json' && refused.errors[0]?.code).toBe('notAuthenticated');
    await client.close();
  });

  it('answers a second authentication on the same socket with alreadyAuthenticated', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    client.send([{ taskType: 'authentication', apiKey: 'k' }]);
    const frame = await client.waitFor((f) => f.kind === 'json' && f.errors.length > 0);
    expect(frame.kind === 'json' && frame.errors[0]).toMatchObject({ code: 'alreadyAuthenticated', taskType: 'authentication' });
    await client.close();
  });

  it('routes on the path /v1 and ignores the query string', async () => {
    server = await startTestServer();
    const client = await RawClient.connect(`${server.url}?sdk=js&version=1.3.2&dryRun=1`);
    expect((await client.authenticate('k')).taskType).toBe('authentication');
    await client.close();
    await expect(RawClient.connect(server.url.replace('/v1', '/v2'))).rejects.toThrow(/404/);
  });

  it('closes a socket that never authenticates after authTimeoutMs with 1008', async () => {
    const clock = new FakeClock();
    server = await startTestServer({ limits: { authTimeoutMs: 50 }, clock });
    const client = await RawClient.connect(server.url);
    clock.advance(49);
    expect(server.stats().connections).toBe(1);
    clock.advance(1);
    expect(await client.waitForClose()).toEqual({ code: 1008, reason: 'authentication timeout' });
  });
});
