// Cluster mode end to end, with real processes: resume on another node after a drop (time to the
// first replayed result, decoded as the library client decodes it), the latency cluster mode adds
// per task, tasks per second with 1 and 2 workers, how long a killed worker's task waits before another worker runs it, and Redis memory.
import { Job } from 'bullmq';
import { WebSocket } from 'ws';
import { decodeInbound } from '../src/client/socket/inbound.js';
import { createClient, type ImagewireClient } from '../src/index.js';
import { createWorker } from '../src/server/index.js';
import { startChildServer, type ChildServer } from '../test/helpers/child-server.js';
import { startCluster, type Cluster } from '../test/helpers/cluster.js';
import { finalItem, RawClient, type Received } from '../test/helpers/raw-client.js';
import { fixedImageEngine, randomImage, TINY_PNG } from './lib/engines.js';
import { emitRows, median, note, percentile, quick, ratio, type Row } from './lib/report.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (value: number): string => `${value.toFixed(2)} ms`;
const small = { positivePrompt: 'a red fox in the snow', model: 'runware:101@1', width: 128, height: 128, steps: 1 } as const;

/** Resume after a drop, through the balancer, on another node: from the new connection's start to the first replayed final. */
async function replay(label: string, image: Uint8Array, outputType: 'URL' | 'base64Data', binary: boolean, rounds: number): Promise<Row[]> {
  const cluster = await startCluster({ nodes: 3, workers: 0 });
  const worker = await createWorker({ redis: cluster.redis.url, engine: fixedImageEngine(image) });
  const samples: number[] = [];
  /** From the new connection's start to the authentication's answer: the part every resume pays. */
  const toAuth: number[] = [];
  let otherNode = 0;
  const extensions = binary ? ['ack', 'binaryResults'] : ['ack'];
  try {
    for (let round = 0; round < rounds; round++) {
      const first = await RawClient.connect(cluster.url);
      const auth = await first.authenticate('bench');
      await first.enableExtensions(extensions);
      const taskUUID = crypto.randomUUID();
      first.send([{ taskType: 'imageInference', taskUUID, ...small, numberResults: 1, outputType }]);
      const held = await first.waitFor((f) => isFinalOf(f, taskUUID), { timeoutMs: 30_000 });
      const from = cluster.balancer.routed.at(-1);
      // Cut without acknowledging: the final stays held in the session's log.
      first.terminate();
      await first.closed;
      const start = performance.now();
      const again = await resumeAsLibraryClient(cluster.url, String(auth.connectionSessionUUID), taskUUID);
      samples.push(performance.now() - start);
      toAuth.push(again.authAt - start);
      if (cluster.balancer.routed.at(-1) !== from) otherNode++;
      if (again.seq !== held.seq) throw new Error(`replayed under seq ${again.seq}, sent under ${held.seq}`);
      again.socket.close();
    }
  } finally {
    await worker.close();
    await cluster.close();
  }
  note(`replay ${label}: p50 ${ms(median(samples))}, p99 ${ms(percentile(samples, 99))}, ${otherNode}/${rounds} on another node; of it, connecting and authenticating p50 ${ms(median(toAuth))}`);
  return [
    { benchmark: `cluster: drop → first replayed result on another node, ${label}, p50 (${rounds} resumes)`, imagewire: ms(median(samples)), baseline: '', ratio: '', target: '≤ 10 ms' },
    { benchmark: `cluster: drop → first replayed result on another node, ${label}, p99`, imagewire: ms(percentile(samples, 99)), baseline: '', ratio: '', target: '≤ 50 ms' },
  ];
}

/**
 * Opens a socket, resumes `session` and waits for the final of `taskUUID`, reading every message
 * as the library client does in Node (`ws` with binaryType "arraybuffer", its inbound decoder), so
 * the time includes what a user's client pays to decode a large result.
 */
async function resumeAsLibraryClient(url: string, session: string, taskUUID: string): Promise<{ seq: number | undefined; socket: WebSocket; authAt: number }> {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  let authAt = Number.NaN;
  socket.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no replayed final within 30 s')), 30_000);
    socket.addEventListener('open', () => socket.send(JSON.stringify([{ taskType: 'authentication', apiKey: 'bench', connectionSessionUUID: session }])));
    socket.addEventListener('error', (event) => reject(new Error(`socket error: ${event.message}`)));
    socket.addEventListener('message', (event) => {
      const inbound = decodeInbound(event.data);
      if (inbound.kind === 'frame' && inbound.data[0]?.taskType === 'authentication') authAt = performance.now();
      if (inbound.kind === 'invalid') reject(new Error(`undecodable frame: ${inbound.reason}`));
      const final = inbound.kind === 'binary' ? inbound.header.taskUUID === taskUUID : inbound.kind === 'frame' && inbound.data.some((item) => item.taskUUID === taskUUID && item.imageUUID !== undefined && item.status === undefined);
      if (!final || inbound.kind === 'invalid') return;
      clearTimeout(timer);
      resolve({ seq: inbound.seq, socket, authAt });
    });
  });
}

