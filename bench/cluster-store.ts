// The Redis session log and task store of cluster mode: append + read latency of a held frame by
// size (beside a bare XADD + XRANGE of the same bytes), and Redis memory per idle session and per
// retained task record (its keys' MEMORY USAGE, accounts included). Runs its own redis-server (unix socket, AOF fsync always).
import { Redis } from 'ioredis';
import { SessionLog } from '../src/server/cluster/session-log.js';
import { TaskStore } from '../src/server/cluster/task-store.js';
import { RedisConnections } from '../src/server/cluster/redis-options.js';
import type { ServerFrame } from '../src/server/core/server-frame.js';
import { defaultLimits } from '../src/server/limits.js';
import { startRedis } from '../test/helpers/redis-server.js';
import { emitRows, note, percentile, quick, ratio, type Row } from './lib/report.js';

const redis = await startRedis();
const connections = new RedisConnections({ redis: redis.url, name: 'bench' });
const command = connections.create('command');
const bare = new Redis({ path: redis.path });
const log = new SessionLog({ redis: command, limits: defaultLimits });
const tasks = new TaskStore({ redis: command, sessions: log, limits: defaultLimits });

function frameOf(bytes: number | undefined): ServerFrame {
  const item = { taskType: 'imageInference', taskUUID: '4b2a1d0e-9f1c-4c55-8a3f-0a9b1c2d3e4f', imageUUID: '0c7a1e2f-1b2c-4d3e-8f4a-5b6c7d8e9f0a', seed: 1234567, cost: 0 };
  if (bytes === undefined) return { kind: 'data', items: [{ ...item, imageURL: 'http://127.0.0.1:8080/images/0c7a1e2f-1b2c-4d3e-8f4a-5b6c7d8e9f0a.png' }] };
  return { kind: 'image', item, field: 'imageBase64Data', mediaType: 'image/png', image: Buffer.alloc(bytes, 0xa5) };
}

function ms(values: readonly number[], p: number): string {
  return percentile(values, p).toFixed(2);
}

async function latency(label: string, bytes: number | undefined, rounds: number): Promise<Row[]> {
  const created = await log.create('bench');
  if (created.kind !== 'created') throw new Error(created.kind);
  const s = created.session;
  // Attached with ack on, as a node holds a session whose client acknowledges: what the client
  // acknowledged is trimmed, so the session stays within its byte bound however many rounds run.
  const attached = await log.attach(s, 'bench', 'bench-node', { asked: { ack: true, binary: false } });
  if (!attached.found || !attached.ownerMatches) throw new Error('attach failed');
  const frame = frameOf(bytes);
  const ours: number[] = [];
  const base: number[] = [];
  const payload = bytes === undefined ? Buffer.alloc(0) : Buffer.alloc(bytes, 0xa5);
  for (let i = 0; i < rounds; i++) {
    let start = performance.now();
    const appended = await log.append(s, 'bench', frame);
    if (appended.kind !== 'appended') throw new Error(appended.kind);
    await log.read(s, appended.seq - 1, 1);
    ours.push(performance.now() - start);
    // Keep the session small: what the client acknowledged goes.
    await log.delivered(s, 'bench-node', attached.gen, appended.seq);
    await log.acknowledge(s, Number.MAX_SAFE_INTEGER);
    start = performance.now();
    const id = await bare.xadd(`bare:${label}`, '*', 'h', '{"k":"i"}', 'b', payload);
    await bare.xrangeBuffer(`bare:${label}`, id ?? '-', '+', 'COUNT', 1);
    base.push(performance.now() - start);
    await bare.del(`bare:${label}`);
  }
  await log.discard(s);
  note(`${label}: p50 ${ms(ours, 50)} ms, p99 ${ms(ours, 99)} ms (bare ${ms(base, 50)} / ${ms(base, 99)} ms)`);
  return [
    { benchmark: `cluster: append + read, ${label}, p50`, imagewire: `${ms(ours, 50)} ms`, baseline: `${ms(base, 50)} ms bare XADD + XRANGE`, ratio: ratio(percentile(ours, 50) / percentile(base, 50)), target: '' },
    { benchmark: `cluster: append + read, ${label}, p99`, imagewire: `${ms(ours, 99)} ms`, baseline: `${ms(base, 99)} ms`, ratio: ratio(percentile(ours, 99) / percentile(base, 99)), target: '' },
  ];
}

/** Bytes Redis uses for every key (MEMORY USAGE, all samples): steadier than used_memory, which moves with the AOF buffer. */
async function keyMemory(): Promise<number> {
  let sum = 0;
  let cursor = '0';
  do {
    const [next, keys] = await bare.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) sum += Number(await bare.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  } while (cursor !== '0');
  return sum;
}

async function memoryRows(count: number): Promise<Row[]> {
  await bare.flushall();
  for (let i = 0; i < count; i++) await log.create(`owner-${i % 10}`);
  const perSession = (await keyMemory()) / count;
  await bare.flushall();
  const result = JSON.stringify({ item: { taskType: 'imageInference', taskUUID: 'x', imageUUID: '0c7a1e2f-1b2c-4d3e-8f4a-5b6c7d8e9f0a', imageURL: 'http://127.0.0.1:8080/images/0c7a1e2f-1b2c-4d3e-8f4a-5b6c7d8e9f0a.png', seed: 1 } });
  for (let i = 0; i < count; i++) {
    const t = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    await tasks.admit(`owner-${i % 10}`, t, 'imageInference', { async: true, target: '' });
    await tasks.emitFinal(`owner-${i % 10}`, t, 0, result, frameOf(undefined));
    await tasks.finish(`owner-${i % 10}`, t, 'success');
  }
  const perTask = (await keyMemory()) / count;
  note(`memory: ${perSession.toFixed(0)} B per idle session, ${perTask.toFixed(0)} B per retained task record (one URL result)`);
  return [
    { benchmark: `cluster: Redis memory per idle session (${count})`, imagewire: `${perSession.toFixed(0)} B`, baseline: '', ratio: '', target: '' },
    { benchmark: `cluster: Redis memory per retained task record, one result (${count})`, imagewire: `${perTask.toFixed(0)} B`, baseline: '', ratio: '', target: '' },
  ];
}

try {
  const rounds = quick ? 30 : 300;
  const rows: Row[] = [];
  rows.push(...(await latency('200-byte frame', undefined, rounds)));
  rows.push(...(await latency('16 KiB image frame', 16 * 1024, rounds)));
  rows.push(...(await latency('1 MiB image frame', 1024 * 1024, quick ? 10 : 100)));
  rows.push(...(await memoryRows(quick ? 200 : 1000)));
  emitRows(rows);
} finally {
  bare.disconnect();
  await connections.close();
  await redis.close();
}
