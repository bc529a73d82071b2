// The worker's recovery against a real redis-server: a worker process killed with SIGKILL in the
// middle of a task (the built CLI, `imagewire worker`) hands it to another worker, which finishes
// it with each result index in the log exactly once; and a worker outlives a Redis restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralEngine } from '../../src/engine/index.js';
import { createWorker, type ClusterWorker } from '../../src/server/cluster/worker.js';
import { costOf } from '../../src/server/core/results.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { finalIndexes, startWorkerFixture, type NodeSide, type WorkerFixture } from './worker-fixture.js';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Starts `imagewire worker` and resolves once it printed its ready line. */
async function spawnWorker(redisUrl: string, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cli, 'worker', '--redis', redisUrl, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)));
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (/imagewire worker ready \(concurrency \d+\)/.test(stdout)) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`imagewire worker exited (${code ?? signal}): ${stderr}`)));
  });
  return child;
}

async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined && accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.runIf(redisAvailable())('cluster worker recovery', () => {
  let fixture: WorkerFixture;
  let node: NodeSide;
  const children: ChildProcess[] = [];
  const workers: ClusterWorker[] = [];
  beforeAll(async () => {
    fixture = await startWorkerFixture();
    // The CLI worker uses the default prefix.
    node = fixture.nodeSide('iw:');
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
  });
  afterAll(async () => fixture.close());

  it('finishes the task of a worker killed with SIGKILL on another worker, each index exactly once', async () => {
    const child = await spawnWorker(fixture.server.url, ['--step-delay', '40', '--concurrency', '1']);
    children.push(child);
    const owner = 'owner-kill'.padEnd(32, '0');
    const session = await node.session(owner);
    const taskUUID = randomUUID();
    await node.submit(owner, session, { taskUUID, numberResults: 4, steps: 8 });
    // Killed once at least one result is recorded and before the last.
    await until(() => node.held(session), (held) => finalIndexes(held).length >= 1, 20_000);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(finalIndexes(await node.held(session)).length).toBeLessThan(4);
    workers.push(await createWorker({ redis: fixture.server.url, engine: createProceduralEngine({ stepDelayMs: 0 }), logger: false }));
    // The lock (5 s) lapses, the stalled check (every 2 s) hands the job to the new worker.
    await until(() => node.tasks.get(owner, taskUUID), (record) => record?.state === 'success', 30_000);
    expect(finalIndexes(await node.held(session))).toEqual([0, 1, 2, 3]);
    // Usage counts each final once: the re-run's copies of the finals the killed worker counted add nothing.
    const usage = await fixture.command.hgetall(`iw:k:{${owner}}:use`);
    expect(usage.images).toBe('4');
    expect(Number(usage.cost)).toBeCloseTo(4 * costOf(128, 128, 8), 12);
  });

  it('reconnects by itself after Redis is killed and restarted, and runs a task enqueued after', async () => {
    workers.push(await createWorker({ redis: fixture.server.url, engine: createProceduralEngine({ stepDelayMs: 0 }), logger: false }));
    const owner = 'owner-restart'.padEnd(32, '0');
    await fixture.server.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fixture.server.restart();
    const session = await until(() => node.session(owner), () => true, 20_000);
    const taskUUID = randomUUID();
    await until(async () => (await node.submit(owner, session, { taskUUID, numberResults: 2 }), true), () => true, 20_000);
    await until(() => node.tasks.get(owner, taskUUID), (record) => record?.state === 'success', 30_000);
    expect(finalIndexes(await node.held(session))).toEqual([0, 1]);
  });

  it('runs a task again when its writes failed because Redis was away, instead of failing it', async () => {
    const gate = createGateEngine();
    workers.push(await createWorker({ redis: fixture.server.url, engine: gate, logger: false }));
    const owner = 'owner-outage'.padEnd(32, '0');
    const session = await node.session(owner);
    const taskUUID = randomUUID();
    await node.submit(owner, session, { taskUUID, numberResults: 2 });
    await gate.waiting(1);
    await fixture.server.kill('SIGKILL');
    // The first final is written while Redis is down: the write fails, the run stops, the job fails an attempt.
    gate.openAll();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fixture.server.restart();
    await until(() => node.tasks.get(owner, taskUUID), (record) => record?.state !== 'running', 30_000);
    expect((await node.tasks.get(owner, taskUUID))?.state).toBe('success');
    expect(finalIndexes(await node.held(session))).toEqual([0, 1]);
    // It ran twice: the first run was stopped by the outage.
    expect(gate.signals.length).toBe(2);
  });
});
