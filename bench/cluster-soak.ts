// A longer chaos run of cluster mode than CI affords: two clients (ack, and without ack relying on
// getResponse) through the balancer while sockets drop and nodes, workers and Redis are killed at
// random (Redis at least every --redis-every seconds); bounded by a task count and a time, it prints
// what was lost, duplicated or hung, tasks left running, and the memory of Redis and every process.
// Usage: node bench/run.mjs cluster-soak [--tasks N] [--seconds S] [--redis-every S]
import { readFileSync } from 'node:fs';
import { mulberry32 } from '../src/engine/procedural/random.js';
import { createClient, ImagewireError, type ImagewireClient } from '../src/index.js';
import { startCluster, type Cluster } from '../test/helpers/cluster.js';
import { emitRows, note, type Row } from './lib/report.js';

const flag = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : Number.NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const TASKS = flag('--tasks', 3_000);
const SECONDS = flag('--seconds', 300);
/** A Redis SIGKILL and restart at least this often, whatever the random faults picked. */
const REDIS_EVERY_S = flag('--redis-every', 60);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Tally {
  tasks: number;
  finals: number;
  /** Finals missing from tasks that ended without an error: a silent loss. */
  lost: number;
  /** Finals missing from tasks that ended with an error (refused while Redis was down, taskLost, ...). */
  missingOnError: number;
  duplicated: number;
  /** Tasks that never settled on their own: the client's task timeout ended them. */
  hung: number;
  failed: Map<string, number>;
}

async function one(client: ImagewireClient, wanted: number, tally: Tally): Promise<void> {
  tally.tasks++;
  const indexes = new Map<number, number>();
  let failed = false;
  try {
    const task = client.imageInference({ positivePrompt: 'a lighthouse at dusk', model: 'runware:101@1', width: 128, height: 128, steps: 8, numberResults: wanted });
    for await (const event of task) if (event.type === 'final') indexes.set(event.index, (indexes.get(event.index) ?? 0) + 1);
  } catch (error) {
    failed = true;
    const code = error instanceof ImagewireError ? error.code : 'other';
    tally.failed.set(code, (tally.failed.get(code) ?? 0) + 1);
    if (code === 'taskTimeout') tally.hung++;
  }
  for (const count of indexes.values()) if (count > 1) tally.duplicated += count - 1;
  tally.finals += indexes.size;
  if (failed) tally.missingOnError += wanted - indexes.size;
  else tally.lost += wanted - indexes.size;
}

async function redisFault(cluster: Cluster, random: () => number, count: (name: string) => void): Promise<void> {
  await cluster.killRedis('SIGKILL');
  await sleep(500 + random() * 1_500);
  await cluster.restartRedis();
  count('redis kills');
}

async function fault(cluster: Cluster, random: () => number, counts: Map<string, number>, redisDue: boolean): Promise<void> {
  const pick = random();
  const count = (name: string): void => void counts.set(name, (counts.get(name) ?? 0) + 1);
  if (redisDue) {
    await redisFault(cluster, random, count);
  } else if (pick < 0.55) {
    cluster.balancer.dropAll();
    count('drops');
  } else if (pick < 0.8) {
    const index = Math.floor(random() * cluster.nodes.length);
    await cluster.killNode(index, random() < 0.7 ? 'SIGKILL' : 'SIGTERM');
    await sleep(random() * 500);
    await cluster.restartNode(index);
    count('node kills');
  } else if (pick < 0.97) {
    const index = Math.floor(random() * 2);
    await cluster.killWorker(index, 'SIGKILL');
    await sleep(random() * 1_000);
    await cluster.restartWorker(index);
    count('worker kills');
  } else {
    await redisFault(cluster, random, count);
  }
}

/** Resident memory of a process in MiB (Linux), or NaN. */
function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return kib === undefined ? Number.NaN : Number(kib) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Redis's used memory (MiB) and key count. */
async function redisMemory(cluster: Cluster): Promise<string> {
  const info = await cluster.command.info('memory');
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN) / 2 ** 20;
  return `Redis ${used.toFixed(1)} MiB, ${await cluster.command.dbsize()} keys`;
}

