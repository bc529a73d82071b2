// Bad input of every kind is answered with typed error items, and the socket keeps serving.
import { afterEach, describe, expect, it } from 'vitest';
import { newTaskUUID } from '../../src/protocol/index.js';
import { isFinal, RawClient, type Received } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Sends `frame`, returns the error items of the next errors frame, then proves the socket still works. */
async function sendBad(client: RawClient, frame: string | Uint8Array | unknown[], count = 1): Promise<Record<string, unknown>[]> {
  const from = client.frames.length;
  client.send(frame);
  const frames = await client.waitForCount((f) => f.kind === 'json' && f.errors.length > 0, count, { from });
  const errors = frames.flatMap((f) => (f.kind === 'json' ? f.errors : []));
  const task = inferenceTask();
  const after = client.frames.length;
  client.send([task]);
  await client.waitFor((f) => isFinal(f, task.taskUUID), { from: after });
  return errors.map((error) => ({ ...error }));
}

describe('bad frames', () => {
  it.each([
    ['malformed JSON', '[{"taskType":"ping"', 'invalidJSON'],
    ['a JSON object', '{"taskType":"ping","ping":true}', 'invalidFrame'],
    ['a JSON string', '"hello"', 'invalidFrame'],
    ['an empty array', '[]', 'invalidFrame'],
    ['binary junk', new Uint8Array([0xff, 0x00, 0x13, 0x37]), 'invalidJSON'],
  ])('answers %s with %s', async (_name, frame, code) => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const [error] = await sendBad(client, frame);
    expect(error).toMatchObject({ code, type: expect.any(String) });
    expect(error).not.toHaveProperty('taskUUID');
    await client.close();
  });

  it('answers each non-object element with invalidTask and still runs the good ones', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const good = inferenceTask();
    const from = client.frames.length;
    client.send([1, 'x', good, null]);
    await client.waitFor((f) => isFinal(f, good.taskUUID), { from });
    const errors = client.frames.slice(from).flatMap((f) => (f.kind === 'json' ? f.errors : []));
    expect(errors.map((e) => [e.code, e.parameter])).toEqual([
      ['invalidTask', '[0]'],
      ['invalidTask', '[1]'],
      ['invalidTask', '[3]'],
    ]);
    await client.close();
  });

  it('answers an unknown taskType such as "test" with unknownTaskType, echoing taskType and taskUUID', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const taskUUID = newTaskUUID();
    const [error] = await sendBad(client, [{ taskType: 'test', taskUUID }]);
    expect(error).toMatchObject({ code: 'unknownTaskType', parameter: 'taskType', taskType: 'test', taskUUID });
    const [missing] = await sendBad(client, [{ taskUUID }]);
    expect(missing).toMatchObject({ code: 'missingTaskType', taskUUID });
    await client.close();
  });

  it('answers unknown parameters and a bad taskUUID with their codes', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const [unknown] = await sendBad(client, [inferenceTask({ colour: 'red' })]);
    expect(unknown).toMatchObject({ code: 'unknownParameter', parameter: 'colour' });
    const [badUUID] = await sendBad(client, [inferenceTask({ taskUUID: 'not-a-uuid' })]);
    expect(badUUID).toMatchObject({ code: 'invalidTaskUUID', parameter: 'taskUUID', taskUUID: 'not-a-uuid' });
    await client.close();
  });

  it('answers a frame over maxFrameBytes with frameTooLarge and keeps the socket', async () => {
    server = await startTestServer({ limits: { maxFrameBytes: 4_096 } });
    const { client } = await RawClient.authenticated(server.url);
    const [error] = await sendBad(client, [inferenceTask({ positivePrompt: 'y'.repeat(10_000) })]);
    expect(error).toMatchObject({ code: 'frameTooLarge', type: 'frame' });
    await client.close();
  });

  it('answers more than maxTasksPerFrame tasks with tooManyTasks, running none of them', async () => {
    server = await startTestServer({ limits: { maxTasksPerFrame: 3 } });
    const { client } = await RawClient.authenticated(server.url);
    const tasks = Array.from({ length: 4 }, () => inferenceTask());
    const [error] = await sendBad(client, tasks);
    expect(error).toMatchObject({ code: 'tooManyTasks' });
    for (const task of tasks) expect(client.frames.some((f: Received) => isFinal(f, task.taskUUID))).toBe(false);
    await client.close();
  });

  it('closes with 1009 only beyond maxSocketMessageBytes', async () => {
    server = await startTestServer({ limits: { maxFrameBytes: 1_024, maxSocketMessageBytes: 4_096 } });
    const { client } = await RawClient.authenticated(server.url);
    client.send('x'.repeat(5_000));
    expect((await client.waitForClose()).code).toBe(1009);
  });
});
