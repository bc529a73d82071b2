// The server's own requests under the outbound policy, over loopback: with default options no
// listener on this machine hears anything, whichever parameter and spelling names it; redirects are
// checked hop by hop; and every failure answers one code and one message.
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { newTaskUUID } from '../../src/protocol/index.js';
import type { ServerOptions } from '../../src/server/index.js';
import { eventually } from '../helpers/eventually.js';
import { closedPort, solidPng, startHttpFixture, type HttpFixture } from '../helpers/http-fixture.js';
import { isAbout, isErrorOf, isFinal, itemOf, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
const fixtures: HttpFixture[] = [];
const others: TestServer[] = [];
const silent: { listener: NetServer; sockets: Set<Socket> }[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  await Promise.all(others.splice(0).map((other) => other.close()));
  await Promise.all(fixtures.splice(0).map((started) => started.close()));
  for (const { listener, sockets } of silent.splice(0)) {
    for (const socket of sockets) socket.destroy();
    listener.close();
  }
});

async function fixture(host?: string): Promise<HttpFixture> {
  const started = await startHttpFixture(host);
  fixtures.push(started);
  return started;
}

/** A listener that accepts connections and never answers (for timeouts). */
async function silentListener(): Promise<string> {
  const sockets = new Set<Socket>();
  const listener = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  silent.push({ listener, sockets });
  return `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
}

/** Every spelling of IPv4 loopback a client could give, at `port`. */
function ipv4Spellings(port: number): string[] {
  return ['127.0.0.1', 'localhost', '2130706433', '0x7f.1', '127.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]'].map((host) => `http://${host}:${port}`);
}

/** The task for each way a client can make the server send a request to `base`. */
function vectorTasks(base: string, png: string): { name: string; task: Record<string, unknown> & { taskUUID: string } }[] {
  const inference = (overrides: Record<string, unknown>) => inferenceTask({ outputType: 'URL', ...overrides });
  return [
    { name: 'seedImage', task: inference({ seedImage: `${base}/seedImage.png` }) },
    { name: 'maskImage', task: inference({ seedImage: png, maskImage: `${base}/maskImage.png` }) },
    { name: 'controlNet', task: inference({ controlNet: [{ model: 'runware:20@1', guideImage: `${base}/controlNet.png` }] }) },
    { name: 'ipAdapters', task: inference({ ipAdapters: [{ model: 'runware:55@1', guideImage: `${base}/ipAdapters.png` }] }) },
    { name: 'imageUpload', task: { taskType: 'imageUpload', taskUUID: newTaskUUID(), image: `${base}/imageUpload.png` } },
    { name: 'uploadEndpoint', task: inference({ uploadEndpoint: `${base}/uploadEndpoint` }) },
    { name: 'webhookURL', task: inference({ webhookURL: `${base}/webhookURL` }) },
  ];
}

/** How each task ended: its error item (without taskUUID), or 'success'. */
type Ending = Record<string, unknown> | 'success';

/** Runs every vector against every base URL; resolves once each task has ended and each webhook was given up. */
async function runVectors(options: ServerOptions, bases: readonly string[]): Promise<{ client: RawClient; endings: Map<string, Ending[]> }> {
  server = await startTestServer({ ...options, limits: { maxInFlightPerConnection: 1_000, webhookAttempts: 1, ...options.limits } });
  const { client } = await RawClient.authenticated(server.url);
  const png = (await solidPng(128, 128, '#ffffff')).toString('base64');
  const vectors = bases.flatMap((base) => vectorTasks(base, png));
  client.send(vectors.map(({ task }) => task));
  const endings = new Map<string, Ending[]>();
  await Promise.all(
    vectors.map(async ({ name, task }) => {
      const frame = await client.waitFor((f) => isAbout(f, task.taskUUID) && !(f.kind === 'json' && f.data[0]?.preview === true));
      const ending: Ending = frame.kind === 'json' && frame.errors[0] !== undefined ? withoutTaskUUID(frame.errors[0]) : 'success';
      endings.set(name, [...(endings.get(name) ?? []), ending]);
    }),
  );
  const logs = server.logs;
  await eventually(() => logs.lines.filter((line) => line.message === 'webhook not delivered').length, (n) => n === bases.length);
  return { client, endings };
}

