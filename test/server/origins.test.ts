// Browsers elsewhere cannot drive the server: in open mode a WebSocket upgrade or HTTP request with
// a foreign Origin is refused (originNotAllowed, 403), and so is a Host that is not one of the
// server's names on loopback (DNS rebinding); with keys, the token routes check the Origin. Bodies
// must be application/json (multipart only for edits), never a CORS-simple type.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
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

/** The HTTP status of an upgrade with these headers (0 when accepted). */
async function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  try {
    clients.push(await RawClient.connect(url, { headers }));
    return 0;
  } catch (error) {
    return Number(/HTTP (\d+)/.exec(String(error))?.[1] ?? -1);
  }
}

/** A request with headers fetch would not let us set (Host); resolves with status and body. */
function raw(port: number, method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const tasks = JSON.stringify([{ taskType: 'authentication', apiKey: 'any' }, { taskType: 'ping', ping: true }]);

describe('open mode', () => {
  it('refuses WebSocket upgrades from a foreign origin, and accepts its own, allowed ones and none', async () => {
    const server = await start({ allowedOrigins: ['http://localhost:5173'] });
    expect(await upgradeStatus(server.url, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(server.url, { origin: 'null' })).toBe(403);
    expect(await upgradeStatus(server.url, { origin: `http://127.0.0.1:${server.port + 1}` })).toBe(403);
    for (const origin of [`http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`, `http://[::1]:${server.port}`, 'http://localhost:5173']) {
      expect(await upgradeStatus(server.url, { origin }), origin).toBe(0);
    }
    expect(await upgradeStatus(server.url, {})).toBe(0);
  });

  it('refuses POST /v1 from a foreign origin with originNotAllowed', async () => {
    const server = await start();
    const foreign = await raw(server.port, 'POST', '/v1', { origin: 'http://evil.example', 'content-type': 'application/json' }, tasks);
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body)).toMatchObject({ errors: [{ code: 'originNotAllowed' }] });
    const own = await raw(server.port, 'POST', '/v1', { origin: server.httpUrl, 'content-type': 'application/json' }, tasks);
    expect(own.status).toBe(200);
    const images = await raw(server.port, 'POST', '/v1/images/generations', { origin: 'http://evil.example', 'content-type': 'application/json', authorization: 'Bearer any' }, '{"prompt":"a fox"}');
    expect(images.status).toBe(403);
    expect(JSON.parse(images.body)).toMatchObject({ error: { code: 'origin_not_allowed', type: 'invalid_request_error' } });
  });

  it('answers only its own names on loopback (DNS rebinding): Host is checked, not trusted', async () => {
    const server = await start();
    const rebound = await raw(server.port, 'POST', '/v1', { host: `evil.example:${server.port}`, 'content-type': 'application/json' }, tasks);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ errors: [{ code: 'hostNotAllowed' }] });
    // The rebound page's Origin agrees with its Host; neither makes it the server's own.
    const agreeing = await raw(server.port, 'POST', '/v1', { host: `evil.example:${server.port}`, origin: `http://evil.example:${server.port}`, 'content-type': 'application/json' }, tasks);
    expect(agreeing.status).toBe(403);
    expect(await upgradeStatus(server.url.replace('127.0.0.1', 'localhost'), {})).toBe(0);
    expect((await raw(server.port, 'GET', '/healthz', { host: `localhost:${server.port}` })).status).toBe(200);
    const allowed = await start({ allowedOrigins: ['http://dev.example:8080'] });
    expect((await raw(allowed.port, 'GET', '/healthz', { host: 'dev.example:8080' })).status).toBe(200);
  });
});

describe('keyed mode', () => {
  it('lets any origin use a key (a page elsewhere needs one) but checks the origin on the token routes', async () => {
    const server = await start({ apiKeys: ['key'], page: { assetsDir: new URL('../../dist/web/', import.meta.url) } });
    expect(await upgradeStatus(server.url, { origin: 'http://app.example' })).toBe(0);
    const mint = (origin: string | undefined): Promise<{ status: number; body: string }> =>
      raw(server.port, 'POST', '/v1/tokens', { authorization: 'Bearer key', ...(origin === undefined ? {} : { origin }) });
    const refused = await mint('http://evil.example');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ errors: [{ code: 'originNotAllowed' }] });
    expect((await mint(undefined)).status).toBe(200);
    expect((await mint(server.httpUrl)).status).toBe(200);
    const secret = new URL(server.pageUrl ?? '').hash.slice('#secret='.length);
    const page = (origin: string): Promise<{ status: number; body: string }> => raw(server.port, 'POST', '/page/token', { authorization: `Bearer ${secret}`, origin });
    expect((await page('http://evil.example')).status).toBe(403);
    expect((await page(server.httpUrl)).status).toBe(200);
  });

  it('lets allowed origins mint tokens', async () => {
    const server = await start({ apiKeys: ['key'], allowedOrigins: ['https://app.example'] });
    expect((await raw(server.port, 'POST', '/v1/tokens', { authorization: 'Bearer key', origin: 'https://app.example' })).status).toBe(200);
  });

  it('refuses allowedOrigins that are not origins', async () => {
    for (const bad of ['app.example', 'https://app.example/', 'https://app.example/path', 'ftp://app.example', '*']) {
      await expect(start({ allowedOrigins: [bad] }), bad).rejects.toThrow(TypeError);
    }
  });
});

describe('media types', () => {
  it('refuses POST /v1 bodies that are not application/json with unsupportedMediaType (415)', async () => {
    const server = await start();
    for (const contentType of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      const answer = await raw(server.port, 'POST', '/v1', contentType === undefined ? {} : { 'content-type': contentType }, tasks);
      expect(answer.status, String(contentType)).toBe(415);
      expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ code: 'unsupportedMediaType' }] });
    }
    expect((await raw(server.port, 'POST', '/v1', { 'content-type': 'application/json; charset=utf-8' }, tasks)).status).toBe(200);
  });

  it('refuses a text/plain images request in the OpenAI shape, and a form on generations', async () => {
    const server = await start();
    for (const [path, contentType] of [
      ['/v1/images/generations', 'text/plain'],
      ['/v1/images/generations', 'application/x-www-form-urlencoded'],
      ['/v1/images/generations', 'multipart/form-data; boundary=x'],
      ['/v1/images/edits', 'text/plain'],
      ['/v1/images/edits', 'application/x-www-form-urlencoded'],
      ['/v1/images/imagine', 'text/plain'],
    ] as const) {
      const answer = await raw(server.port, 'POST', path, { 'content-type': contentType, authorization: 'Bearer any' }, '{"prompt":"a fox"}');
      expect(answer.status, `${path} ${contentType}`).toBe(415);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'unsupported_media_type', type: 'invalid_request_error' } });
    }
  });

  it('refuses a token request body that is not JSON', async () => {
    const server = await start({ apiKeys: ['key'] });
    const answer = await raw(server.port, 'POST', '/v1/tokens', { authorization: 'Bearer key', 'content-type': 'text/plain' }, '{"ttlSeconds":60}');
    expect(answer.status).toBe(415);
    expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ code: 'unsupportedMediaType' }] });
  });
});
