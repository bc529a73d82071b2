// A client that never reaches its server fails fast and says why: refused, host not found, or the
// HTTP status that answered the upgrade (with a hint when the URL lacks /v1), after its
// first-connect budget instead of at the task's deadline; then it is idle and usable again.
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, createClient, type ImagewireClient } from '../../src/index.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const request = { positivePrompt: 'a lighthouse at dusk', model: 'runware:101@1', width: 128, height: 128 } as const;

let client: ImagewireClient | undefined;
let server: TestServer | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

/** A port nothing listens on (bound once, then released). */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function failure(promise: Promise<unknown>): Promise<ConnectionError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ConnectionError)) throw new Error(`expected a ConnectionError, got ${String(error)}`);
  return error;
}

describe('a client that never reached its server', () => {
  it('fails its tasks with unreachable and the refusal, not at the task deadline', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/v1`;
    client = createClient({ apiKey: 'k', url, firstConnectTimeoutMs: 1_000, taskTimeoutMs: 600_000 });
    const error = await failure(client.imageInference(request).result());
    expect(error.code).toBe('unreachable');
    expect(error.reason).toBe('refused');
    expect(error.message).toContain('ECONNREFUSED');
    expect(client.state).toBe('idle');
  });

  it('says when the host does not exist', async () => {
    client = createClient({ apiKey: 'k', url: 'ws://imagewire-test.invalid/v1', firstConnectTimeoutMs: 2_000 });
    const error = await failure(client.connect());
    expect(error.code).toBe('unreachable');
    expect(error.reason).toBe('notFound');
  });

  it('gives the HTTP status of a failed upgrade, with a hint when the path is not /v1', async () => {
    server = await startTestServer();
    const url = server.url.replace(/\/v1$/, '/');
    client = createClient({ apiKey: 'k', url, firstConnectTimeoutMs: 1_000 });
    const error = await failure(client.imageInference(request).result());
    expect(error).toMatchObject({ code: 'unreachable', reason: 'httpStatus', httpStatus: 404 });
    expect(error.message).toContain('/v1');
  });

  it('rejects connect() the same way, stays usable, and connects once the server is there', async () => {
    const port = await freePort();
    client = createClient({ apiKey: 'k', url: `ws://127.0.0.1:${port}/v1`, firstConnectTimeoutMs: 500 });
    expect((await failure(client.connect())).code).toBe('unreachable');
    server = await startTestServer({ port });
    const [image] = await client.imageInference(request).result();
    expect(image?.bytes?.byteLength).toBeGreaterThan(0);
    expect(client.state).toBe('open');
  });

  it('keeps reconnecting, without giving up, once a session existed', async () => {
    server = await startTestServer();
    client = createClient({ apiKey: 'k', url: server.url, firstConnectTimeoutMs: 300, reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
    await client.connect();
    const port = server.port;
    await server.close();
    const task = client.imageInference(request);
    // Well past the first-connect budget, nothing has failed: the client is reconnecting.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(task.state).toBe('running');
    expect(client.state).toMatch(/reconnecting|connecting/);
    server = await startTestServer({ port });
    expect((await task.result()).length).toBe(1);
  });
});
