// Image inputs and outputs beyond the socket: imageUpload, seed and mask images by UUID, data URI,
// raw base64 or URL (fetched with caps), and uploadEndpoint PUTs.
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { newTaskUUID } from '../../src/protocol/index.js';
import { solidPng, startHttpFixture, type HttpFixture } from '../helpers/http-fixture.js';
import { finalItem, isErrorOf, isFinal, itemOf, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
let fixture: HttpFixture | undefined;
afterEach(async () => {
  await server?.close();
  await fixture?.close();
  server = undefined;
  fixture = undefined;
});

async function errorOf(client: RawClient, task: { taskUUID: string }): Promise<Record<string, unknown>> {
  const frame = await client.waitFor((f) => isErrorOf(f, task.taskUUID));
  if (frame.kind !== 'json' || frame.errors[0] === undefined) throw new Error('expected an error');
  return { ...frame.errors[0] };
}

describe('imageUpload', () => {
  it('stores an image from a data URI, answers with imageUUID and URL, and the UUID works as seedImage', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const png = await solidPng(64, 64, '#00ff00');
    const upload = { taskType: 'imageUpload', taskUUID: newTaskUUID(), image: `data:image/png;base64,${png.toString('base64')}` };
    client.send([upload]);
    const answer = itemOf(await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === upload.taskUUID));
    expect(answer).toEqual({ taskType: 'imageUpload', taskUUID: upload.taskUUID, imageUUID: expect.stringMatching(/^[0-9a-f-]{36}$/), imageURL: `${server.httpUrl}/images/${String(answer.imageUUID)}.png` });
    const served = await fetch(answer.imageURL as string);
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);

    // strength 0 keeps the seed image: a green picture.
    const task = inferenceTask({ seedImage: answer.imageUUID, strength: 0, width: 128, height: 128 });
    client.send([task]);
    const item = finalItem(await client.waitFor((f) => isFinal(f, task.taskUUID)));
    const stats = await sharp(Buffer.from(item.imageBase64Data as string, 'base64')).stats();
    expect(stats.channels[1]?.mean).toBeGreaterThan(200);
    expect(stats.channels[0]?.mean).toBeLessThan(50);
    await client.close();
  });

  it('refuses an image that is not PNG, JPG or WEBP, and one over maxUploadBytes', async () => {
    server = await startTestServer({ limits: { maxUploadBytes: 1_000 } });
    const { client } = await RawClient.authenticated(server.url);
    const text = { taskType: 'imageUpload', taskUUID: newTaskUUID(), image: Buffer.from('plain text, no image at all').toString('base64') };
    client.send([text]);
    expect(await errorOf(client, text)).toMatchObject({ code: 'invalidImage', parameter: 'image', taskType: 'imageUpload' });
    const big = { taskType: 'imageUpload', taskUUID: newTaskUUID(), image: Buffer.alloc(5_000, 7).toString('base64') };
    client.send([big]);
    expect(await errorOf(client, big)).toMatchObject({ code: 'imageTooLarge', parameter: 'image' });
    await client.close();
  });

  it('fetches an image from a URL', async () => {
    fixture = await startHttpFixture();
    fixture.route('/cat.webp', await sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } }).webp().toBuffer(), { contentType: 'image/webp' });
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const upload = { taskType: 'imageUpload', taskUUID: newTaskUUID(), image: `${fixture.url}/cat.webp` };
    client.send([upload]);
    const answer = itemOf(await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === upload.taskUUID));
    expect(answer.imageURL).toMatch(/\.webp$/);
    await client.close();
  });
});

