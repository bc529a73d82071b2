// Webhook deliveries are shared fairly between keys: a key at its share drops only its own new
// deliveries, and when the server-wide bound is full a key under its share still gets its delivery,
// in place of the oldest one of the key holding the most. One key never drops another's.
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { isFinal, RawClient } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

/** A webhook receiver that records each POST's path and never answers, so deliveries stay in progress. */
async function startSilentReceiver(): Promise<{ url: string; paths: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  const held = new Set<ServerResponse>();
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      paths.push(req.url ?? '');
      held.add(res);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

let server: TestServer | undefined;
let receiver: Awaited<ReturnType<typeof startSilentReceiver>> | undefined;
afterEach(async () => {
  await server?.close();
  await receiver?.close();
  server = undefined;
  receiver = undefined;
});

/** Sends one task of `count` images with a webhook at `path` and waits for its finals. */
async function flood(client: RawClient, url: string, count: number): Promise<void> {
  const task = inferenceTask({ numberResults: count, webhookURL: url, outputType: 'URL' });
  client.send([task]);
  await client.waitForCount((f) => isFinal(f, task.taskUUID), count);
}

const count = (paths: readonly string[], path: string): number => paths.filter((p) => p === path).length;

describe('webhook shares', () => {
  it('a key that fills the server-wide bound cannot make another key lose its webhook', async () => {
    receiver = await startSilentReceiver();
    server = await startTestServer({ apiKeys: ['key-a', 'key-b'], allowPrivateNetwork: true, limits: { maxPendingWebhooks: 4, maxPendingWebhooksPerKey: 4, webhookTimeoutMs: 60_000 } });
    const a = (await RawClient.authenticated(server.url, 'key-a')).client;
    const b = (await RawClient.authenticated(server.url, 'key-b')).client;
    const rx = receiver;
    // Key A fills every slot, then asks for more: its own share is full, so its extra ones drop.
    await flood(a, `${rx.url}/a`, 6);
    await eventually(() => count(rx.paths, '/a'), (n) => n === 4);
    const logs = server.logs;
    expect(logs.lines.filter((line) => line.message === 'webhook dropped: this key has too many deliveries in progress')).toHaveLength(2);
    // Key B is under its share: it takes the place of A's oldest delivery.
    await flood(b, `${rx.url}/b`, 1);
    await eventually(() => count(rx.paths, '/b'), (n) => n === 1);
    expect(logs.lines.filter((line) => line.message === 'webhook delivery aborted: a key under its share needed its place')).toHaveLength(1);
    // A under its share again (3 of 4) takes its own oldest place, never B's: B holds less than A.
    await flood(a, `${rx.url}/a`, 1);
    await eventually(() => count(rx.paths, '/a'), (n) => n === 5);
    await flood(b, `${rx.url}/b`, 1);
    await eventually(() => count(rx.paths, '/b'), (n) => n === 2);
    // Nothing of B's was ever dropped or pushed out; only A's were.
    expect(logs.lines.filter((line) => line.message.startsWith('webhook dropped'))).toHaveLength(2);
    expect(logs.lines.filter((line) => line.message === 'webhook delivery aborted: a key under its share needed its place')).toHaveLength(3);
    await a.close();
    await b.close();
  });

  it('a key at its share drops its own new delivery even when the server has room', async () => {
    receiver = await startSilentReceiver();
    server = await startTestServer({ apiKeys: ['key-a', 'key-b'], allowPrivateNetwork: true, limits: { maxPendingWebhooks: 10, maxPendingWebhooksPerKey: 3, webhookTimeoutMs: 60_000 } });
    const a = (await RawClient.authenticated(server.url, 'key-a')).client;
    const b = (await RawClient.authenticated(server.url, 'key-b')).client;
    const rx = receiver;
    await flood(a, `${rx.url}/a`, 5);
    await flood(b, `${rx.url}/b`, 3);
    await eventually(() => count(rx.paths, '/b'), (n) => n === 3);
    expect(count(rx.paths, '/a')).toBe(3);
    const logs = server.logs;
    expect(logs.lines.filter((line) => line.message === 'webhook dropped: this key has too many deliveries in progress')).toHaveLength(2);
    expect(logs.text()).not.toContain('key-a');
    await a.close();
    await b.close();
  });
});
