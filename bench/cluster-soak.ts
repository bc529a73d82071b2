// A longer chaos run of cluster mode than CI affords: two clients (ack, and without ack relying on
// getResponse) through the balancer while sockets drop and nodes, workers and Redis are killed at
// random; bounded by a task count and a time, it prints what was lost, duplicated or hung.
// Usage: node bench/run.mjs cluster-soak [--tasks N] [--seconds S]
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
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Tally {
  tasks: number;
  finals: number;
  lost: number;
  duplicated: number;
  failed: Map<string, number>;
}

async function one(client: ImagewireClient, wanted: number, tally: Tally): Promise<void> {
  tally.tasks++;
  const indexes = new Map<number, number>();
  try {
    const task = client.imageInference({ positivePrompt: 'a lighthouse at dusk', model: 'runware:101@1', width: 128, height: 128, steps: 8, numberResults: wanted });
    for await (const event of task) if (event.type === 'final') indexes.set(event.index, (indexes.get(event.index) ?? 0) + 1);
  } catch (error) {
    const code = error instanceof ImagewireError ? error.code : 'other';
    tally.failed.set(code, (tally.failed.get(code) ?? 0) + 1);
  }
  for (const count of indexes.values()) if (count > 1) tally.duplicated += count - 1;
  tally.finals += indexes.size;
  tally.lost += wanted - indexes.size;
}

async function fault(cluster: Cluster, random: () => number, counts: Map<string, number>): Promise<void> {
  const pick = random();
  const count = (name: string): void => void counts.set(name, (counts.get(name) ?? 0) + 1);
  if (pick < 0.55) {
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
    await cluster.killRedis('SIGKILL');
    await sleep(500 + random() * 1_500);
    await cluster.restartRedis();
    count('redis kills');
  }
}

const cluster = await startCluster({ nodes: 3, workers: 2, stepDelayMs: 4, concurrency: 2 });
const random = mulberry32(2016);
const counts = new Map<string, number>();
const tallies = new Map<string, Tally>();
const started = performance.now();
const endAt = started + SECONDS * 1000;
try {
  const clients = [true, false].map((ack) => ({
    name: ack ? 'ack' : 'without ack',
    client: createClient({ apiKey: `soak-${String(ack)}`, url: cluster.url, extensions: { ack, binaryResults: ack }, reconnect: { initialDelayMs: 10, maxDelayMs: 500 }, taskTimeoutMs: 120_000, networkEvents: false }),
  }));
  let submitted = 0;
  const feeders = clients.flatMap(({ name, client }) => {
    const tally: Tally = { tasks: 0, finals: 0, lost: 0, duplicated: 0, failed: new Map() };
    tallies.set(name, tally);
    return Array.from({ length: 8 }, async () => {
      while (submitted < TASKS && performance.now() < endAt) {
        submitted++;
        await one(client, 1 + Math.floor(random() * 3), tally);
      }
    });
  });
  let running = true;
  const chaos = (async () => {
    while (running) {
      await sleep(300 + random() * 1_200);
      if (running) await fault(cluster, random, counts);
    }
  })();
  await Promise.all(feeders);
  running = false;
  await chaos;
  for (const { client } of clients) await client.close();
} finally {
  await cluster.close();
}
const seconds = (performance.now() - started) / 1000;
const faults = [...counts].map(([name, n]) => `${n} ${name}`).join(', ');
note(`soak: ${seconds.toFixed(0)} s, faults: ${faults}`);
const rows: Row[] = [...tallies].map(([name, t]) => ({
  benchmark: `cluster soak, ${name}: ${t.tasks} tasks, ${t.finals} finals over ${seconds.toFixed(0)} s (${faults})`,
  imagewire: `${t.lost} lost, ${t.duplicated} duplicated; failed: ${[...t.failed].map(([code, n]) => `${n} ${code}`).join(', ') || 'none'}`,
  baseline: '',
  ratio: '',
  target: '0 lost, 0 duplicated; only serviceUnavailable while Redis is down',
}));
emitRows(rows);