function withoutTaskUUID(item: object): Record<string, unknown> {
  const { taskUUID: _taskUUID, ...rest } = item as Record<string, unknown>;
  return rest;
}

async function errorItem(client: RawClient, taskUUID: string): Promise<Record<string, unknown>> {
  const frame = await client.waitFor((f) => isErrorOf(f, taskUUID));
  if (frame.kind !== 'json' || frame.errors[0] === undefined) throw new Error('expected an error');
  return withoutTaskUUID(frame.errors[0]);
}

describe('with default options', () => {
  it('sends nothing to loopback, however the parameter or the spelling names it', async () => {
    const v4 = await fixture();
    const v6 = await fixture('::1');
    const bases = [...ipv4Spellings(Number(new URL(v4.url).port)), v6.url];
    const { client, endings } = await runVectors({}, bases);
    expect(v4.requests).toEqual([]);
    expect(v6.requests).toEqual([]);
    const failed = (parameter: string, taskType = 'imageInference') => ({ code: 'fetchFailed', message: `${parameter} could not be fetched from its URL`, parameter, type: 'string', taskType });
    const expected: Record<string, Ending> = {
      seedImage: failed('seedImage'),
      maskImage: failed('maskImage'),
      controlNet: failed('controlNet[0].guideImage'),
      ipAdapters: failed('ipAdapters[0].guideImage'),
      imageUpload: failed('image', 'imageUpload'),
      uploadEndpoint: { code: 'uploadFailed', message: 'the image could not be uploaded to uploadEndpoint', parameter: 'uploadEndpoint', type: 'string', taskType: 'imageInference' },
      // The task itself succeeds; its webhook was refused (and logged, which runVectors waited for).
      webhookURL: 'success',
    };
    for (const [name, ending] of Object.entries(expected)) expect(endings.get(name), name).toEqual(bases.map(() => ending));
    const log = server!.logs.text();
    expect(log).toContain('loopback, not global unicast');
    // Origins only: no path or query of a URL reaches the log.
    expect(log).not.toContain('seedImage.png');
    await client.close();
  });

  it('answers every refused input with the same code and message as any other fetch failure', async () => {
    const v4 = await fixture();
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const tasks = ipv4Spellings(Number(new URL(v4.url).port)).map((base) => inferenceTask({ seedImage: `${base}/x.png` }));
    client.send(tasks);
    for (const task of tasks) {
      expect(await errorItem(client, task.taskUUID)).toEqual({ code: 'fetchFailed', message: 'seedImage could not be fetched from its URL', parameter: 'seedImage', type: 'string', taskType: 'imageInference' });
    }
    expect(v4.requests).toEqual([]);
    await client.close();
  });

  it('refuses a name that resolves to loopback: the address is checked after DNS', async () => {
    const v4 = await fixture();
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ seedImage: `http://localhost:${new URL(v4.url).port}/x.png` });
    client.send([task]);
    expect(await errorItem(client, task.taskUUID)).toMatchObject({ code: 'fetchFailed' });
    expect(v4.requests).toEqual([]);
    expect(server.logs.text()).toContain('address 127.0.0.1 is loopback');
    await client.close();
  });
});

