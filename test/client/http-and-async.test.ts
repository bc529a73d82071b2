// The HTTP transport (POST /v1) with the same task API, async delivery through getResponse
// polling, and idempotent submission under a taskUUID the server already knows.
import { describe, expect, it } from 'vitest';
import { AuthenticationError, createHttpClient } from '../../src/index.js';
import { newTaskUUID } from '../../src/protocol/index.js';
import { clientOf, closeAfterTest, smallRequest } from '../helpers/test-client.js';
import { startTestServer } from '../helpers/test-server.js';

describe('HTTP client', () => {
  it('runs imageInference, imageUpload, getResponse and ping over POST /v1', async () => {
    const server = closeAfterTest(await startTestServer());
    const http = createHttpClient({ apiKey: 'k1', url: server.url });
    const task = http.imageInference(smallRequest({ numberResults: 2 }));
    const finals: number[] = [];
    for await (const event of task) if (event.type === 'final') finals.push(event.index);
    expect(finals.sort()).toEqual([0, 1]);
    const [first] = await task.result();
    expect(first?.bytes[0]).toBe(0x89);
    const uploaded = await http.imageUpload({ image: first?.dataURI ?? '' });
    expect(uploaded.imageUUID).toHaveLength(36);
    expect((await http.getResponse(task.taskUUID)).images).toHaveLength(2);
    expect((await http.ping()).roundTripMs).toBeGreaterThanOrEqual(0);
  });

  it('fails with the server error of the task, and with AuthenticationError for a refused key', async () => {
    const server = closeAfterTest(await startTestServer({ apiKeys: ['right'] }));
    const good = createHttpClient({ apiKey: 'right', url: server.httpUrl });
    await expect(good.imageInference(smallRequest({ model: 'nosuch:1@1' })).result()).rejects.toMatchObject({ name: 'ApiError', code: 'unknownModel' });
    const bad = createHttpClient({ apiKey: 'wrong', url: server.httpUrl });
    await expect(bad.imageInference(smallRequest()).result()).rejects.toBeInstanceOf(AuthenticationError);
  });
});

describe('async delivery', () => {
  it('polls getResponse until every final arrived', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 2 }));
    const client = clientOf(server, { pollIntervalMs: 20 });
    const images = await client.imageInference(smallRequest({ numberResults: 2, deliveryMethod: 'async', steps: 10 })).result();
    expect(images.map((image) => image.index)).toEqual([0, 1]);
  });
});

describe('idempotent submission', () => {
  it('collects a task the server already knows instead of running it twice', async () => {
    const server = closeAfterTest(await startTestServer());
    const first = clientOf(server);
    const taskUUID = newTaskUUID();
    const original = await first.imageInference(smallRequest({ taskUUID, numberResults: 2 })).result();
    // Another client (a reloaded page) submits the same taskUUID again.
    const second = clientOf(server);
    const again = await second.imageInference(smallRequest({ taskUUID, numberResults: 2 })).result();
    expect(again.map((image) => image.imageUUID)).toEqual(original.map((image) => image.imageUUID));
    expect(second.stats().checks).toBe(1);
  });
});