const cluster = await startCluster({ nodes: 3, workers: 2, stepDelayMs: 4, concurrency: 2 });
const random = mulberry32(2016);
const counts = new Map<string, number>();
const tallies = new Map<string, Tally>();
const started = performance.now();
const endAt = started + SECONDS * 1000;
const memory: string[] = [`at start: ${await redisMemory(cluster)}`];
let leftRunning = 0;
/** What the nodes logged of orphaned tasks (read before the cluster closes). */
const recoveries: string[] = [];
try {
  const clients = [true, false].map((ack) => ({
    name: ack ? 'ack' : 'without ack',
    client: createClient({ apiKey: `soak-${String(ack)}`, url: cluster.url, extensions: { ack, binaryResults: ack }, reconnect: { initialDelayMs: 10, maxDelayMs: 500 }, taskTimeoutMs: 120_000, networkEvents: false }),
  }));
  let submitted = 0;
  const feeders = clients.flatMap(({ name, client }) => {
    const tally: Tally = { tasks: 0, finals: 0, lost: 0, missingOnError: 0, duplicated: 0, hung: 0, failed: new Map() };
    tallies.set(name, tally);
    return Array.from({ length: 8 }, async () => {
      while (submitted < TASKS && performance.now() < endAt) {
        submitted++;
        await one(client, 1 + Math.floor(random() * 3), tally);
      }
    });
  });
  let running = true;
  let lastRedisKill = performance.now();
  const chaos = (async () => {
    while (running) {
      await sleep(300 + random() * 1_200);
      const redisDue = performance.now() - lastRedisKill > REDIS_EVERY_S * 1000;
      if (redisDue) lastRedisKill = performance.now();
      if (running) await fault(cluster, random, counts, redisDue);
    }
  })();
  await Promise.all(feeders);
  running = false;
  await chaos;
  for (const { client } of clients) await client.close();
  // Every task admitted has ended (nothing is left in the index of running tasks), within 30 s.
  for (const deadline = performance.now() + 30_000; performance.now() < deadline; await sleep(250)) {
    leftRunning = await cluster.command.zcard('iw:tr');
    if (leftRunning === 0) break;
  }
  const processes = [...cluster.nodes.map((slot) => [`node ${slot.index}`, slot.server?.pid] as const), ...cluster.workerPids().map((pid, i) => [`worker ${i}`, pid] as const)];
  const logged = cluster.stderr();
  recoveries.push(`${logged.split('orphaned tasks queued again').length - 1} orphan re-queue batches, ${logged.split('an orphaned task ended as lost').length - 1} tasks ended as lost`);
  memory.push(`at the end: ${await redisMemory(cluster)}; RSS ${processes.map(([name, pid]) => `${name} ${pid === undefined ? '-' : rssMiB(pid).toFixed(0)} MiB`).join(', ')}; this process ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
} finally {
  await cluster.close();
}
const seconds = (performance.now() - started) / 1000;
const faults = [...counts].map(([name, n]) => `${n} ${name}`).join(', ');
note(`soak: ${seconds.toFixed(0)} s, faults: ${faults}`);
note(`memory ${memory.join('; ')}`);
note(`tasks still running 30 s after the end: ${leftRunning}; nodes logged ${recoveries.join('') || 'nothing'}`);
const rows: Row[] = [...tallies].map(([name, t]) => ({
  benchmark: `cluster soak, ${name}: ${t.tasks} tasks, ${t.finals} finals over ${seconds.toFixed(0)} s (${faults})`,
  imagewire: `${t.lost} lost, ${t.duplicated} duplicated, ${t.hung} hung; failed: ${[...t.failed].map(([code, n]) => `${n} ${code}`).join(', ') || 'none'} (${t.missingOnError} finals of failed tasks)`,
  baseline: '',
  ratio: '',
  target: '0 lost, 0 duplicated; only serviceUnavailable while Redis is down',
}));
emitRows(rows);
