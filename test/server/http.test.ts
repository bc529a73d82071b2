// The HTTP face: POST /v1 task arrays authenticated by a Bearer key or a leading authentication
// task, answered with {data} or {errors} and the status of the first error; other routes.
import { afterEach, describe, expect, it } from 'vitest';
import { newTaskUUID } from '../../src/protocol/index.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Answer {
  status: number;
  body: { data?: Record<string, unknown>[]; errors?: Record<string, unknown>[] };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  if (server === undefined) throw new Error('no server');
  const response = await fetch(`${server.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

describe('POST /v1', () => {
  it('runs tasks with a Bearer key and answers every item at once', async () => {
    server = await startTestServer({ apiKeys: ['k'] });
    const task = inferenceTask({ numberResults: 2, outputType: 'URL' });
    const answer = await post('/v1?sdk=test', [task], { authorization: 'Bearer k' });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body)).toEqual(['data']);
    expect(answer.body.data?.map((item) => [item.taskUUID, item.index])).toEqual([
      [task.taskUUID, 0],
      [task.taskUUID, 1],
    ]);
    const image = await fetch(answer.body.data?.[0]?.imageURL as string);
    expect(image.headers.get('content-type')).toBe('image/png');
  });

  it('accepts an authentication task first instead of a header', async () => {
    server = await startTestServer({ apiKeys: ['k'] });
    const task = inferenceTask();
    const answer = await post('/v1', [{ taskType: 'authentication', apiKey: 'k' }, task, { taskType: 'ping', ping: true }]);
    expect(answer.status).toBe(200);
    expect(answer.body.data?.map((item) => item.taskType)).toEqual(['imageInference', 'ping']);
    expect(typeof answer.body.data?.[0]?.imageBase64Data).toBe('string');
  });

  it.each([
    ['no key at all', {}, [inferenceTask()], 401, 'missingApiKey'],
    ['a bad Bearer key', { authorization: 'Bearer nope' }, [inferenceTask()], 401, 'invalidApiKey'],
    ['a bad key in the authentication task', {}, [{ taskType: 'authentication', apiKey: 'nope' }, inferenceTask()], 401, 'invalidApiKey'],
    ['malformed JSON', { authorization: 'Bearer k' }, '[{"taskType":', 400, 'invalidJSON'],
    ['a JSON object instead of an array', { authorization: 'Bearer k' }, { taskType: 'ping' }, 400, 'invalidFrame'],
    ['a validation error', { authorization: 'Bearer k' }, [inferenceTask({ width: 100 })], 400, 'invalidWidth'],
    ['an unknown model', { authorization: 'Bearer k' }, [inferenceTask({ model: 'nowhere:1@1' })], 400, 'unknownModel'],
    ['an unknown task type', { authorization: 'Bearer k' }, [{ taskType: 'test', taskUUID: newTaskUUID() }], 400, 'unknownTaskType'],
  ])('answers %s with its status and code', async (_name, headers, body, status, code) => {
    server = await startTestServer({ apiKeys: ['k'] });
    const answer = await post('/v1', body, headers);
    expect(answer.status).toBe(status);
    expect(answer.body.errors?.[0]?.code).toBe(code);
    expect(answer.body.data).toBeUndefined();
  });

  it('answers 413 frameTooLarge for a body over maxFrameBytes', async () => {
    server = await startTestServer({ limits: { maxFrameBytes: 1_000 } });
    const answer = await post('/v1', [inferenceTask({ positivePrompt: 'x'.repeat(2_000) })], { authorization: 'Bearer k' });
    expect(answer.status).toBe(413);
    expect(answer.body.errors?.[0]?.code).toBe('frameTooLarge');
  });

  it('answers 409 conflictTaskUUID for a reused taskUUID, and gives the data that did succeed beside the errors', async () => {
    server = await startTestServer();
    const task = inferenceTask();
    expect((await post('/v1', [task], { authorization: 'Bearer k' })).status).toBe(200);
    const fresh = inferenceTask();
    const answer = await post('/v1', [task, fresh], { authorization: 'Bearer k' });
    expect(answer.status).toBe(409);
    expect(answer.body.errors).toEqual([expect.objectContaining({ code: 'conflictTaskUUID', taskUUID: task.taskUUID })]);
    expect(answer.body.data?.map((item) => item.taskUUID)).toEqual([fresh.taskUUID]);
  });

  it('acknowledges async tasks at once and serves them through getResponse', async () => {
    server = await startTestServer();
    const task = inferenceTask({ deliveryMethod: 'async' });
    const ack = await post('/v1', [task], { authorization: 'Bearer k' });
    expect(ack.body.data).toEqual([{ taskType: 'imageInference', taskUUID: task.taskUUID, status: 'processing' }]);
    let items: Record<string, unknown>[] = [];
    for (let i = 0; i < 500 && items[0]?.status !== 'success'; i++) {
      items = (await post('/v1', [{ taskType: 'getResponse', taskUUID: task.taskUUID }], { authorization: 'Bearer k' })).body.data ?? [];
    }
    expect(items[0]).toMatchObject({ taskUUID: task.taskUUID, status: 'success', index: 0 });
    const other = await post('/v1', [{ taskType: 'getResponse', taskUUID: task.taskUUID }], { authorization: 'Bearer someone-else' });
    expect(other.status).toBe(404);
    expect(other.body.errors?.[0]?.code).toBe('taskNotFound');
  });

  it('shares tasks with the WebSocket face of the same key', async () => {
    server = await startTestServer();
    const task = inferenceTask();
    await post('/v1', [task], { authorization: 'Bearer same' });
    const again = await post('/v1', [{ taskType: 'authentication', apiKey: 'same' }, task]);
    expect(again.body.errors?.[0]?.code).toBe('conflictTaskUUID');
  });
});

describe('shutdown', () => {
  it('answers a request whose tasks were cancelled by close() with 503 serverShuttingDown', async () => {
    const engine = createGateEngine();
    server = await startTestServer({ engine });
    const pending = post('/v1', [inferenceTask()], { authorization: 'Bearer k' });
    await engine.waiting(1);
    await server.close();
    const answer = await pending;
    expect(answer.status).toBe(503);
    expect(answer.body.errors?.[0]?.code).toBe('serverShuttingDown');
  });
});

describe('other routes', () => {
  it('answers GET /v1 without an upgrade with 426, unknown paths with 404, /healthz with 200', async () => {
    server = await startTestServer();
    expect((await fetch(`${server.httpUrl}/v1`)).status).toBe(426);
    expect((await fetch(`${server.httpUrl}/nothing`)).status).toBe(404);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.httpUrl}/v1`, { method: 'PUT', body: '[]' })).status).toBe(405);
  });

  it('tries the httpHandler option first', async () => {
    server = await startTestServer({
      httpHandler: (req, res) => {
        if (req.url !== '/') return false;
        res.writeHead(200, { 'content-type': 'text/plain' }).end('page');
        return true;
      },
    });
    expect(await (await fetch(`${server.httpUrl}/`)).text()).toBe('page');
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
  });
});
