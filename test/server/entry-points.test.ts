// Every entry point answers bad input with a typed 400-class error and the process keeps serving:
// upgrade targets that `new URL()` throws on, malformed request lines and headers (node:http's
// clientError), oversized headers, and bad targets on the HTTP routes.
import { afterEach, describe, expect, it } from 'vitest';
import { isFinal, RawClient } from '../helpers/raw-client.js';
import { rawConnect, statusOf, upgradeRequest } from '../helpers/raw-http.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

/** Sends `request` on a fresh connection; resolves with what came back once the server closed it. */
async function exchange(port: number, request: string): Promise<{ status: number | undefined; text: string }> {
  const connection = await rawConnect(port);
  connection.socket.write(request);
  await connection.ended;
  const bytes = connection.received();
  return { status: statusOf(bytes), text: bytes.toString('utf8') };
}

/** A correct task still runs: the process and the WebSocket face are alive. */
async function stillServes(server: TestServer): Promise<void> {
  const { client } = await RawClient.authenticated(server.url);
  const task = inferenceTask();
  client.send([task]);
  await client.waitFor((frame) => isFinal(frame, task.taskUUID));
  await client.close();
}

describe('upgrade targets', () => {
  it('answers //[/v1 with 400 and goes on serving', async () => {
    const server = await start();
    const answer = await exchange(server.port, upgradeRequest(server.port, '//[/v1'));
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('"code":"invalidRequestTarget"');
    await stillServes(server);
  });

  it('answers every malformed target with 400 and unknown paths with 404', async () => {
    const server = await start();
    for (const target of ['//[/v1', '//v1', '/v1/../[x', '/%zz', '/v1#x', '/v1|', 'http://[/v1']) {
      expect((await exchange(server.port, upgradeRequest(server.port, target))).status, target).toBe(400);
    }
    expect((await exchange(server.port, upgradeRequest(server.port, '/v2'))).status).toBe(404);
    // The query is ignored, as official SDKs add one.
    const { client } = await RawClient.authenticated(`${server.url}?sdk=js&version=1.2.3&dryRun=1`);
    await client.close();
    await stillServes(server);
  });
});

describe('malformed HTTP', () => {
  it('answers a malformed request line or header with 400 and closes', async () => {
    const server = await start();
    const requests = ['GARBAGE\r\n\r\n', 'GET /v1 HTTP/9.9\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 'GET\x00/ HTTP/1.1\r\n\r\n', '\r\n\r\n\r\n\x01'];
    for (const request of requests) {
      const answer = await exchange(server.port, request);
      expect(answer.status, JSON.stringify(request)).toBe(400);
      expect(answer.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    }
    await stillServes(server);
  });

  it('answers headers beyond maxHttpHeaderBytes with 431', async () => {
    const server = await start({ limits: { maxHttpHeaderBytes: 2_048 } });
    const answer = await exchange(server.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(4_096)}\r\n\r\n`);
    expect(answer.status).toBe(431);
    const upgrade = await exchange(server.port, upgradeRequest(server.port, '/v1', { 'X-Big': 'b'.repeat(4_096) }));
    expect(upgrade.status).toBe(431);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
  });

  it('answers bad targets on the HTTP routes with 400 in the protocol shape', async () => {
    const server = await start();
    for (const target of ['//[/v1', '//[/v1/images/generations', '/%', '/page/[']) {
      const answer = await exchange(server.port, `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]`);
      expect(answer.status, target).toBe(400);
      expect(answer.text).toContain('"code":"invalidRequestTarget"');
    }
    expect(server.logs.lines.filter((line) => line.level === 'error')).toEqual([]);
    await stillServes(server);
  });
});
