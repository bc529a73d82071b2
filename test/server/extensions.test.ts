// The opt-in extensions: previews per task (never sent to a task that did not ask), cancel, and
// binary result frames.
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateEngine } from '../helpers/gate-engine.js';
import { finalItem, isAbout, isErrorOf, isFinal, itemOf, RawClient, type Received } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const isPreview = (f: Received, taskUUID: string): boolean => f.kind === 'json' && f.data[0]?.taskUUID === taskUUID && f.data[0]?.preview === true;

describe('previews', () => {
  it('sends one preview per result and step, small, then finals marked final', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 2, steps: 3, width: 256, height: 128, previews: { maxSide: 64, format: 'WEBP' } });
    client.send([task]);
    const finals = await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    const previews = client.frames.filter((f) => isPreview(f, task.taskUUID)).map(itemOf);
    expect(previews.map((p) => [p.index, p.step, p.steps])).toEqual([
      [0, 1, 3],
      [0, 2, 3],
      [0, 3, 3],
      [1, 1, 3],
      [1, 2, 3],
      [1, 3, 3],
    ]);
    for (const preview of previews) {
      expect(Object.keys(preview).sort()).toEqual(['height', 'imageBase64Data', 'imageFormat', 'index', 'preview', 'step', 'steps', 'taskType', 'taskUUID', 'width'].sort());
      expect(preview).toMatchObject({ taskType: 'imageInference', imageFormat: 'WEBP', width: 64, height: 32 });
    }
    const meta = await sharp(Buffer.from(previews[0]?.imageBase64Data as string, 'base64')).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 64, height: 32 });
    for (const frame of finals) expect(finalItem(frame).final).toBe(true);
    // Every preview of an index comes before that index's final.
    const finalAt = finals.map((f) => client.frames.indexOf(f));
    const lastPreviewOf0 = client.frames.findLastIndex((f) => isPreview(f, task.taskUUID) && itemOf(f).index === 0);
    expect(lastPreviewOf0).toBeLessThan(finalAt[0] as number);
    await client.close();
  });

  it('sends at most previews.count previews per result, spread over the steps', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 2, steps: 10, width: 128, height: 128, previews: { maxSide: 32, count: 3 } });
    client.send([task]);
    await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    const previews = client.frames.filter((f) => isPreview(f, task.taskUUID)).map(itemOf);
    expect(previews.map((p) => [p.index, p.step, p.steps])).toEqual([
      [0, 3, 10],
      [0, 5, 10],
      [0, 8, 10],
      [1, 3, 10],
      [1, 5, 10],
      [1, 8, 10],
    ]);
    await client.close();
  });

  it('uses 128 px JPG previews for previews: true', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ steps: 1, width: 512, height: 256, previews: true });
    client.send([task]);
    await client.waitFor((f) => isFinal(f, task.taskUUID));
    const preview = itemOf(client.frames.find((f) => isPreview(f, task.taskUUID)) as Received);
    expect(preview).toMatchObject({ imageFormat: 'JPG', width: 128, height: 64 });
    await client.close();
  });

  it('sends nothing but finals to a task that did not ask: official-client-shaped items', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 2, steps: 4 });
    client.send([task]);
    await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    await client.expectNone((f) => isAbout(f, task.taskUUID) && !isFinal(f, task.taskUUID));
    const frames = client.framesOf(task.taskUUID);
    expect(frames).toHaveLength(2);
    for (const frame of frames) {
      const item = finalItem(frame);
      expect(item).not.toHaveProperty('preview');
      expect(item).not.toHaveProperty('final');
      expect(item).not.toHaveProperty('status');
    }
    await client.close();
  });
});

