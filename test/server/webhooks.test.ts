// webhookURL: every completed item, and a task's error, is POSTed on its own to the task's
// webhook as the JSON the socket carries, retried until a 2xx answer, never blocking the task.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { RawClient, finalItem, isErrorOf, isFinal } from '../helpers/raw-client.js';
import { inferenceTask, startTestServer, type TestServer } from '../helpers/test-server.js';

interface Receiver {
  readonly url: string;
  readonly bodies: unknown[];
  readonly hits: string[];
  close(): Promise<void>;
}

/** A webhook receiver on loopback; `answer` picks the status of each POST (or never answers with 0). */
async function startReceiver(answer: (hit: number) => number = () => 200): Promise<Receiver> {
  const bodies: unknown[] = [];
  const hits: string[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      hits.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const status = answer(hits.length);
      if (status === 0) {
        hanging.add(res);
        return;
      }
      if (status < 300) bodies.push(JSON.parse(text));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/secret-token-123`,
    bodies,
    hits,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

let server: TestServer | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await server?.close();
  await receiver?.close();
  server = undefined;
  receiver = undefined;
});

describe('webhookURL', () => {
  it('POSTs each final item on its own, as the socket frame, while the socket gets its results too', async () => {
    receiver = await startReceiver();
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ numberResults: 2, webhookURL: receiver.url, outputType: 'base64Data' });
    client.send([task]);
    const finals = (await client.waitForCount((f) => isFinal(f, task.taskUUID), 2)).map(finalItem);
    await eventually(() => receiver!.bodies.length, (n) => n === 2);
    expect(receiver.hits.every((hit) => hit === 'POST /hooks/secret-token-123 application/json')).toBe(true);
    const posted = (receiver.bodies as { data: Record<string, unknown>[] }[]).map((body) => {
      expect(body.data).toHaveLength(1);
      return body.data[0]!;
    });
    posted.sort((a, b) => String(a.imageUUID).localeCompare(String(b.imageUUID)));
    finals.sort((a, b) => String(a.imageUUID).localeCompare(String(b.imageUUID)));
    expect(posted).toEqual(finals);
    const meta = await sharp(Buffer.from(String(posted[0]!.imageBase64Data), 'base64')).metadata();
    expect(meta.format).toBe('png');
    await client.close();
  });

  it('retries a failing webhook until it answers 2xx', async () => {
    receiver = await startReceiver((hit) => (hit === 1 ? 503 : 200));
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ webhookURL: receiver.url, outputType: 'URL' });
    client.send([task]);
    const item = finalItem(await client.waitFor((f) => isFinal(f, task.taskUUID)));
    await eventually(() => receiver!.bodies.length, (n) => n === 1, 5_000);
    expect(receiver.hits).toHaveLength(2);
    expect((receiver.bodies[0] as { data: unknown[] }).data[0]).toEqual(item);
    await client.close();
  });

  it("POSTs a failed task's error item, with its taskUUID", async () => {
    receiver = await startReceiver();
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ webhookURL: receiver.url, seedImage: '4a2b1c7e-0000-4000-8000-000000000000' });
    client.send([task]);
    const frame = await client.waitFor((f) => isErrorOf(f, task.taskUUID));
    await eventually(() => receiver!.bodies.length, (n) => n === 1);
    const posted = receiver.bodies[0] as { errors: { code: string; taskUUID: string }[] };
    expect(posted.errors).toHaveLength(1);
    expect(posted.errors[0]!.taskUUID).toBe(task.taskUUID);
    expect(frame.kind === 'json' && frame.errors[0]?.code).toBe(posted.errors[0]!.code);
    await client.close();
  });

  it('gives up after webhookAttempts, logs only the origin, and keeps serving', async () => {
    receiver = await startReceiver(() => 500);
    const clock = new FakeClock();
    server = await startTestServer({ allowPrivateNetwork: true, limits: { webhookAttempts: 2 }, clock });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ webhookURL: receiver.url });
    client.send([task]);
    await client.waitFor((f) => isFinal(f, task.taskUUID));
    // The second POST waits 500 ms on the server's clock after the first one failed.
    await eventually(() => clock.pending, (delays) => receiver!.hits.length === 1 && delays.includes(500));
    clock.advance(499);
    expect(clock.pending).toContain(1);
    expect(receiver.hits).toHaveLength(1);
    clock.advance(1);
    const logs = server.logs;
    await eventually(() => logs.lines.filter((line) => line.message === 'webhook not delivered').length, (n) => n === 1, 5_000);
    expect(receiver.hits).toHaveLength(2);
    expect(logs.text()).toContain(new URL(receiver.url).origin);
    expect(logs.text()).not.toContain('secret-token-123');
    const next = inferenceTask();
    client.send([next]);
    await client.waitFor((f) => isFinal(f, next.taskUUID));
    await client.close();
  });

  it('does not hold up the task, and close() ends a delivery stuck on a silent receiver', async () => {
    receiver = await startReceiver(() => 0);
    server = await startTestServer({ allowPrivateNetwork: true });
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ webhookURL: receiver.url, numberResults: 2 });
    client.send([task]);
    await client.waitForCount((f) => isFinal(f, task.taskUUID), 2);
    await eventually(() => receiver!.hits.length, (n) => n === 2);
    await client.close();
    await server.close(); // would wait for the 10 s webhook timeout if close did not abort deliveries
    server = undefined;
  }, 8_000);
});
