// The client against the real reference server over loopback: lazy connect, authentication,
// a refused key, key providers, extensions, routing of errors to their own task, queries, and the
// optional close when idle.
import { describe, expect, it } from 'vitest';
import { AuthenticationError, ValidationError, type StateName } from '../../src/index.js';
import { expectNoEvent, nextEvent, waitForState } from './helpers.js';
import { clientOf, closeAfterTest, smallRequest } from '../helpers/test-client.js';
import { startTestServer } from '../helpers/test-server.js';

describe('client against the reference server', () => {
  it('connects lazily on the first task, through every state, and delivers each final once', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const states: StateName[] = [client.state];
    client.on('state', (change) => states.push(change.to));
    expect(client.stats().attempts).toBe(0);
    const task = client.imageInference(smallRequest({ numberResults: 2 }));
    const finals: number[] = [];
    for await (const event of task) if (event.type === 'final') finals.push(event.index);
    expect(finals.sort()).toEqual([0, 1]);
    expect(states).toEqual(['idle', 'connecting', 'authenticating', 'open']);
    const images = await task.result();
    expect(images.map((image) => [image.index, image.format, image.bytes[0]])).toEqual([
      [0, 'PNG', 0x89],
      [1, 'PNG', 0x89],
    ]);
    expect(images[1]?.seed).toBe((images[0]?.seed ?? 0) + 1);
    expect(images.every((image) => image.imageUUID.length === 36 && image.taskUUID === task.taskUUID)).toBe(true);
  });

  it('turns on ack and binaryResults when the server offers them, and works without them', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const connected = nextEvent(client, 'connected');
    await client.connect();
    const info = await connected;
    expect([...info.enabledExtensions].sort()).toEqual(['ack', 'binaryResults']);
    expect(info.serverExtensions).toEqual(expect.arrayContaining(['ack', 'binaryResults', 'previews', 'cancel']));

    const plain = clientOf(server, { extensions: { ack: false, binaryResults: false } });
    const plainConnected = nextEvent(plain, 'connected');
    const [image] = await plain.imageInference(smallRequest()).result();
    expect((await plainConnected).enabledExtensions).toEqual([]);
    expect(image?.item.imageBase64Data).toEqual(expect.any(String));
    expect(image?.bytes[0]).toBe(0x89);
  });

  it('ends in closed with an AuthenticationError for a refused key, without a reconnect loop', async () => {
    const server = closeAfterTest(await startTestServer({ apiKeys: ['right'] }));
    const client = clientOf(server, { apiKey: 'wrong' });
    const task = client.imageInference(smallRequest());
    await expect(task.result()).rejects.toBeInstanceOf(AuthenticationError);
    await expect(task.result()).rejects.toMatchObject({ code: 'invalidApiKey' });
    await waitForState(client, 'closed');
    await expect(client.connect()).rejects.toBeInstanceOf(AuthenticationError);
    await expect(client.imageInference(smallRequest()).result()).rejects.toBeInstanceOf(AuthenticationError);
    expect(client.stats().attempts).toBe(1);
  });

  it('closes with connectionFailed for a URL no socket can be opened to', async () => {
    const client = clientOf({ url: 'not a url' });
    await expect(client.imageInference(smallRequest()).result()).rejects.toMatchObject({ name: 'ConnectionError', code: 'connectionFailed' });
    expect(client.state).toBe('closed');
  });

  it('calls the key provider at every authentication', async () => {
    const server = closeAfterTest(await startTestServer({ apiKeys: ['token-1', 'token-2'] }));
    const issued: string[] = [];
    const client = clientOf(server, {
      apiKey: async () => {
        const token = `token-${issued.length + 1}`;
        issued.push(token);
        return token;
      },
    });
    await client.connect();
    const reconnected = nextEvent(client, 'connected');
    server.faults.dropAll();
    await reconnected;
    expect(issued).toEqual(['token-1', 'token-2']);
  });

  it('retries when the key provider fails, and reports the failure', async () => {
    const server = closeAfterTest(await startTestServer());
    let calls = 0;
    const client = clientOf(server, {
      apiKey: () => {
        calls++;
        if (calls === 1) throw new Error('token service unavailable');
        return 'k1';
      },
    });
    const failure = nextEvent(client, 'error');
    await client.connect();
    expect(await failure).toMatchObject({ name: 'ConnectionError', code: 'apiKeyProviderFailed' });
    expect(calls).toBe(2);
  });

  it('rejects a bad request at once with a ValidationError naming the parameter, sending nothing', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const task = client.imageInference(smallRequest({ width: 500 }));
    await expect(task.result()).rejects.toBeInstanceOf(ValidationError);
    await expect(task.result()).rejects.toMatchObject({ code: 'invalidWidth', parameter: 'width', taskUUID: task.taskUUID });
    expect(client.state).toBe('idle');
    expect(client.stats().attempts).toBe(0);
  });

  it('routes a server error only to its own task', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const bad = client.imageInference(smallRequest({ model: 'nosuch:1@1' }));
    const good = client.imageInference(smallRequest({ numberResults: 2 }));
    await expect(bad.result()).rejects.toMatchObject({ name: 'ApiError', code: 'unknownModel', parameter: 'model', taskUUID: bad.taskUUID });
    expect(await good.result()).toHaveLength(2);
  });

  it('uploads an image and uses it as a seed image', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const [source] = await client.imageInference(smallRequest()).result();
    const uploaded = await client.imageUpload({ image: source?.dataURI ?? '' });
    expect(uploaded.imageUUID).toHaveLength(36);
    const [variation] = await client.imageInference(smallRequest({ seedImage: uploaded.imageUUID, strength: 0.5 })).result();
    expect(variation?.bytes.byteLength).toBeGreaterThan(0);
  });

  it('answers getResponse and ping', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const task = client.imageInference(smallRequest({ numberResults: 2 }));
    await task.result();
    const answer = await client.getResponse(task.taskUUID);
    expect(answer.status).toBe('success');
    expect(answer.images.map((image) => image.index)).toEqual([0, 1]);
    await expect(client.getResponse('0b5d4d3e-8f0e-4c55-9a3c-4b4b1c1a2d3e')).rejects.toMatchObject({ code: 'taskNotFound' });
    const { roundTripMs } = await client.ping();
    expect(roundTripMs).toBeGreaterThanOrEqual(0);
  });

  it('runs a task object by its taskType', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const images = await client.run({ taskType: 'imageInference', ...smallRequest() }).result();
    expect(images).toHaveLength(1);
    expect((await client.run({ taskType: 'ping' })).roundTripMs).toBeGreaterThanOrEqual(0);
  });

  it('closes the socket when idle and connects again for the next task', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server, { closeWhenIdleMs: 50 });
    await client.imageInference(smallRequest()).result();
    await waitForState(client, 'idle');
    expect(await client.imageInference(smallRequest()).result()).toHaveLength(1);
    expect(client.stats().attempts).toBe(2);
  });

  it('stays connected while idle by default', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    await client.imageInference(smallRequest()).result();
    await expectNoEvent(client, 'state', 300);
    expect(client.state).toBe('open');
  });
});
