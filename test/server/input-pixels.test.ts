// Input images are bounded by pixels, as their headers declare them, before anything decodes them:
// a 17 KB PNG declaring 12000 × 12000 is refused with imageDimensionsTooLarge naming its parameter,
// on every face (task protocol, OpenAI-style edits) and for every input, however it arrives.
import { afterEach, describe, expect, it } from 'vitest';
import { newTaskUUID } from '../../src/protocol/index.js';
import { defaultLimits } from '../../src/server/index.js';
import { pixelBombPng, solidPng, startHttpFixture, type HttpFixture } from '../helpers/http-fixture.js';
import { call } from '../helpers/images-api.js';
import { isErrorOf, isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
let fixture: HttpFixture | undefined;
afterEach(async () => {
  await server?.close();
  await fixture?.close();
  server = undefined;
  fixture = undefined;
});

const bomb = pixelBombPng(12_000, 12_000);
const bombBase64 = bomb.toString('base64');

async function errorOf(client: RawClient, taskUUID: string): Promise<Record<string, unknown>> {
  const frame = await client.waitFor((f) => isErrorOf(f, taskUUID));
  if (frame.kind !== 'json' || frame.errors[0] === undefined) throw new Error('expected an error');
  return { ...frame.errors[0] };
}

describe('limits.maxInputPixels', () => {
  it('defaults to 4096 × 4096', () => {
    expect(defaultLimits.maxInputPixels).toBe(4096 * 4096);
    expect(bomb.byteLength).toBeLessThan(20_000);
  });

  it('refuses a seedImage, maskImage, guide image and imageUpload declaring more, naming the parameter', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const seed = (await solidPng(128, 128, '#ffffff')).toString('base64');
    const cases = [
      { parameter: 'seedImage', task: inferenceTask({ seedImage: bombBase64 }) },
      { parameter: 'maskImage', task: inferenceTask({ seedImage: seed, maskImage: `data:image/png;base64,${bombBase64}` }) },
      { parameter: 'controlNet[0].guideImage', task: inferenceTask({ controlNet: [{ model: 'runware:20@1', guideImage: bombBase64 }] }) },
      { parameter: 'ipAdapters[0].guideImage', task: inferenceTask({ ipAdapters: [{ model: 'runware:55@1', guideImage: bombBase64 }] }) },
      { parameter: 'image', task: { taskType: 'imageUpload', taskUUID: newTaskUUID(), image: bombBase64 } },
    ];
    client.send(cases.map(({ task }) => task));
    for (const { parameter, task } of cases) {
      expect(await errorOf(client, task.taskUUID)).toMatchObject({
        code: 'imageDimensionsTooLarge',
        parameter,
        type: 'string',
        message: `${parameter} is 12000×12000 (144000000 pixels); this server decodes at most 16777216 pixels (limits.maxInputPixels)`,
      });
    }
    // The server goes on serving the same connection.
    const next = inferenceTask({ seedImage: seed });
    client.send([next]);
    await client.waitFor((f) => isFinal(f, next.taskUUID));
    await client.close();
  });

  it('refuses a fetched image declaring more (it is an image: the limit is told, not hidden)', async () => {
    fixture = await startHttpFixture();
    fixture.route('/big.png', bomb, { contentType: 'image/png' });
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ seedImage: `${fixture.url}/big.png` });
    client.send([task]);
    expect(await errorOf(client, task.taskUUID)).toMatchObject({ code: 'imageDimensionsTooLarge', parameter: 'seedImage' });
    await client.close();
  });

  it('follows the configured limit: one pixel over is refused, the limit itself passes', async () => {
    server = await startTestServer({ limits: { maxInputPixels: 128 * 128 } });
    const { client } = await RawClient.authenticated(server.url);
    const over = inferenceTask({ seedImage: (await solidPng(129, 128, '#ff0000')).toString('base64') });
    const exact = inferenceTask({ seedImage: (await solidPng(128, 128, '#ff0000')).toString('base64') });
    client.send([over, exact]);
    expect(await errorOf(client, over.taskUUID)).toMatchObject({ code: 'imageDimensionsTooLarge', parameter: 'seedImage' });
    await client.waitFor((f) => isFinal(f, exact.taskUUID));
    await client.close();
  });

  it('answers the OpenAI-style edits with its error shape', async () => {
    server = await startTestServer({ apiKeys: ['key-a'] });
    const answer = await call(server.httpUrl, 'POST', '/v1/images/edits', { key: 'key-a', body: { prompt: 'add snow', image: `data:image/png;base64,${bombBase64}`, stream: false } });
    expect(answer.status).toBe(413);
    expect(answer.json).toEqual({
      error: {
        message: expect.stringContaining('12000×12000 (144000000 pixels)'),
        type: 'invalid_request_error',
        param: 'image',
        code: 'image_dimensions_too_large',
      },
    });
  });
});