describe('cancel', () => {
  it('stops a running task: the engine sees the abort and no further item of it is sent', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ engine });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 3, previews: true });
    client.send([task]);
    await engine.waiting(1);
    const from = client.frames.length;
    client.send([{ taskType: 'cancel', taskUUID: task.taskUUID }]);
    const answer = await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskType === 'cancel', { from });
    expect(answer.kind === 'json' && answer.text).toBe(`{"data":[{"taskType":"cancel","taskUUID":"${task.taskUUID}","cancelled":true}]}`);
    await engine.aborted(0);
    engine.openAll();
    // The socket is ordered: whatever was written before the cancel arrives before its answer.
    const after = client.frames.indexOf(answer) + 1;
    await client.expectNone((f) => isAbout(f, task.taskUUID), { from: after });
    expect(server.stats().tasksRunning).toBe(0);

    const polled = client.frames.length;
    client.send([{ taskType: 'getResponse', taskUUID: task.taskUUID }]);
    const response = await client.waitFor((f) => f.kind === 'json' && f.data.some((i) => i.status !== undefined), { from: polled });
    expect(response.kind === 'json' && response.data.at(-1)).toMatchObject({ taskUUID: task.taskUUID, status: 'error', error: { code: 'taskCancelled' } });
    await client.close();
  });

  it('answers cancelled: false for a task that already ended', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask();
    client.send([task]);
    await client.waitFor((f) => isFinal(f, task.taskUUID));
    client.send([{ taskType: 'cancel', taskUUID: task.taskUUID }]);
    const answer = await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskType === 'cancel');
    expect(itemOf(answer)).toEqual({ taskType: 'cancel', taskUUID: task.taskUUID, cancelled: false });
    await client.close();
  });

  it('answers taskNotFound for a task this key never submitted', async () => {
    server = await startTestServer();
    const owner = await RawClient.authenticated(server.url, 'key-a');
    const other = await RawClient.authenticated(server.url, 'key-b');
    const task = inferenceTask();
    owner.client.send([task]);
    await owner.client.waitFor((f) => isFinal(f, task.taskUUID));
    other.client.send([{ taskType: 'cancel', taskUUID: task.taskUUID }]);
    const frame = await other.client.waitFor((f) => isErrorOf(f, task.taskUUID));
    expect(frame.kind === 'json' && frame.errors[0]).toMatchObject({ code: 'taskNotFound', taskType: 'cancel', taskUUID: task.taskUUID });
    await owner.client.close();
    await other.client.close();
  });
});

describe('binaryResults', () => {
  it('sends inline finals as binary frames that decode with the protocol codec', async () => {
    server = await startTestServer();
    const { client, auth } = await RawClient.authenticated(server.url, 'k', { extensions: ['binaryResults'] });
    expect(auth.enabledExtensions).toEqual(['binaryResults']);
    const task = inferenceTask({ numberResults: 2, outputType: 'base64Data', outputFormat: 'PNG', width: 192 });
    client.send([task]);
    const finals = await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    for (const [index, frame] of finals.entries()) {
      if (frame.kind !== 'binary') throw new Error('expected a binary frame');
      expect(frame.header).toMatchObject({ taskType: 'imageInference', taskUUID: task.taskUUID, index, imageFormat: 'PNG', byteLength: frame.image.byteLength });
      expect(frame.header).not.toHaveProperty('imageBase64Data');
      expect(frame.header).not.toHaveProperty('seq');
      expect(await sharp(frame.image).metadata()).toMatchObject({ format: 'png', width: 192, height: 128 });
    }
    await client.close();
  });

  it('numbers binary frames under ack and keeps URL outputs and getResponse answers as JSON', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url, 'k', { extensions: ['ack', 'binaryResults'] });
    const inline = inferenceTask({ outputType: 'dataURI' });
    const url = inferenceTask({ outputType: 'URL' });
    client.send([inline]);
    const binary = await client.waitFor((f) => isFinal(f, inline.taskUUID));
    expect(binary.kind).toBe('binary');
    expect(binary.seq).toBe(1);
    client.send([url]);
    const json = await client.waitFor((f) => isFinal(f, url.taskUUID));
    expect(json.kind).toBe('json');
    expect(json.seq).toBe(2);
    const from = client.frames.length;
    client.send([{ taskType: 'getResponse', taskUUID: inline.taskUUID }]);
    const answer = await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === inline.taskUUID, { from });
    expect(itemOf(answer).imageDataURI).toMatch(/^data:image\/png;base64,/);
    expect(answer.seq).toBeUndefined();
    await client.close();
  });
});