describe('with allowPrivateNetwork', () => {
  it('reaches the same listeners by every spelling and parameter (the refusals above are the policy, not the network)', async () => {
    const v4 = await fixture();
    const v6 = await fixture('::1');
    const bases = [...ipv4Spellings(Number(new URL(v4.url).port)), v6.url];
    const { client } = await runVectors({ allowPrivateNetwork: true }, bases);
    const paths = ['/controlNet.png', '/imageUpload.png', '/ipAdapters.png', '/maskImage.png', '/seedImage.png', '/uploadEndpoint', '/webhookURL'];
    const count = (requests: HttpFixture['requests'], path: string) => requests.filter((r) => r.path === path).length;
    // Each path was asked for once per IPv4 spelling, and once over IPv6.
    for (const path of paths) {
      expect(count(v4.requests, path), path).toBe(7);
      expect(count(v6.requests, path), path).toBe(1);
    }
    await client.close();
  });

  it('answers one code and one message for a closed port, an HTTP error, a body that is no image, too many redirects, an oversize body and a timeout', async () => {
    const target = await fixture();
    target.route('/page.html', '<html>internal admin</html>', { contentType: 'text/html' });
    target.route('/big.png', Buffer.alloc(5_000, 1), { contentType: 'image/png' });
    for (let hop = 0; hop < 5; hop++) target.route(`/loop${hop}`, '', { status: 302, headers: { location: `/loop${hop + 1}` } });
    target.route('/no-location', '', { status: 302 });
    const hanging = await silentListener();
    server = await startTestServer({ allowPrivateNetwork: true, limits: { maxUploadBytes: 4_000, fetchTimeoutMs: 300 } });
    const urls = [`http://127.0.0.1:${await closedPort()}/a.png`, `${target.url}/missing.png`, `${target.url}/page.html`, `${target.url}/loop0`, `${target.url}/no-location`, `${target.url}/big.png`, `${hanging}/slow.png`];
    const { client } = await RawClient.authenticated(server.url);
    // The mask resolves after the seed image; a real seed leaves only the mask's fetch to fail.
    const seed = (await solidPng(128, 128, '#ffffff')).toString('base64');
    const tasks = urls.map((maskImage) => inferenceTask({ seedImage: seed, maskImage }));
    client.send(tasks);
    const expected = { code: 'fetchFailed', message: 'maskImage could not be fetched from its URL', parameter: 'maskImage', type: 'string', taskType: 'imageInference' };
    for (const task of tasks) expect(await errorItem(client, task.taskUUID)).toEqual(expected);
    // The same answer as a refused address on a server with default options.
    const refusing = await startTestServer();
    others.push(refusing);
    const other = await RawClient.authenticated(refusing.url);
    const refused = inferenceTask({ seedImage: seed, maskImage: `${target.url}/missing.png` });
    other.client.send([refused]);
    expect(await errorItem(other.client, refused.taskUUID)).toEqual(expected);
    await other.client.close();
    // The loop was cut after 3 redirects: the 4th hop's target was never asked for.
    expect(target.requests.map((r) => r.path)).not.toContain('/loop4');
    expect(target.requests.map((r) => r.path)).toContain('/loop3');
    const log = server.logs.text();
    for (const cause of ['ECONNREFUSED', 'HTTP 404', 'not a PNG, JPG or WEBP', 'more than 3 redirects', 'without a Location', 'more than 4000', 'no answer within 300 ms']) expect(log).toContain(cause);
    await client.close();
  });

  it('answers one message for every failed upload, and never stores or serves a fetched body that is not an image', async () => {
    const target = await fixture();
    target.route('/denied', 'no', { status: 403 });
    target.route('/moved', '', { status: 307, headers: { location: '/ok' } });
    target.route('/page.html', '<html>internal admin</html>', { contentType: 'text/html' });
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const endpoints = [`http://127.0.0.1:${await closedPort()}/up`, `${target.url}/denied`, `${target.url}/moved`];
    const tasks = endpoints.map((uploadEndpoint) => inferenceTask({ uploadEndpoint }));
    client.send(tasks);
    for (const task of tasks) {
      expect(await errorItem(client, task.taskUUID)).toEqual({ code: 'uploadFailed', message: 'the image could not be uploaded to uploadEndpoint', parameter: 'uploadEndpoint', type: 'string', taskType: 'imageInference' });
    }
    // A PUT is never redirected: /ok was not asked for.
    expect(target.requests.map((r) => r.path)).not.toContain('/ok');
    const upload = { taskType: 'imageUpload', taskUUID: newTaskUUID(), image: `${target.url}/page.html` };
    client.send([upload]);
    expect(await errorItem(client, upload.taskUUID)).toEqual({ code: 'fetchFailed', message: 'image could not be fetched from its URL', parameter: 'image', type: 'string', taskType: 'imageUpload' });
    await client.close();
  });
});

