// The cluster worker against a real redis-server: a task enqueued by hand (as a node would) is run
// and its finals land in the target session's log once each, in index order, with their images; a
// re-run drops what was recorded; a cancel stops the running job; previews reach the node's channel.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralEngine, type Engine } from '../../src/engine/index.js';
import { parseNodeMessage, type NodeMessage } from '../../src/server/cluster/session-log.js';
import { createWorker, type ClusterWorker } from '../../src/server/cluster/worker.js';
import { decodeStoredResult } from '../../src/server/cluster/result-codec.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { eventually } from '../helpers/eventually.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { finalIndexes, startWorkerFixture, type NodeSide, type WorkerFixture } from './worker-fixture.js';

let prefixes = 0;

describe.runIf(redisAvailable())('cluster worker', () => {
  let fixture: WorkerFixture;
  const workers: ClusterWorker[] = [];
  beforeAll(async () => {
    fixture = await startWorkerFixture();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
  });
  afterAll(async () => fixture.close());

  async function start(engine: Engine, keyPrefix: string, concurrency = 2): Promise<ClusterWorker> {
    const worker = await createWorker({ redis: fixture.server.url, engine, keyPrefix, concurrency, logger: false, closeGraceMs: 200 });
    workers.push(worker);
    return worker;
  }

  function side(): NodeSide {
    return fixture.nodeSide(`w${++prefixes}:`);
  }

  async function ended(node: NodeSide, owner: string, taskUUID: string): Promise<string> {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      const state = (await node.tasks.get(owner, taskUUID))?.state;
      if (state !== undefined && state !== 'running') return state;
    }
    throw new Error('the task did not end');
  }

  it('runs an enqueued task: each final once, in index order, its image in the image store, the task a success', async () => {
    const node = side();
    await start(createProceduralEngine({ stepDelayMs: 0 }), node.keyPrefix);
    const owner = 'owner-a'.padEnd(32, '0');
    const session = await node.session(owner);
    const taskUUID = randomUUID();
    await node.submit(owner, session, { taskUUID, numberResults: 4 });
    expect(await ended(node, owner, taskUUID)).toBe('success');
    const held = await node.held(session);
    expect(finalIndexes(held)).toEqual([0, 1, 2, 3]);
    for (const { frame } of held) {
      if (frame.kind !== 'data') throw new Error(`unexpected ${frame.kind} frame`);
      const item = frame.items[0];
      expect(item?.imageURL).toBe(`http://node.test/images/${String(item?.imageUUID)}.jpg`);
      const image = await node.images.get(String(item?.imageUUID));
      expect(image?.owner).toBe(owner);
      expect(image?.bytes.byteLength).toBeGreaterThan(100);
    }
    const record = await node.tasks.get(owner, taskUUID);
    expect(record?.results.map((r) => decodeStoredResult(r.json).item.index)).toEqual([0, 1, 2, 3]);
  });

  it('drops a re-run final for an index already recorded, and its image', async () => {
    const node = side();
    const owner = 'owner-b'.padEnd(32, '0');
    const session = await node.session(owner);
    const taskUUID = randomUUID();
    await node.submit(owner, session, { taskUUID, numberResults: 3 });
    // A worker that crashed after recording index 0 (and sending it) left this behind.
    const earlier = { kind: 'data', items: [{ taskType: 'imageInference', taskUUID, imageUUID: 'earlier', index: 0 }] } as const;
    expect((await node.tasks.emitFinal(owner, taskUUID, 0, JSON.stringify({ item: earlier.items[0] }), { kind: 'data', items: [...earlier.items] })).kind).toBe('appended');
    await start(createProceduralEngine({ stepDelayMs: 0 }), node.keyPrefix);
    expect(await ended(node, owner, taskUUID)).toBe('success');
    const held = await node.held(session);
    expect(finalIndexes(held)).toEqual([0, 1, 2]);
    expect(held[0]?.frame.kind === 'data' && held[0].frame.items[0]?.imageUUID).toBe('earlier');
    // Only the images of the finals sent are kept: the re-run's index-0 image was deleted.
    expect((await node.images.usage(owner)).owner).toBe(
      (await Promise.all(held.slice(1).map(async ({ frame }) => (frame.kind === 'data' ? ((await node.images.get(String(frame.items[0]?.imageUUID)))?.bytes.byteLength ?? 0) : 0)))).reduce((a, b) => a + b, 0),
    );
  });

  it('stops a running job when the task is cancelled, and appends nothing after the cancel frame', async () => {
    const node = side();
    const gate = createGateEngine();
    await start(gate, node.keyPrefix);
    const owner = 'owner-c'.padEnd(32, '0');
    const session = await node.session(owner);
    const taskUUID = randomUUID();
    await node.submit(owner, session, { taskUUID, numberResults: 3 });
    await gate.waiting(1);
    gate.open(1);
    for (let i = 0; i < 500 && finalIndexes(await node.held(session)).length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    const errors = [{ code: 'taskCancelled', message: 'the task was cancelled', taskType: 'imageInference', taskUUID }];
    expect(await node.tasks.cancel(owner, taskUUID, { errors: JSON.stringify(errors), frame: { kind: 'errors', errors } })).toBe(true);
    await gate.aborted(0);
    gate.openAll();
    await new Promise((r) => setTimeout(r, 300));
    const held = await node.held(session);
    expect(finalIndexes(held)).toEqual([0]);
    expect(held.at(-1)?.frame.kind).toBe('errors');
    expect((await node.tasks.get(owner, taskUUID))?.state).toBe('cancelled');
  });

  it('publishes previews to the node the session is attached to, as p messages', async () => {
    const node = side();
    await start(createProceduralEngine({ stepDelayMs: 5 }), node.keyPrefix);
    const owner = 'owner-d'.padEnd(32, '0');
    const nodeId = `node-${randomUUID()}`;
    const session = await node.session(owner, nodeId);
    const listener = fixture.connections.create('subscriber');
    const heard: NodeMessage[] = [];
    listener.on('message', (_channel: string, message: string) => {
      const parsed = parseNodeMessage(message);
      if (parsed?.kind === 'preview') heard.push(parsed);
    });
    await listener.subscribe(`${node.keyPrefix}n:${nodeId}`);
    const taskUUID = randomUUID();
    await node.submit(owner, session, { taskUUID, steps: 8, previews: { count: 4 } } as never);
    expect(await ended(node, owner, taskUUID)).toBe('success');
    await eventually(() => heard.length, (n) => n > 0);
    const first = heard[0];
    expect(first?.session).toBe(session);
    expect(first?.kind === 'preview' && first.frame.kind === 'data' && first.frame.items[0]?.preview).toBe(true);
    await listener.unsubscribe();
  });

  it('re-runs a task with a fixed seed to the same images (the procedural engine is deterministic)', async () => {
    const engine = createProceduralEngine({ stepDelayMs: 0 });
    const request = { taskUUID: randomUUID(), model: 'runware:101@1', positivePrompt: 'a red fox in snow', width: 128, height: 128, steps: 4, CFGScale: 7, seed: 1234, numberResults: 2, strength: 0.8, outputFormat: 'PNG', outputQuality: 95, maxInputPixels: 1 << 22 } as const;
    const finals = async (): Promise<string[]> => {
      const out: string[] = [];
      for await (const event of engine.generate({ ...request }, { signal: new AbortController().signal })) if (event.kind === 'final') out.push(Buffer.from(event.image ?? []).toString('base64'));
      return out;
    };
    expect(await finals()).toEqual(await finals());
  });
});
