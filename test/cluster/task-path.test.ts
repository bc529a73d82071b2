// The round trips of one task's way through a cluster, against a real redis-server: a wake-up under
// ack carries a small frame (the node writes it without reading the log back), a final sent right
// behind its image's put is recorded only with the image stored, and a job whose task is not running
// (the worker reads the record while the work starts) leaves nothing behind.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createProceduralEngine } from '../../src/engine/index.js';
import { normalizeImageInference, type ImageInferenceTask } from '../../src/protocol/index.js';
import { maxWakeFrameBytes } from '../../src/server/cluster/session-scripts.js';
import { SessionLog, parseNodeMessage, type NodeMessage, type SessionLogLimits } from '../../src/server/cluster/session-log.js';
import { TaskStore, type TaskStoreLimits } from '../../src/server/cluster/task-store.js';
import { encodeTaskJob } from '../../src/server/cluster/task-job.js';
import { createWorker } from '../../src/server/cluster/worker.js';
import type { ServerFrame } from '../../src/server/core/server-frame.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { RawClient, isFinal } from '../helpers/raw-client.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { inferenceTask, startTestServer } from '../helpers/test-server.js';
import { startStoreFixture, type StoreFixture } from './store-fixture.js';
import { startWorkerFixture } from './worker-fixture.js';

const roomy: SessionLogLimits = { maxHeldSessions: 10_000, maxHeldSessionsPerKey: 2_500, maxHeldBytesPerSession: 64 << 20, maxHeldBytesPerKey: 128 << 20, maxHeldBytesTotal: 512 << 20 };
const taskLimits: TaskStoreLimits = { maxInFlightPerKey: 128, maxTaskRecords: 100_000, maxTaskRecordsPerKey: 25_000 };

function text(taskUUID: string, url: string): ServerFrame {
  return { kind: 'data', items: [{ taskType: 'imageInference', taskUUID, imageUUID: 'img', imageURL: url }] };
}

function image(taskUUID: string, bytes: number): ServerFrame {
  return { kind: 'image', item: { taskType: 'imageInference', taskUUID, imageUUID: 'u' }, field: 'imageBase64Data', mediaType: 'image/png', image: Buffer.alloc(bytes, 7) };
}

/** Calls of one Redis command since the last CONFIG RESETSTAT. */
async function calls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info('commandstats');
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return Number(match?.[1] ?? 0);
}

let prefixes = 0;