describe('redirects', () => {
  it('checks every hop: an allowOutbound admitting one listener stops its redirect to another', async () => {
    const allowed = await fixture();
    const other = await fixture();
    other.route('/seed.png', await solidPng(128, 128, '#0000ff'), { contentType: 'image/png' });
    allowed.route('/r', '', { status: 302, headers: { location: `${other.url}/seed.png` } });
    const seen: string[] = [];
    server = await startTestServer({
      allowPrivateNetwork: true,
      allowOutbound: ({ kind, url, address, range }) => {
        seen.push(`${kind} ${url.port} ${address} ${range}`);
        return url.port === new URL(allowed.url).port;
      },
    });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ seedImage: `${allowed.url}/r` });
    client.send([task]);
    expect(await errorItem(client, task.taskUUID)).toMatchObject({ code: 'fetchFailed', parameter: 'seedImage' });
    expect(allowed.requests.map((r) => r.path)).toEqual(['/r']);
    expect(other.requests).toEqual([]);
    expect(seen).toEqual([`input ${new URL(allowed.url).port} 127.0.0.1 loopback`, `input ${new URL(other.url).port} 127.0.0.1 loopback`]);
    await client.close();
  });

  it('applies allowInputUrl to every hop too', async () => {
    const allowed = await fixture();
    const other = await fixture();
    allowed.route('/r', '', { status: 302, headers: { location: `${other.url}/seed.png` } });
    server = await startTestServer({ allowPrivateNetwork: true, allowInputUrl: (url) => url.port === new URL(allowed.url).port });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ seedImage: `${allowed.url}/r` });
    client.send([task]);
    expect(await errorItem(client, task.taskUUID)).toMatchObject({ code: 'fetchFailed', parameter: 'seedImage' });
    expect(other.requests).toEqual([]);
    await client.close();
  });

  it('follows up to 3 redirects (relative ones too) to an allowed image', async () => {
    const target = await fixture();
    const png = await solidPng(64, 64, '#00ff00');
    target.route('/r1', '', { status: 301, headers: { location: '/r2' } });
    target.route('/r2', '', { status: 303, headers: { location: `${target.url}/r3` } });
    target.route('/r3', '', { status: 308, headers: { location: 'cat.png' } });
    target.route('/cat.png', png, { contentType: 'image/png' });
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const upload = { taskType: 'imageUpload', taskUUID: newTaskUUID(), image: `${target.url}/r1` };
    client.send([upload]);
    const answer = itemOf(await client.waitFor((f) => f.kind === 'json' && f.data[0]?.taskUUID === upload.taskUUID));
    const served = await fetch(String(answer.imageURL));
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
    expect(target.requests.map((r) => r.path)).toEqual(['/r1', '/r2', '/r3', '/cat.png']);
    await client.close();
  });
});

describe('webhooks', () => {
  it('refuses loopback by default, without retrying, and delivers with allowPrivateNetwork', async () => {
    const target = await fixture();
    target.route('/hook', 'ok', { status: 200 });
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ webhookURL: `${target.url}/hook` });
    client.send([task]);
    await client.waitFor((f) => isFinal(f, task.taskUUID));
    const logs = server.logs;
    const line = await eventually(() => logs.lines.find((entry) => entry.message === 'webhook not delivered'), (found) => found !== undefined);
    expect(line?.fields).toMatchObject({ attempts: 1, origin: target.url });
    expect(target.requests).toEqual([]);
    await client.close();
    await server.close();

    server = await startTestServer({ allowPrivateNetwork: true });
    const second = await RawClient.authenticated(server.url);
    const next = inferenceTask({ webhookURL: `${target.url}/hook` });
    second.client.send([next]);
    await eventually(() => target.requests.length, (n) => n === 1);
    expect(target.requests[0]).toMatchObject({ method: 'POST', path: '/hook' });
    await second.client.close();
  });
});
