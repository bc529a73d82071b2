// imageInference over the WebSocket face: one frame per result, seeds, outputs by type and format
// (decoded with sharp), cost, NSFW, unknown models, many tasks per frame, and conflicts.
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { costOf } from '../../src/server/index.js';
import { finalItem, isErrorOf, isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('imageInference', () => {
  it('sends one frame per result, each with imageUUID, seed + k, index and imageFormat', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 3, seed: 100 });
    client.send([task]);
    const finals = await client.waitForCount((f) => isFinal(f, task.taskUUID), 3);
    const items = finals.map(finalItem);
    for (const frame of finals) expect(frame.kind === 'json' && frame.data).toHaveLength(1);
    expect(items.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(items.map((item) => item.seed)).toEqual([100, 101, 102]);
    for (const item of items) {
      expect(item).toMatchObject({ taskType: 'imageInference', taskUUID: task.taskUUID, imageFormat: 'PNG' });
      expect(item.imageUUID).toMatch(uuidV4);
      expect(item).not.toHaveProperty('final');
      expect(item).not.toHaveProperty('cost');
      expect(item).not.toHaveProperty('NSFWContent');
    }
    expect(new Set(items.map((item) => item.imageUUID)).size).toBe(3);
    await client.close();
  });

  it('picks a random seed when none is given and still numbers the images seed + k', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 2 });
    delete task.seed;
    client.send([task]);
    const [first, second] = (await client.waitForCount((f) => isFinal(f, task.taskUUID), 2)).map(finalItem);
    expect(first?.seed).toBeTypeOf('number');
    expect(second?.seed).toBe((first?.seed as number) + 1);
    await client.close();
  });

  it.each([
    ['base64Data', 'PNG', 'png'],
    ['dataURI', 'JPG', 'jpeg'],
    ['base64Data', 'WEBP', 'webp'],
    ['dataURI', 'webp', 'webp'],
  ])('returns outputType %s in outputFormat %s as a decodable %s image of the asked size', async (outputType, outputFormat, sharpFormat) => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ outputType, outputFormat, width: 192, height: 128, outputQuality: 80 });
    client.send([task]);
    const item = finalItem(await client.waitFor((f) => isFinal(f, task.taskUUID)));
    let base64: string;
    if (outputType === 'dataURI') {
      const prefix = `data:image/${sharpFormat};base64,`;
      expect(item.imageDataURI).toMatch(new RegExp(`^${prefix.replace(/[/+]/g, '\\$&')}`));
      base64 = (item.imageDataURI as string).slice(prefix.length);
      expect(item).not.toHaveProperty('imageBase64Data');
    } else {
      base64 = item.imageBase64Data as string;
      expect(item).not.toHaveProperty('imageDataURI');
    }
    const meta = await sharp(Buffer.from(base64, 'base64')).metadata();
    expect(meta).toMatchObject({ format: sharpFormat, width: 192, height: 128 });
    expect(item.imageFormat).toBe(outputFormat.toUpperCase());
    await client.close();
  });

  it('defaults to outputType URL and JPG, and serves the image at that URL', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask();
    delete task.outputType;
    delete task.outputFormat;
    client.send([task]);
    const item = finalItem(await client.waitFor((f) => isFinal(f, task.taskUUID)));
    expect(item.imageURL).toBe(`${server.httpUrl}/images/${String(item.imageUUID)}.jpg`);
    expect(item.imageFormat).toBe('JPG');
    const response = await fetch(item.imageURL as string);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await response.arrayBuffer())).metadata()).format).toBe('jpeg');
    expect((await fetch(`${server.httpUrl}/images/00000000-0000-4000-8000-000000000000.jpg`)).status).toBe(404);
    await client.close();
  });

  it('uses publicUrl as the base of image URLs', async () => {
    server = await startTestServer({ publicUrl: 'https://images.example.test/base/' });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ outputType: 'URL', outputFormat: 'WEBP' });
    client.send([task]);
    const item = finalItem(await client.waitFor((f) => isFinal(f, task.taskUUID)));
    expect(item.imageURL).toBe(`https://images.example.test/base/images/${String(item.imageUUID)}.webp`);
    await client.close();
  });

  it('adds a deterministic cost with includeCost', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ includeCost: true, width: 512, height: 512, steps: 20, numberResults: 2 });
    client.send([task]);
    const items = (await client.waitForCount((f) => isFinal(f, task.taskUUID), 2)).map(finalItem);
    expect(items.map((item) => item.cost)).toEqual([0.0013, 0.0013]);
    expect(costOf(1024, 512, 10)).toBe(0.0013);
    await client.close();
  });

  it('adds NSFWContent with checkNSFW: false for a plain prompt, true for a listed word', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const plain = inferenceTask({ checkNSFW: true });
    const flagged = inferenceTask({ checkNSFW: true, positivePrompt: 'a NUDE statue in a garden' });
    client.send([plain, flagged]);
    expect(finalItem(await client.waitFor((f) => isFinal(f, plain.taskUUID))).NSFWContent).toBe(false);
    expect(finalItem(await client.waitFor((f) => isFinal(f, flagged.taskUUID))).NSFWContent).toBe(true);
    await client.close();
  });

  it('refuses an unknown model with unknownModel naming the parameter', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ model: 'nonexistent:999@999' });
    client.send([task]);
    const frame = await client.waitFor((f) => isErrorOf(f, task.taskUUID));
    expect(frame.kind === 'json' && frame.errors).toEqual([
      { code: 'unknownModel', message: expect.any(String), parameter: 'model', type: 'string', taskType: 'imageInference', taskUUID: task.taskUUID },
    ]);
    await client.close();
  });

  it('reports every validation problem of a task in one frame with its taskUUID', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ width: 500, steps: 0 });
    client.send([task]);
    const frame = await client.waitFor((f) => isErrorOf(f, task.taskUUID));
    if (frame.kind !== 'json') throw new Error('expected JSON');
    expect(frame.errors.map((e) => e.code).sort()).toEqual(['invalidSteps', 'invalidWidth']);
    for (const error of frame.errors) expect(error).toMatchObject({ taskType: 'imageInference', taskUUID: task.taskUUID });
    await client.close();
  });

  it('runs many tasks of one frame, never mixing two tasks in a frame', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const tasks = Array.from({ length: 6 }, (_, i) => inferenceTask({ numberResults: 2, seed: 10 + i }));
    const bad = inferenceTask({ height: 100 });
    client.send([...tasks, bad]);
    for (const task of tasks) await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    await client.waitFor((f) => isErrorOf(f, bad.taskUUID));
    for (const frame of client.frames) {
      if (frame.kind !== 'json') continue;
      const uuids = new Set([...frame.data, ...frame.errors].map((item) => item.taskUUID));
      expect(uuids.size).toBe(1);
    }
    await client.close();
  });

  it('gives conflictTaskUUID for a reused taskUUID, running or finished', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask();
    client.send([task]);
    await client.waitFor((f) => isFinal(f, task.taskUUID));
    const from = client.frames.length;
    client.send([task]);
    const frame = await client.waitFor((f) => isErrorOf(f, task.taskUUID), { from });
    expect(frame.kind === 'json' && frame.errors[0]).toMatchObject({ code: 'conflictTaskUUID', parameter: 'taskUUID', taskUUID: task.taskUUID });
    await client.expectNone((f) => isFinal(f, task.taskUUID), { from });
    await client.close();
  });

  it('scopes taskUUIDs per key: another key may use the same UUID', async () => {
    server = await startTestServer();
    const a = await RawClient.authenticated(server.url, 'key-a');
    const b = await RawClient.authenticated(server.url, 'key-b');
    const task = inferenceTask();
    a.client.send([task]);
    await a.client.waitFor((f) => isFinal(f, task.taskUUID));
    b.client.send([task]);
    await b.client.waitFor((f) => isFinal(f, task.taskUUID));
    await a.client.close();
    await b.client.close();
  });

  it('gives image k of seed s the bytes of image 0 of seed s + k', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const two = inferenceTask({ numberResults: 2, seed: 7 });
    const one = inferenceTask({ seed: 8 });
    client.send([two, one]);
    const second = (await client.waitForCount((f) => isFinal(f, two.taskUUID), 2))[1];
    const alone = await client.waitFor((f) => isFinal(f, one.taskUUID));
    expect(second && finalItem(second).imageBase64Data).toBe(finalItem(alone).imageBase64Data);
    await client.close();
  });
});
