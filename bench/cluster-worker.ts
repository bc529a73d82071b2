// The cluster worker: queue pickup latency (from the enqueue, after admission, to the engine starting the task) and tasks per
// second with one and two workers (procedural engine, 128×128, 4 steps, no step delay), and the time
// from a worker's SIGKILL to its task running again on another worker and to the task's end.
// Runs its own redis-server (unix socket, AOF fsync always); the crash row needs `npm run build`.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createProceduralEngine, type Engine } from '../src/engine/index.js';
import { createWorker, type ClusterWorker } from '../src/server/cluster/worker.js';
import { finalIndexes, startWorkerFixture, type NodeSide } from '../test/cluster/worker-fixture.js';
import { emitRows, note, percentile, quick, type Row } from './lib/report.js';

const fixture = await startWorkerFixture();
let prefixes = 0;

/** The engine, noting when each task starts on it. */
function timed(engine: Engine, starts: Map<string, number>): Engine {
  return { ...engine, generate: (request, options) => (starts.set(request.taskUUID, performance.now()), engine.generate(request, options)) };
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function startWorkers(count: number, keyPrefix: string, starts: Map<string, number>): Promise<ClusterWorker[]> {
  const workers: ClusterWorker[] = [];
  for (let i = 0; i < count; i++) workers.push(await createWorker({ redis: fixture.server.url, engine: timed(createProceduralEngine({ stepDelayMs: 0 }), starts), keyPrefix, concurrency: 4, logger: false }));
  return workers;
}

/** One task at a time: enqueue → engine start, per task. */
async function pickup(node: NodeSide, rounds: number, starts: Map<string, number>): Promise<number[]> {
  const owner = 'bench-pickup'.padEnd(32, '0');
  const session = await node.session(owner);
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const taskUUID = randomUUID();
    let sent = 0;
    await node.submit(owner, session, { taskUUID, width: 128, height: 128, steps: 4 }, () => (sent = performance.now()));
    await until(async () => starts.has(taskUUID), 10_000);
    out.push((starts.get(taskUUID) ?? sent) - sent);
    await until(async () => (await node.tasks.get(owner, taskUUID))?.state === 'success', 10_000);
  }
  await node.log.discard(session);
  return out;
}

/** `count` tasks enqueued at once; tasks per second until the last ends. */
async function throughput(node: NodeSide, count: number): Promise<number> {
  const owner = 'bench-rate'.padEnd(32, '0');
  const session = await node.session(owner);
  const uuids = Array.from({ length: count }, () => randomUUID());
  const start = performance.now();
  for (const taskUUID of uuids) await node.submit(owner, session, { taskUUID, width: 128, height: 128, steps: 4 });
  await until(async () => finalIndexes(await node.held(session)).length === count, 120_000);
  const seconds = (performance.now() - start) / 1000;
  await node.log.discard(session);
  return count / seconds;
}

async function workerRows(count: number): Promise<Row[]> {
  const node = fixture.nodeSide(`bw${++prefixes}:`);
  const starts = new Map<string, number>();
  const workers = await startWorkers(count, node.keyPrefix, starts);
  try {
    await pickup(node, 5, starts);
    const latencies = await pickup(node, quick ? 20 : 200, starts);
    const rate = await throughput(node, quick ? 40 : 300);
    const label = `${count} worker${count === 1 ? '' : 's'}`;
    note(`${label}: pickup p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms; ${rate.toFixed(1)} tasks/s`);
    return [
      { benchmark: `cluster worker: queue pickup, ${label}, p50`, imagewire: `${percentile(latencies, 50).toFixed(2)} ms`, baseline: '', ratio: '', target: '≤ 10 ms' },
      { benchmark: `cluster worker: queue pickup, ${label}, p99`, imagewire: `${percentile(latencies, 99).toFixed(2)} ms`, baseline: '', ratio: '', target: '' },
      { benchmark: `cluster worker: tasks/s, ${label} (128×128, 4 steps)`, imagewire: `${rate.toFixed(1)}`, baseline: '', ratio: '', target: '' },
    ];
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
}

/** SIGKILL of a CLI worker running a task → the task starts again on another worker, and ends. */
async function crashRows(): Promise<Row[]> {
  // Run from the repository's root (bench/run.mjs compiles this file elsewhere).
  const cli = join(process.cwd(), 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) {
    note('worker crash: skipped (run npm run build first)');
    return [];
  }
  const node = fixture.nodeSide('iw:');
  const child = spawn(process.execPath, [cli, 'worker', '--redis', fixture.server.url, '--step-delay', '50', '--concurrency', '1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));
  const starts = new Map<string, number>();
  const owner = 'bench-crash'.padEnd(32, '0');
  const session = await node.session(owner);
  const taskUUID = randomUUID();
  let survivor: ClusterWorker | undefined;
  try {
    await node.submit(owner, session, { taskUUID, width: 128, height: 128, steps: 20, numberResults: 2 });
    // Running on the child once its progress shows; only then does the other worker start.
    await until(async () => ((await node.tasks.get(owner, taskUUID))?.progress ?? 0) > 0, 10_000);
    [survivor] = await startWorkers(1, 'iw:', starts);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    const killed = performance.now();
    await exited;
    await until(async () => starts.has(taskUUID), 30_000);
    const rerun = (starts.get(taskUUID) ?? killed) - killed;
    await until(async () => (await node.tasks.get(owner, taskUUID))?.state === 'success', 30_000);
    const done = performance.now() - killed;
    note(`worker crash: running again after ${(rerun / 1000).toFixed(2)} s, done after ${(done / 1000).toFixed(2)} s; indexes ${JSON.stringify(finalIndexes(await node.held(session)))}`);
    return [
      { benchmark: 'cluster worker: SIGKILL → task running on another worker', imagewire: `${(rerun / 1000).toFixed(2)} s`, baseline: '', ratio: '', target: '≤ 7 s' },
      { benchmark: 'cluster worker: SIGKILL → task done (2 images, 20 steps)', imagewire: `${(done / 1000).toFixed(2)} s`, baseline: '', ratio: '', target: '' },
    ];
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await survivor?.close();
  }
}

try {
  const rows: Row[] = [];
  rows.push(...(await workerRows(1)));
  rows.push(...(await workerRows(2)));
  rows.push(...(await crashRows()));
  emitRows(rows);
} finally {
  await fixture.close();
}