function isFinalOf(frame: Received, taskUUID: string): boolean {
  if (frame.kind === 'binary') return frame.header.taskUUID === taskUUID;
  const item = frame.data[0];
  return item?.taskUUID === taskUUID && typeof item.imageUUID === 'string' && item.status === undefined && finalItem(frame).imageUUID !== undefined;
}

/** Sequential round trips of one small task, p50 and the samples. */
async function sequential(url: string, count: number): Promise<number[]> {
  const client: ImagewireClient = createClient({ apiKey: 'bench', url, networkEvents: false });
  await client.connect();
  const samples: number[] = [];
  try {
    for (let i = 0; i < count + 10; i++) {
      const start = performance.now();
      await client.imageInference({ ...small, numberResults: 1, outputType: 'URL' }).result();
      if (i >= 10) samples.push(performance.now() - start);
    }
  } finally {
    await client.close();
  }
  return samples;
}

/** In-process mode (one `serve`, its own engine) against cluster mode (`serve --redis --no-engine` + one `worker`), same procedural engine. */
async function addedLatency(count: number): Promise<Row[]> {
  const single: ChildServer = await startChildServer(['--no-page', '--step-delay', '0']);
  const alone = await sequential(single.url, count).finally(() => single.close());
  // One node without an engine and one worker; the client talks to the node itself, not through the balancer.
  const cluster = await startCluster({ nodes: 1, workers: 1, stepDelayMs: 0 });
  let clustered: number[];
  try {
    clustered = await sequential(cluster.nodes[0]?.server?.url ?? '', count);
  } finally {
    await cluster.close();
  }
  const added = median(clustered) - median(alone);
  note(`added latency: ${ms(median(clustered))} clustered against ${ms(median(alone))} in-process (p99 ${ms(percentile(clustered, 99))} / ${ms(percentile(alone, 99))})`);
  return [
    { benchmark: `cluster: one task round trip p50, node + worker + Redis (${count} sequential)`, imagewire: ms(median(clustered)), baseline: `${ms(median(alone))} in-process`, ratio: ratio(median(clustered) / median(alone)), target: '' },
    { benchmark: 'cluster: latency added per task by cluster mode, p50', imagewire: ms(added), baseline: '', ratio: '', target: '≤ 10 ms' },
  ];
}

/** Tasks per second through one node with `workers` worker processes, 32 tasks in flight. */
async function throughput(workers: number, count: number): Promise<number> {
  const cluster = await startCluster({ nodes: 1, workers, stepDelayMs: 0, concurrency: 4 });
  const client = createClient({ apiKey: 'bench', url: cluster.url, maxInFlight: 32, maxWaiting: 100_000, networkEvents: false });
  try {
    await client.connect();
    const start = performance.now();
    await Promise.all(Array.from({ length: count }, () => client.imageInference({ ...small, numberResults: 1, outputType: 'URL' }).result()));
    return count / ((performance.now() - start) / 1000);
  } finally {
    await client.close();
    await cluster.close();
  }
}

/** A worker SIGKILLed while it runs a task: seconds until another worker starts it again. */
async function rerunAfterCrash(rounds: number): Promise<number[]> {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const cluster = await startCluster({ nodes: 1, workers: 1, stepDelayMs: 20 });
    const client = createClient({ apiKey: 'bench', url: cluster.url, networkEvents: false, taskTimeoutMs: 120_000 });
    try {
      await client.connect();
      const task = client.imageInference({ ...small, steps: 100, numberResults: 1, outputType: 'URL' });
      const done = task.result();
      const job = await activeJob(cluster, 10_000);
      const startedBefore = job.attemptsStarted;
      await cluster.addWorker();
      const killedAt = performance.now();
      await cluster.killWorker(0, 'SIGKILL');
      for (;;) {
        const now = await Job.fromId(cluster.queue, job.id ?? '');
        if (now !== undefined && now.attemptsStarted > startedBefore && (await now.getState()) === 'active') break;
        if (performance.now() - killedAt > 60_000) throw new Error('the task was not run again within 60 s');
        await sleep(20);
      }
      samples.push((performance.now() - killedAt) / 1000);
      await done;
    } finally {
      await client.close();
      await cluster.close();
    }
  }
  return samples;
}

async function activeJob(cluster: Cluster, timeoutMs: number): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [job] = await cluster.queue.getActive();
    if (job !== undefined) return job;
    if (Date.now() > deadline) throw new Error('no active job');
    await sleep(10);
  }
}

