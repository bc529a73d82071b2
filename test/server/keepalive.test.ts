// Keepalive on the WebSocket face: the exact pong, the idle close, and the pong faults that let
// client tests simulate a half-open peer.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const isPong = (f: { kind: string; text?: string }): boolean => f.kind === 'json' && f.text === '{"data":[{"taskType":"ping","pong":true}]}';

describe('keepalive', () => {
  it('answers a ping with exactly {"data":[{"taskType":"ping","pong":true}]}', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    const from = client.frames.length;
    client.send([{ taskType: 'ping', ping: true }]);
    const frame = await client.waitFor(() => true, { from });
    expect(frame.kind === 'json' && frame.text).toBe('{"data":[{"taskType":"ping","pong":true}]}');
    await client.close();
  });

  it('answers pings before authentication too', async () => {
    server = await startTestServer();
    const client = await RawClient.connect(server.url);
    client.send([{ taskType: 'ping', ping: true }]);
    await client.waitFor(isPong);
    await client.close();
  });

  it('refuses a malformed ping with invalidPing and keeps serving', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    client.send([{ taskType: 'ping', ping: 'yes' }]);
    const frame = await client.waitFor((f) => f.kind === 'json' && f.errors.length > 0);
    expect(frame.kind === 'json' && frame.errors[0]).toMatchObject({ code: 'invalidPing', parameter: 'ping', taskType: 'ping' });
    client.send([{ taskType: 'ping', ping: true }]);
    await client.waitFor(isPong);
    await client.close();
  });

  it('closes a silent socket after idleTimeoutMs with 1000 "idle timeout"', async () => {
    server = await startTestServer({ idleTimeoutMs: 100 });
    const { client } = await RawClient.authenticated(server.url);
    expect(await client.waitForClose()).toEqual({ code: 1000, reason: 'idle timeout' });
    const live = server;
    await eventually(() => live.stats().connections, (n) => n === 0);
  });

  it('keeps a socket that keeps talking past idleTimeoutMs', async () => {
    server = await startTestServer({ idleTimeoutMs: 300 });
    const { client } = await RawClient.authenticated(server.url);
    // Each pong is awaited before the next ping: five round trips without a close in between.
    for (let i = 0; i < 5; i++) {
      const from = client.frames.length;
      client.send([{ taskType: 'ping', ping: true }]);
      await client.waitFor(isPong, { from });
    }
    expect(client.isClosed).toBe(false);
    await client.close();
  });

  it('withholds pongs while faults.withholdPongs is on', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    server.faults.withholdPongs(true);
    let from = client.frames.length;
    client.send([{ taskType: 'ping', ping: true }]);
    await client.expectNone(isPong, { from });
    server.faults.withholdPongs(false);
    from = client.frames.length;
    client.send([{ taskType: 'ping', ping: true }]);
    await client.waitFor(isPong, { from });
    await client.close();
  });

  it('delays pongs by faults.delayPongsMs', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    server.faults.delayPongsMs(400);
    const from = client.frames.length;
    client.send([{ taskType: 'ping', ping: true }]);
    await client.expectNone(isPong, { from, windowMs: 100 });
    await client.waitFor(isPong, { from });
    await client.close();
  });

  it('queues everything while frozen and writes it on unfreeze', async () => {
    server = await startTestServer();
    const { client } = await RawClient.authenticated(server.url);
    server.faults.freeze(true);
    const from = client.frames.length;
    client.send([{ taskType: 'ping', ping: true }]);
    await client.expectNone(() => true, { from });
    server.faults.freeze(false);
    await client.waitFor(isPong, { from });
    await client.close();
  });
});
