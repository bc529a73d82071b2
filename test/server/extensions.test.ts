// The opt-in extensions: how a session turns them on (offered in the authentication reply, set by
// enableExtensions, the older clients' way beside it), previews per task (never sent to a task that
// did not ask), cancel, and binary result frames.
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateEngine } from '../helpers/gate-engine.js';
import { finalItem, isAbout, isEnableAnswer, isErrorOf, isFinal, itemOf, RawClient, type Received } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';
import { clusterMode } from '../helpers/cluster-mode.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const isPreview = (f: Received, taskUUID: string): boolean => f.kind === 'json' && f.data[0]?.taskUUID === taskUUID && f.data[0]?.preview === true;
const isAuth = (f: Received): boolean => f.kind === 'json' && f.data[0]?.taskType === 'authentication';
const isPong = (f: Received): boolean => f.kind === 'json' && f.data[0]?.taskType === 'ping';

/** The exact text of the answer to an enableExtensions task. */
const answerText = (enabled: string[]): string => JSON.stringify({ data: [{ taskType: 'enableExtensions', enabledExtensions: enabled }] });

describe('negotiation: offered in the authentication reply, turned on with enableExtensions', () => {
  // Memory only: asserts stats() (in cluster mode the held frames are counted in Redis); the numbering is checked in both modes below.
  it.skipIf(clusterMode)('turns nothing on for an authentication with only the protocol fields, and everything asked for by enableExtensions', async () => {
    server = await startTestServer();
    const client = await RawClient.connect(server.url);
    client.send([{ taskType: 'authentication', apiKey: 'k' }]);
    const auth = itemOf(await client.waitFor(isAuth));
    expect(auth).toMatchObject({ extensions: ['ack', 'binaryResults', 'previews', 'cancel'], enabledExtensions: [] });

    const plain = inferenceTask({ outputType: 'base64Data' });
    client.send([plain]);
    const json = await client.waitFor((f) => isFinal(f, plain.taskUUID));
    expect(json.kind).toBe('json');
    expect(json.seq).toBeUndefined();
    expect(server.stats().heldFrames).toBe(0);

    const answer = await client.enableExtensions(['ack', 'binaryResults']);
    expect(answer.kind === 'json' && answer.text).toBe(answerText(['ack', 'binaryResults']));
    const task = inferenceTask({ outputType: 'base64Data' });
    client.send([task]);
    const binary = await client.waitFor((f) => isFinal(f, task.taskUUID));
    expect(binary.kind).toBe('binary');
    expect(binary.seq).toBe(1);
    expect(server.stats().heldFrames).toBe(1);
    await client.close();
  });

  it('numbers the first frame under ack 1 however many frames the session sent before ack was on', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url, 'k');
    for (let i = 0; i < 3; i++) {
      const plain = inferenceTask();
      client.send([plain]);
      expect((await client.waitFor((f) => isFinal(f, plain.taskUUID))).seq).toBeUndefined();
    }
    await client.enableExtensions(['ack']);
    const first = inferenceTask();
    client.send([first]);
    expect((await client.waitFor((f) => isFinal(f, first.taskUUID))).seq).toBe(1);
    const second = inferenceTask();
    client.send([second]);
    expect((await client.waitFor((f) => isFinal(f, second.taskUUID))).seq).toBe(2);
    await client.close();
  });

  it('applies to the tasks behind it at once: in the authentication frame, or written without waiting for its answer', async () => {
    server = await startTestServer();
    const client = await RawClient.connect(server.url);
    const first = inferenceTask();
    client.send([{ taskType: 'authentication', apiKey: 'k' }, { taskType: 'enableExtensions', extensions: ['ack'] }, first]);
    const firstFinal = await client.waitFor((f) => isFinal(f, first.taskUUID));
    expect(firstFinal.seq).toBe(1);
    // The reply, then the answer, then the result: frames are handled in order.
    expect(client.frames.findIndex(isAuth)).toBeLessThan(client.frames.findIndex(isEnableAnswer));
    expect(client.frames.findIndex(isEnableAnswer)).toBeLessThan(client.frames.indexOf(firstFinal));
    expect(itemOf(client.frames.find(isAuth) as Received).enabledExtensions).toEqual([]);

    const second = inferenceTask({ outputType: 'dataURI' });
    client.send([{ taskType: 'enableExtensions', extensions: ['ack', 'binaryResults'] }]);
    client.send([second]);
    const secondFinal = await client.waitFor((f) => isFinal(f, second.taskUUID));
    expect(secondFinal.kind).toBe('binary');
    expect(secondFinal.seq).toBe(2);
    await client.close();
  });

  // Memory only: asserts this process's held-frame counters (stats()); in cluster mode they live in Redis (test/cluster/session-log.test.ts).
  it.skipIf(clusterMode)('turns every session extension off with an empty list, forgetting frames written and never acknowledged', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    await client.enableExtensions(['ack', 'binaryResults']);
    const numbered = inferenceTask();
    client.send([numbered]);
    expect((await client.waitFor((f) => isFinal(f, numbered.taskUUID))).seq).toBe(1);
    expect(server.stats().heldFrames).toBe(1);

    const answer = await client.enableExtensions([]);
    expect(answer.kind === 'json' && answer.text).toBe(answerText([]));
    expect(server.stats().heldFrames).toBe(0);
    const plain = inferenceTask();
    client.send([plain]);
    const final = await client.waitFor((f) => isFinal(f, plain.taskUUID));
    expect(final.kind === 'json' && Object.keys(final.value)).toEqual(['data']);
    expect(server.stats().heldFrames).toBe(0);
    await client.close();
  });

  // Memory only: asserts this process's held-frame counters (stats()); in cluster mode they live in Redis (test/cluster/session-log.test.ts).
  it.skipIf(clusterMode)('forgets the frames up to its ack, and clamps an ack beyond anything written', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    // Nothing is written yet: this ack must not swallow frames numbered later.
    await client.enableExtensions(['ack'], 999);
    const task = inferenceTask({ numberResults: 2 });
    client.send([task]);
    const finals = await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    expect(finals.map((f) => f.seq)).toEqual([1, 2]);
    expect(server.stats().heldFrames).toBe(2);
    await client.enableExtensions(['ack'], 1);
    expect(server.stats().heldFrames).toBe(1);
    await client.enableExtensions(['ack'], 999);
    expect(server.stats().heldFrames).toBe(0);
    // The numbering goes on where it was.
    const next = inferenceTask();
    client.send([next]);
    expect((await client.waitFor((f) => isFinal(f, next.taskUUID))).seq).toBe(3);
    expect(server.stats().heldFrames).toBe(1);
    await client.close();
  });

  it.each([
    ['an extension that is not a session extension', { extensions: ['ack', 'previews'] }, { code: 'invalidExtensions', parameter: 'extensions[1]' }],
    ['an unknown name', { extensions: ['zip'] }, { code: 'invalidExtensions', parameter: 'extensions[0]' }],
    ['extensions that is not a list', { extensions: 'ack' }, { code: 'invalidExtensions', parameter: 'extensions', type: 'array' }],
    ['no extensions', {}, { code: 'missingExtensions', parameter: 'extensions', type: 'array' }],
    ['a negative ack beside an empty list', { extensions: [], ack: -1 }, { code: 'invalidAck', parameter: 'ack', type: 'integer' }],
    ['an ack that is a string', { extensions: [], ack: '3' }, { code: 'invalidAck', parameter: 'ack', type: 'integer' }],
    ['a taskUUID', { extensions: [], taskUUID: '6f1c3d2e-8b7a-4c5d-9e0f-1a2b3c4d5e6f' }, { code: 'unknownParameter', parameter: 'taskUUID' }],
  ])('refuses %s in the error shape, changing nothing', async (_label, fields, expected) => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    await client.enableExtensions(['ack']);
    const from = client.frames.length;
    client.send([{ taskType: 'enableExtensions', ...fields }]);
    const answer = await client.waitFor(isEnableAnswer, { from });
    if (answer.kind !== 'json') throw new Error('expected JSON');
    expect(Object.keys(answer.value)).toEqual(['errors']);
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors[0]).toMatchObject({ ...expected, taskType: 'enableExtensions' });
    expect(answer.errors[0]).not.toHaveProperty('taskUUID');
    expect(answer.errors[0]?.message).toBeTypeOf('string');
    // The refused task turned nothing off: results are still numbered, and the socket serves on.
    const task = inferenceTask();
    client.send([task]);
    expect((await client.waitFor((f) => isFinal(f, task.taskUUID))).seq).toBe(1);
    expect(client.isClosed).toBe(false);
    await client.close();
  });

  it('refuses enableExtensions before the authentication with notAuthenticated, and turns nothing on', async () => {
    server = await startTestServer();
    const client = await RawClient.connect(server.url);
    const answer = await client.enableExtensions(['ack', 'binaryResults']);
    expect(answer.kind === 'json' && answer.errors[0]).toMatchObject({ code: 'notAuthenticated', taskType: 'enableExtensions' });
    const auth = await client.authenticate('k');
    expect(auth.enabledExtensions).toEqual([]);
    const task = inferenceTask();
    client.send([task]);
    const final = await client.waitFor((f) => isFinal(f, task.taskUUID));
    expect(final.kind === 'json' && Object.keys(final.value)).toEqual(['data']);
    await client.close();
  });

  it('starts every new session with every extension off, whatever another session of the key turned on', async () => {
    server = await startTestServer();
    const one = await RawClient.authenticated(server.url, 'k');
    await one.client.enableExtensions(['ack', 'binaryResults']);
    const two = await RawClient.authenticated(server.url, 'k');
    expect(two.auth.enabledExtensions).toEqual([]);
    const task = inferenceTask();
    two.client.send([task]);
    const final = await two.client.waitFor((f) => isFinal(f, task.taskUUID));
    expect(final.kind === 'json' && Object.keys(final.value)).toEqual(['data']);
    await one.client.close();
    await two.client.close();
  });

  it('answers enableExtensions over HTTP with webSocketOnly', async () => {
    server = await startTestServer({ apiKeys: ['k'] });
    const response = await fetch(`${server.httpUrl}/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
      body: JSON.stringify([{ taskType: 'enableExtensions', extensions: ['ack'] }]),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors?: Record<string, unknown>[] };
    expect(body.errors).toEqual([
      { code: 'webSocketOnly', message: 'enableExtensions sets the extensions of a WebSocket session; an HTTP request has none', parameter: 'taskType', type: 'string', taskType: 'enableExtensions' },
    ]);
  });

  it('acknowledges by ping under ack turned on by enableExtensions', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    await client.enableExtensions(['ack']);
    const task = inferenceTask({ numberResults: 2 });
    client.send([task]);
    await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    const from = client.frames.length;
    client.send([{ taskType: 'ping', ping: true, ack: 2 }]);
    await client.waitFor(isPong, { from });
    expect(server.stats().heldFrames).toBe(0);
    await client.close();
  });
});

describe('negotiation: older clients ask in the authentication task', () => {
  it('still turns on what the authentication asks for, and enableExtensions changes it later', async () => {
    server = await startTestServer();
    const { client, auth } = await RawClient.authenticated(server.url, 'k', { extensions: ['ack'] });
    expect(auth.enabledExtensions).toEqual(['ack']);
    const task = inferenceTask();
    client.send([task]);
    expect((await client.waitFor((f) => isFinal(f, task.taskUUID))).seq).toBe(1);
    await client.enableExtensions(['binaryResults']);
    const next = inferenceTask();
    client.send([next]);
    const final = await client.waitFor((f) => isFinal(f, next.taskUUID));
    expect(final.kind).toBe('binary');
    expect(final.seq).toBeUndefined();
    await client.close();
  });
});

describe('previews', () => {
  // Memory only: expects every preview, in step order before the final; cluster previews are best effort over pub/sub (test/cluster/node.test.ts covers them).
  it.skipIf(clusterMode)('sends one preview per result and step, small, then finals marked final', async () => {
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

  // Memory only: expects every preview, in step order before the final; cluster previews are best effort over pub/sub (test/cluster/node.test.ts covers them).
  it.skipIf(clusterMode)('sends at most previews.count previews per result, spread over the steps', async () => {
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
