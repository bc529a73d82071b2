// The HTTP server's own bounds: a request whose headers or body trickle in (one byte every 100 ms)
// is cut at its deadline (408, then closed) instead of holding its connection open, and the limits
// reach node:http.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultLimits } from '../../src/server/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { rawConnect, statusOf, type RawConnection } from '../helpers/raw-http.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** Writes `text` one byte every 100 ms until the server ends the connection; resolves with the bytes written. */
async function trickle(connection: RawConnection, text: string): Promise<number> {
  let written = 0;
  for (const char of text) {
    if (connection.isEnded) break;
    connection.socket.write(char);
    written++;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return written;
}

describe('HTTP timeouts', () => {
  it('have documented defaults', () => {
    expect(defaultLimits).toMatchObject({ httpHeadersTimeoutMs: 10_000, httpRequestTimeoutMs: 60_000, httpKeepAliveTimeoutMs: 5_000, maxHttpHeaderBytes: 16 * 1024 });
  });

  it('close a connection that trickles its headers', async () => {
    const server = await startTestServer({ limits: { httpHeadersTimeoutMs: 500, httpRequestTimeoutMs: 1_000 } });
    servers.push(server);
    const connection = await rawConnect(server.port);
    const head = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`;
    const written = await trickle(connection, head);
    await connection.ended;
    expect(written).toBeLessThan(head.length);
    expect(statusOf(connection.received())).toBe(408);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
  });

  it('close a connection that trickles its body', async () => {
    const server = await startTestServer({ limits: { httpHeadersTimeoutMs: 500, httpRequestTimeoutMs: 1_000 } });
    servers.push(server);
    const connection = await rawConnect(server.port);
    const body = JSON.stringify([{ taskType: 'authentication', apiKey: 'k' }, { taskType: 'ping', ping: true, padding: 'x'.repeat(200) }]);
    connection.socket.write(`POST /v1 HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    const written = await trickle(connection, body);
    await connection.ended;
    expect(written).toBeLessThan(body.length);
    expect(statusOf(connection.received())).toBe(408);
  });

  it('close an idle keep-alive connection', async () => {
    const server = await startTestServer({ limits: { httpKeepAliveTimeoutMs: 200 } });
    servers.push(server);
    const connection = await rawConnect(server.port);
    connection.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    await connection.ended;
    expect(statusOf(connection.received())).toBe(200);
  });

  it('leave WebSocket connections alone once upgraded', async () => {
    const server = await startTestServer({ limits: { httpHeadersTimeoutMs: 100, httpRequestTimeoutMs: 200, httpKeepAliveTimeoutMs: 100 } });
    servers.push(server);
    const { client } = await RawClient.authenticated(server.url);
    // Several request deadlines and checks pass; the socket is the WebSocket face's, not node:http's.
    await new Promise((resolve) => setTimeout(resolve, 800));
    client.send([{ taskType: 'ping', ping: true }]);
    await client.waitFor((frame) => frame.kind === 'json' && frame.data[0]?.pong === true);
    expect(client.isClosed).toBe(false);
    await client.close();
  });

  it('bound receiving a request, not answering it: a long POST /v1 is answered', async () => {
    const engine = createGateEngine();
    const server = await startTestServer({ engine, limits: { httpHeadersTimeoutMs: 100, httpRequestTimeoutMs: 200 } });
    servers.push(server);
    const answer = fetch(`${server.httpUrl}/v1`, { method: 'POST', headers: { authorization: 'Bearer k', 'content-type': 'application/json' }, body: JSON.stringify([inferenceTask()]) });
    await engine.waiting(1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    engine.openAll();
    expect((await answer).status).toBe(200);
  });

  it('refuse a headers timeout longer than the request timeout', async () => {
    await expect(startTestServer({ limits: { httpHeadersTimeoutMs: 2_000, httpRequestTimeoutMs: 1_000 } })).rejects.toThrow(RangeError);
  });
});