/** Bytes of every key matching `pattern` (MEMORY USAGE, all samples). */
async function keyBytes(cluster: Cluster, pattern: string): Promise<number> {
  let sum = 0;
  let cursor = '0';
  do {
    const [next, keys] = await cluster.command.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) sum += Number(await cluster.command.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  } while (cursor !== '0');
  return sum;
}

/** Redis memory of idle sessions (authenticated, then left) and of retained finished tasks, through a real node. */
async function memory(count: number): Promise<Row[]> {
  const cluster = await startCluster({ nodes: 1, workers: 1, stepDelayMs: 0 });
  try {
    const before = await keyBytes(cluster, 'iw:*');
    for (let i = 0; i < count; i++) {
      const socket = await RawClient.connect(cluster.url);
      await socket.authenticate(`bench-${i % 10}`);
      await socket.close();
    }
    const perSession = ((await keyBytes(cluster, 'iw:*')) - before) / count;
    const beforeTasks = await keyBytes(cluster, 'iw:*');
    const client = createClient({ apiKey: 'bench-tasks', url: cluster.url, maxInFlight: 32, networkEvents: false });
    await client.connect();
    await Promise.all(Array.from({ length: count }, () => client.imageInference({ ...small, numberResults: 1, outputType: 'URL' }).result()));
    await client.close();
    await sleep(500);
    const perTask = ((await keyBytes(cluster, 'iw:*')) - beforeTasks) / count;
    const records = (await keyBytes(cluster, 'iw:t:*')) / count;
    note(`memory: ${perSession.toFixed(0)} B per idle session, ${perTask.toFixed(0)} B per retained task with its 128x128 image, ${records.toFixed(0)} B of it the record`);
    return [
      { benchmark: `cluster: Redis memory per idle session (${count}, through a node)`, imagewire: `${perSession.toFixed(0)} B`, baseline: '', ratio: '', target: '' },
      { benchmark: `cluster: Redis memory per retained task, record + 128x128 PNG (${count})`, imagewire: `${perTask.toFixed(0)} B`, baseline: `${records.toFixed(0)} B the record alone`, ratio: '', target: '' },
    ];
  } finally {
    await cluster.close();
  }
}

/** `--only replay,latency,throughput,rerun,memory` runs some parts (default: all, as run-all does). */
function selectedParts(): ReadonlySet<string> {
  const at = process.argv.indexOf('--only');
  const names = at < 0 ? ['replay', 'latency', 'throughput', 'rerun', 'memory'] : (process.argv[at + 1] ?? '').split(',');
  return new Set(names);
}

const parts = selectedParts();
const rows: Row[] = [];
const rounds = quick ? 20 : 100;
if (parts.has('replay')) {
  rows.push(...(await replay('small result (URL)', TINY_PNG, 'URL', false, rounds)));
  rows.push(...(await replay('1 MiB JSON (base64)', randomImage(1024 * 1024), 'base64Data', false, quick ? 10 : 50)));
  rows.push(...(await replay('1 MiB binary result', randomImage(1024 * 1024), 'base64Data', true, quick ? 10 : 50)));
}
if (parts.has('latency')) rows.push(...(await addedLatency(quick ? 50 : 300)));
if (parts.has('throughput')) {
  const tasks = quick ? 200 : 1000;
  const one = await throughput(1, tasks);
  const two = await throughput(2, tasks);
  note(`throughput: ${one.toFixed(0)} tasks/s with 1 worker, ${two.toFixed(0)} with 2`);
  rows.push({ benchmark: `cluster: tasks/s, 1 node, 1 worker (${tasks} tasks, 32 in flight)`, imagewire: `${one.toFixed(0)}/s`, baseline: '', ratio: '', target: '' });
  rows.push({ benchmark: 'cluster: tasks/s, 1 node, 2 workers', imagewire: `${two.toFixed(0)}/s`, baseline: `${one.toFixed(0)}/s with 1`, ratio: ratio(two / one), target: '' });
}
if (parts.has('rerun')) {
  const rerun = await rerunAfterCrash(quick ? 2 : 5);
  note(`worker SIGKILL → task running again: ${rerun.map((s) => s.toFixed(1)).join(', ')} s`);
  rows.push({ benchmark: `cluster: worker SIGKILL → task running on another worker (${rerun.length} kills)`, imagewire: `${median(rerun).toFixed(1)} s median, ${Math.max(...rerun).toFixed(1)} s max`, baseline: '', ratio: '', target: '≤ 7 s' });
}
if (parts.has('memory')) rows.push(...(await memory(quick ? 100 : 500)));
emitRows(rows);
