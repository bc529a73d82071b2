// What unauthenticated and greedy peers may hold: the largest frame before authentication (counted
// on the TCP socket, so the server closes before the frame is whole), a big task frame pipelined
// right behind an authentication still running, caps on unauthenticated sockets in total and per
// address (refused before the handshake), and a cap on one key's sockets, its tokens included.
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultLimits } from '../../src/server/index.js';
import { newTaskUUID } from '../../src/protocol/index.js';
import { eventually } from '../helpers/eventually.js';
import { RawClient } from '../helpers/raw-client.js';
import { clientFrameHeader, clientTextFrame, closeCodeOf, rawConnect, rawWebSocket, statusOf, upgradeRequest, writeAndWait } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const servers: TestServer[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  for (const server of servers.splice(0)) await server.close();
});

async function start(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

async function open(url: string, localAddress?: string): Promise<RawClient> {
  const client = await RawClient.connect(url, localAddress === undefined ? {} : { localAddress });
  clients.push(client);
  return client;
}

/** The HTTP status an upgrade is refused with (0 when it was accepted). */
async function refusedWith(url: string, localAddress?: string): Promise<number> {
  try {
    await open(url, localAddress);
    return 0;
  } catch (error) {
    return Number(/HTTP (\d+)/.exec(String(error))?.[1] ?? -1);
  }
}

/** Retries `check` until it holds (a place is given back when the server sees the close). */
async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A PNG of noise: `bytes` of it do not compress. */
async function noisePng(side: number): Promise<Buffer> {
  const raw = Buffer.alloc(side * side * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

describe('before authentication', () => {
  it('has short defaults: a 64 KiB frame and 10 s to authenticate; 128 sockets per key', () => {
    expect(defaultLimits.maxUnauthenticatedFrameBytes).toBe(64 * 1024);
    expect(defaultLimits.authTimeoutMs).toBe(10_000);
    expect(defaultLimits.maxConnectionsPerKey).toBe(128);
  });

  it('closes with 1009 a socket announcing a large frame, before the frame is whole', async () => {
    const server = await start();
    const connection = await rawWebSocket(server.port);
    const announced = 31 * 1024 * 1024;
    await writeAndWait(connection.socket, clientFrameHeader(0x1, announced));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    while (sent < announced && (await writeAndWait(connection.socket, chunk))) sent += chunk.length;
    await connection.ended;
    // The server stopped reading after its budget: what the kernel buffers took is far below the frame.
    console.log(`pre-auth frame: ${sent} of ${announced} bytes written before the server closed`);
    expect(sent).toBeLessThan(announced / 2);
    expect(closeCodeOf(connection.received())).toBe(1009);
    await eventually(() => server.stats().connections, (count) => count === 0);
    const { client } = await RawClient.authenticated(server.url);
    await client.close();
  });

  it('lets frames under the budget through: a ping before the authentication, then the authentication', async () => {
    const server = await start({ limits: { maxUnauthenticatedFrameBytes: 4_096 } });
    const connection = await rawWebSocket(server.port);
    connection.socket.write(clientTextFrame(JSON.stringify([{ taskType: 'ping', ping: true, padding: 'x'.repeat(3_000) }])));
    await eventually(() => connection.received().toString('latin1'), (text) => text.includes('"errors"') || text.includes('pong'));
    const client = await open(server.url);
    client.send([{ taskType: 'ping', ping: true }]);
    await client.waitFor((frame) => frame.kind === 'json' && frame.data[0]?.pong === true);
    await client.authenticate('k');
    connection.socket.destroy();
  });

  it('runs a big task frame pipelined right behind the authentication, with list keys and with a slow key check', async () => {
    const png = await noisePng(700);
    expect(png.length).toBeGreaterThan(1024 * 1024);
    const keyChecks = [['key'], async (key: string) => new Promise<boolean>((resolve) => setTimeout(() => resolve(key === 'key'), 200))] as const;
    for (const apiKeys of keyChecks) {
      const server = await start({ apiKeys });
      const client = await open(server.url);
      const taskUUID = newTaskUUID();
      // Both frames leave at once; the second arrives while the authentication is checked.
      client.send([{ taskType: 'authentication', apiKey: 'key' }]);
      client.send([{ taskType: 'imageUpload', taskUUID, image: `data:image/png;base64,${png.toString('base64')}` }]);
      const upload = await client.waitFor((frame) => frame.kind === 'json' && frame.data.some((item) => item.taskUUID === taskUUID), { timeoutMs: 10_000 });
      expect(upload.kind === 'json' && typeof upload.data[0]?.imageUUID).toBe('string');
      expect(client.isClosed).toBe(false);
    }
  });

  it('bounds what piles up behind a slow authentication to one frame of maxFrameBytes', async () => {
    const server = await start({ apiKeys: async () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 2_000)), limits: { maxFrameBytes: 256 * 1024 } });
    const connection = await rawWebSocket(server.port);
    connection.socket.write(clientTextFrame(JSON.stringify([{ taskType: 'authentication', apiKey: 'k' }])));
    const filler = clientTextFrame(JSON.stringify([{ taskType: 'ping', ping: true, padding: 'x'.repeat(100 * 1024) }]));
    let sent = 0;
    while (sent < 300 && (await writeAndWait(connection.socket, filler))) sent++;
    await connection.ended;
    console.log(`behind a slow authentication: ${sent} frames of 100 KiB written before the server closed`);
    expect(sent).toBeLessThan(300);
    expect(closeCodeOf(connection.received())).toBe(1009);
  });
});

describe('unauthenticated sockets', () => {
  it('are capped per remote address with 429 before the handshake; other addresses still get in', async () => {
    const server = await start({ limits: { maxUnauthenticatedSocketsPerAddress: 3 } });
    const waiting = [await open(server.url), await open(server.url), await open(server.url)];
    expect(await refusedWith(server.url)).toBe(429);
    // Another loopback address counts on its own.
    expect(await refusedWith(server.url, '127.0.0.2')).toBe(0);
    // An authenticated socket no longer counts.
    await waiting[0]!.authenticate('k');
    expect(await refusedWith(server.url)).toBe(0);
    expect(await refusedWith(server.url)).toBe(429);
    // A socket that goes away gives its place back.
    waiting[1]!.terminate();
    await until(async () => (await refusedWith(server.url)) === 0);
  });

  it('are capped in total with 503', async () => {
    const server = await start({ limits: { maxUnauthenticatedSockets: 2 } });
    await open(server.url);
    await open(server.url, '127.0.0.2');
    expect(await refusedWith(server.url, '127.0.0.3')).toBe(503);
  });

  it('give their place back when the handshake fails', async () => {
    const server = await start({ limits: { maxUnauthenticatedSocketsPerAddress: 1 } });
    for (let i = 0; i < 3; i++) {
      const connection = await rawConnect(server.port);
      connection.socket.write(upgradeRequest(server.port, '/v1', { 'Sec-WebSocket-Version': '99' }).replace('Sec-WebSocket-Version: 13\r\n', ''));
      await connection.ended;
      expect(statusOf(connection.received())).toBe(400);
    }
    expect(await refusedWith(server.url)).toBe(0);
  });
});

describe('connections per key', () => {
  it('refuses the authentication beyond maxConnectionsPerKey with tooManyConnections and 1008; tokens count as their key', async () => {
    const server = await start({ apiKeys: ['key-a', 'key-b'], limits: { maxConnectionsPerKey: 2 } });
    const first = await open(server.url);
    await first.authenticate('key-a');
    const second = await open(server.url);
    await second.authenticate('key-a');
    const third = await open(server.url);
    third.send([{ taskType: 'authentication', apiKey: 'key-a' }]);
    const refused = await third.waitFor((frame) => frame.kind === 'json' && frame.errors.length > 0);
    expect(refused.kind === 'json' && refused.errors[0]).toMatchObject({ code: 'tooManyConnections', taskType: 'authentication' });
    expect((await third.waitForClose()).code).toBe(1008);

    const minted = await fetch(`${server.httpUrl}/v1/tokens`, { method: 'POST', headers: { authorization: 'Bearer key-a' } });
    const token = ((await minted.json()) as { data: { token: string }[] }).data[0]!.token;
    const byToken = await open(server.url);
    byToken.send([{ taskType: 'authentication', apiKey: token }]);
    const tokenRefused = await byToken.waitFor((frame) => frame.kind === 'json' && frame.errors.length > 0);
    expect(tokenRefused.kind === 'json' && tokenRefused.errors[0]?.code).toBe('tooManyConnections');

    // Another key is not affected; a freed place can be taken again, by the token too.
    const other = await open(server.url);
    await other.authenticate('key-b');
    await first.close();
    await eventually(() => server.stats().connections, (count) => count === 2);
    const again = await open(server.url);
    await again.authenticate(token);
  });
});