describe.runIf(redisAvailable())('one task through the cluster: round trips', () => {
  let fixture: StoreFixture;
  let redis: Redis;
  beforeAll(async () => {
    fixture = await startStoreFixture();
    redis = fixture.connect();
  });
  afterAll(async () => fixture.close());

  it('a wake-up carries a small frame of a session under ack; otherwise only the session', async () => {
    const log = new SessionLog({ redis, limits: roomy, keyPrefix: `p${++prefixes}:` });
    const sub = fixture.connections.create('subscriber');
    const heard: NodeMessage[] = [];
    sub.on('message', (_channel: string, message: string) => {
      const parsed = parseNodeMessage(message);
      if (parsed !== undefined) heard.push(parsed);
    });
    await sub.subscribe(log.keys.nodeChannel('A'));
    const plain = await log.create('owner');
    const acked = await log.create('owner');
    if (plain.kind !== 'created' || acked.kind !== 'created') throw new Error('not created');
    const plainAttach = await log.attach(plain.session, 'owner', 'A');
    await log.attach(acked.session, 'owner', 'A', { asked: { ack: true, binary: true } });
    const small = text('t', 'http://x/1.png');
    const large = text('t', `http://x/${'a'.repeat(maxWakeFrameBytes)}.png`);
    await log.append(plain.session, 'owner', small);
    await log.append(plain.session, 'owner', small);
    await log.append(acked.session, 'owner', small);
    await log.append(acked.session, 'owner', image('t', 1000));
    await log.append(acked.session, 'owner', large);
    // Ack turned on after two frames: the next one is the log's third and the client's first.
    if (!plainAttach.found || !plainAttach.ownerMatches) throw new Error('not attached');
    expect(await log.enable(plain.session, 'A', plainAttach.gen, { ack: true, binary: false })).toBe(true);
    await log.append(plain.session, 'owner', small);
    await expect.poll(() => heard.length).toBe(6);
    expect(heard).toEqual([
      { kind: 'wake', session: plain.session },
      { kind: 'wake', session: plain.session },
      { kind: 'wake', session: acked.session, entry: { seq: 1, clientSeq: 1, frame: small } },
      // Image bytes and large frames stay out of pub/sub: the node reads them from the log.
      { kind: 'wake', session: acked.session },
      { kind: 'wake', session: acked.session },
      { kind: 'wake', session: plain.session, entry: { seq: 3, clientSeq: 1, frame: small } },
    ]);
    await sub.quit();
  });

  it('reads a frame wake-up; a malformed one is a bare wake-up or nothing', () => {
    const s = '0d3c1e2f-1b2c-4d3e-8f4a-5b6c7d8e9f0a';
    expect(parseNodeMessage(`f ${s} 7 5 {"k":"d","items":[{"taskType":"ping","pong":true}]}`)).toEqual({ kind: 'wake', session: s, entry: { seq: 7, clientSeq: 5, frame: { kind: 'data', items: [{ taskType: 'ping', pong: true }] } } });
    expect(parseNodeMessage(`f ${s} 7 5 {not json`)).toEqual({ kind: 'wake', session: s });
    expect(parseNodeMessage(`f ${s} x 1 {}`)).toEqual({ kind: 'wake', session: s });
    // A client seq past the log's own, or none, is not a frame to write.
    expect(parseNodeMessage(`f ${s} 7 8 {}`)).toEqual({ kind: 'wake', session: s });
    expect(parseNodeMessage(`f ${s} 7 {}`)).toEqual({ kind: 'wake', session: s });
    expect(parseNodeMessage(`f ${s}`)).toBeUndefined();
  });

  it('records a final that requires its image only once the image is stored', async () => {
    const keyPrefix = `p${++prefixes}:`;
    const log = new SessionLog({ redis, limits: roomy, keyPrefix });
    const tasks = new TaskStore({ redis, sessions: log, limits: taskLimits });
    const created = await log.create('owner');
    if (created.kind !== 'created') throw new Error('not created');
    const taskUUID = randomUUID();
    await tasks.admit('owner', taskUUID, 'imageInference', { async: false, target: created.session, expected: 1 });
    const imageUUID = randomUUID();
    const frame = text(taskUUID, `http://x/${imageUUID}.png`);
    expect(await tasks.emitFinal('owner', taskUUID, 0, '{"item":{}}', frame, imageUUID)).toEqual({ kind: 'noImage' });
    expect((await tasks.get('owner', taskUUID))?.results).toEqual([]);
    expect(await log.read(created.session, 0, 10)).toEqual([]);
    await redis.hset(log.keys.image(imageUUID), 'o', 'owner');
    expect(await tasks.emitFinal('owner', taskUUID, 0, '{"item":{}}', frame, imageUUID)).toEqual({ kind: 'appended', seq: 1 });
    expect((await tasks.get('owner', taskUUID))?.results).toHaveLength(1);
  });

  it('under ack, a node writes each final from its wake-up without reading the log back', async () => {
    // A clock that never moves: no once-a-second re-read of busy sessions (the net for lost wake-ups) in the count.
    const server = await startTestServer({ redis: fixture.server.url, stepDelayMs: 0, clock: new FakeClock() });
    try {
      await redis.config('RESETSTAT');
      const { client } = await RawClient.authenticated(server.url, 'k', { extensions: ['ack'] });
      // The attachment reads what the session holds once; that read is not the task's.
      await expect.poll(() => calls(redis, 'xrange')).toBe(1);
      await redis.config('RESETSTAT');
      const task = inferenceTask({ numberResults: 3, outputType: 'URL' });
      client.send([task]);
      const finals = await client.waitForCount((f) => isFinal(f, task.taskUUID), 3, { timeoutMs: 15_000 });
      expect(finals.map((f) => f.seq)).toEqual([1, 2, 3]);
      expect(await calls(redis, 'xrange')).toBe(0);
      await client.close();
    } finally {
      await server.close();
    }
  });
  it('numbers carried finals from 1 when ack went on after the session had sent frames', async () => {
    const server = await startTestServer({ redis: fixture.server.url, stepDelayMs: 0, clock: new FakeClock() });
    try {
      const { client } = await RawClient.authenticated(server.url, 'k');
      const before = inferenceTask({ numberResults: 2, outputType: 'URL' });
      client.send([before]);
      await client.waitForCount((f) => isFinal(f, before.taskUUID), 2, { timeoutMs: 15_000 });
      await client.enableExtensions(['ack']);
      const first = inferenceTask({ numberResults: 1, outputType: 'URL' });
      client.send([first]);
      expect((await client.waitFor((f) => isFinal(f, first.taskUUID))).seq).toBe(1);
      await redis.config('RESETSTAT');
      const task = inferenceTask({ numberResults: 3, outputType: 'URL' });
      client.send([task]);
      const finals = await client.waitForCount((f) => isFinal(f, task.taskUUID), 3, { timeoutMs: 15_000 });
      // The log's entries 4..6 are the client's 2..4, also when the frame rides on the wake-up.
      expect(finals.map((f) => f.seq)).toEqual([2, 3, 4]);
      expect(await calls(redis, 'xrange')).toBe(0);
      await client.close();
    } finally {
      await server.close();
    }
  });
});

describe.runIf(redisAvailable())('a worker picking up a job whose task is not running', () => {
  it('runs nothing to the end: no frame, no image kept, the record untouched', async () => {
    const fixture = await startWorkerFixture();
    const node = fixture.nodeSide('stale:');
    const worker = await createWorker({ redis: fixture.server.url, engine: createProceduralEngine({ stepDelayMs: 0 }), keyPrefix: node.keyPrefix, logger: false, closeGraceMs: 200 });
    try {
      const owner = 'owner-s'.padEnd(32, '0');
      const session = await node.session(owner);
      const raw: ImageInferenceTask = { taskType: 'imageInference', taskUUID: randomUUID(), positivePrompt: 'a harbour', model: 'runware:101@1', width: 128, height: 128, steps: 2, numberResults: 2, seed: 7 };
      const task = normalizeImageInference(raw);
      // Never admitted (an admission taken back after its job was added): the job is a stale one.
      await node.queue.enqueue(encodeTaskJob({ owner, task, previews: false, storeFinals: true, publicUrl: 'http://node.test' }));
      await expect.poll(async () => node.queue.hasJob(owner, task.taskUUID), { timeout: 10_000 }).toBe(false);
      expect(await node.held(session)).toEqual([]);
      expect(await node.tasks.get(owner, task.taskUUID)).toBeUndefined();
      await expect.poll(async () => (await node.images.usage(owner)).owner).toBe(0);
    } finally {
      await worker.close();
      await fixture.close();
    }
  });
});