describe('seedImage and maskImage', () => {
  it('accepts a data URI, raw base64 and a URL', async () => {
    fixture = await startHttpFixture();
    const png = await solidPng(128, 128, '#0000ff');
    fixture.route('/seed.png', png, { contentType: 'image/png' });
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const forms = [`data:image/png;base64,${png.toString('base64')}`, png.toString('base64'), `${fixture.url}/seed.png`];
    const tasks = forms.map((seedImage) => inferenceTask({ seedImage, strength: 0 }));
    client.send(tasks);
    const images = await Promise.all(tasks.map(async (task) => finalItem(await client.waitFor((f) => isFinal(f, task.taskUUID))).imageBase64Data));
    expect(new Set(images).size).toBe(1);
    expect(fixture.requests.map((r) => r.path)).toEqual(['/seed.png']);
    await client.close();
  });

  it('repaints only the masked area when inpainting', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const seed = await solidPng(128, 128, '#ffffff');
    // Black (keep) on the left half, white (repaint) on the right half.
    const pixels = Buffer.alloc(128 * 128);
    for (let i = 0; i < pixels.length; i++) pixels[i] = i % 128 >= 64 ? 255 : 0;
    const mask = await sharp(pixels, { raw: { width: 128, height: 128, channels: 1 } }).png().toBuffer();
    const task = inferenceTask({ seedImage: seed.toString('base64'), maskImage: mask.toString('base64'), strength: 1, positivePrompt: 'deep red' });
    client.send([task]);
    const item = finalItem(await client.waitFor((f) => isFinal(f, task.taskUUID)));
    const { data } = await sharp(Buffer.from(item.imageBase64Data as string, 'base64')).raw().toBuffer({ resolveWithObject: true });
    let keptExactly = true;
    let repainted = 0;
    for (let pixel = 0; pixel < 128 * 128; pixel++) {
      const white = data[pixel * 3] === 255 && data[pixel * 3 + 1] === 255 && data[pixel * 3 + 2] === 255;
      if (pixel % 128 < 64) keptExactly &&= white;
      else if (!white) repainted++;
    }
    expect(keptExactly).toBe(true);
    expect(repainted).toBeGreaterThan(64 * 128 * 0.9);
    await client.close();
  });

  it.each([
    ['an unknown image UUID', { seedImage: '0b6f7d0e-3c1a-4e2b-9f8d-7c6b5a4e3d2c' }, 'imageNotFound', 'seedImage'],
    ['base64 that is not an image', { seedImage: Buffer.from('this is not an image at all').toString('base64') }, 'invalidSeedImage', 'seedImage'],
    ['a mask that is not an image', { maskImage: Buffer.from('this is not an image either').toString('base64') }, 'invalidMaskImage', 'maskImage'],
  ])('refuses %s with its code and parameter', async (_name, overrides, code, parameter) => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const seed = (await solidPng(128, 128, '#ffffff')).toString('base64');
    const task = inferenceTask({ seedImage: seed, ...overrides });
    client.send([task]);
    expect(await errorOf(client, task)).toMatchObject({ code, parameter, taskType: 'imageInference', taskUUID: task.taskUUID });
    await client.close();
  });

  it('refuses an outpaint canvas that does not fit the seed image with invalidOutpaint', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ seedImage: (await solidPng(128, 128, '#ffffff')).toString('base64'), outpaint: { right: 64 }, width: 256, height: 128 });
    client.send([task]);
    expect(await errorOf(client, task)).toMatchObject({ code: 'invalidOutpaint', parameter: 'width', type: 'integer' });
    await client.close();
  });

  it('answers fetchFailed for a URL that gives 404 and for one whose body is beyond maxUploadBytes (inline: imageTooLarge)', async () => {
    fixture = await startHttpFixture();
    fixture.route('/big.png', Buffer.alloc(5_000, 1), { contentType: 'image/png' });
    server = await startTestServer({ allowPrivateNetwork: true, limits: { maxUploadBytes: 4_000 } });
    const { client } = await RawClient.authenticated(server.url);
    const missing = inferenceTask({ seedImage: `${fixture.url}/missing.png` });
    const big = inferenceTask({ seedImage: `${fixture.url}/big.png` });
    const inline = inferenceTask({ seedImage: Buffer.alloc(5_000, 1).toString('base64') });
    client.send([missing, big, inline]);
    const expected = { code: 'fetchFailed', parameter: 'seedImage', message: 'seedImage could not be fetched from its URL' };
    expect(await errorOf(client, missing)).toMatchObject(expected);
    // A size says something about what answered: over a URL it is a fetch failure like any other.
    expect(await errorOf(client, big)).toMatchObject(expected);
    expect(await errorOf(client, inline)).toMatchObject({ code: 'imageTooLarge', parameter: 'seedImage' });
    expect(fixture.requests.map((r) => r.path).sort()).toEqual(['/big.png', '/missing.png']);
    // The causes go to the log, by origin only.
    expect(server.logs.text()).toContain('HTTP 404');
    expect(server.logs.text()).toContain('more than 4000');
    await client.close();
  });

  it('refuses URLs that allowInputUrl rejects, without fetching them', async () => {
    fixture = await startHttpFixture();
    server = await startTestServer({ allowPrivateNetwork: true, allowInputUrl: (url) => url.hostname !== '127.0.0.1' });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ seedImage: `${fixture.url}/seed.png` });
    client.send([task]);
    expect(await errorOf(client, task)).toMatchObject({ code: 'fetchFailed', parameter: 'seedImage' });
    expect(fixture.requests).toEqual([]);
    await client.close();
  });
});

describe('uploadEndpoint', () => {
  it('PUTs each image there before sending its result', async () => {
    fixture = await startHttpFixture();
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 2, outputFormat: 'WEBP', uploadEndpoint: `${fixture.url}/bucket/out` });
    client.send([task]);
    const finals = (await client.waitForCount((f) => isFinal(f, task.taskUUID), 2)).map(finalItem);
    expect(fixture.requests.map((r) => [r.method, r.path, r.contentType])).toEqual([
      ['PUT', '/bucket/out', 'image/webp'],
      ['PUT', '/bucket/out', 'image/webp'],
    ]);
    expect(fixture.requests.map((r) => r.body.toString('base64'))).toEqual(finals.map((item) => item.imageBase64Data));
    await client.close();
  });

  it('ends the task with uploadFailed when the endpoint refuses', async () => {
    fixture = await startHttpFixture();
    fixture.route('/denied', 'no', { status: 403 });
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ uploadEndpoint: `${fixture.url}/denied` });
    client.send([task]);
    expect(await errorOf(client, task)).toMatchObject({ code: 'uploadFailed', parameter: 'uploadEndpoint' });
    await client.expectNone((f) => isFinal(f, task.taskUUID));
    await client.close();
  });
});
