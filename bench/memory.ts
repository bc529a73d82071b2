// Memory: the client holding 10,000 tasks whose streams nobody reads yet, and the server per idle
// authenticated connection at 1,000 and 10,000 connections, each beside a raw `ws` equivalent.
// Every measured side runs in its own child process, so each number is one process alone.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { captureFrames } from './lib/capture.js';
import { childRole, serveParent, startChild } from './lib/child.js';
import { RawClient } from './lib/raw-client.js';
import { emitRows, gc, note, quick, ratio, type Row } from './lib/report.js';
import { startImagewireServer, startRawServer, type Templates } from './lib/servers.js';
import { createClient } from '../src/index.js';
import type { Captured } from './lib/capture.js';

const request = { positivePrompt: 'a red fox in the snow', model: 'runware:101@1', width: 128, height: 128, numberResults: 1 };
const KiB = 1024;

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
}

function memory(): Mem {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers };
}

function arg(name: string): string {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? '';
}

async function child(role: string): Promise<void> {
  if (role === 'imagewire-server' || role === 'raw-server') {
    const raw = role === 'raw-server' ? await startRawServer({ authReply: JSON.stringify({ data: [{ taskType: 'authentication', connectionSessionUUID: randomUUID() }] }), response: '{}', uuid: '-' }) : undefined;
    const url = raw?.url ?? (await startImagewireServer()).url;
    process.send?.({ url, mem: memory() });
    serveParent((message) => {
      if (message === 'measure') return memory();
      raw?.setTemplates(message as Templates);
      return null;
    });
    return;
  }
  if (role === 'crowd') {
    // Opens and authenticates N sockets, 200 at a time, then keeps them idle.
    const [url, count] = [arg('url'), Number(arg('count'))];
    const auth = JSON.stringify([{ taskType: 'authentication', apiKey: 'bench' }]);
    const sockets: WebSocket[] = [];
    const open = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        sockets.push(ws);
        ws.once('open', () => ws.send(auth));
        ws.once('message', () => resolve());
        ws.once('error', reject);
      });
    for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, open));
    process.send?.({ open: sockets.length });
    serveParent(() => null);
    return;
  }
  if (role === 'queue-imagewire' || role === 'queue-raw') {
    const count = Number(arg('count'));
    const url = arg('url');
    const captured = JSON.parse(arg('captured')) as Captured;
    const before = memory();
    if (role === 'queue-imagewire') {
      const client = createClient({ apiKey: 'bench', url, maxWaiting: count, taskTimeoutMs: 3_600_000, extensions: { binaryResults: false } });
      await client.connect();
      const base = memory();
      const streams = Array.from({ length: count }, () => client.imageInference(request));
      const queued = memory();
      // The slow consumer: results arrive and wait in each task's stream; nothing reads them yet.
      await Promise.all(streams.map((s) => s.result()));
      const held = memory();
      process.send?.({ before, base, queued, held, kept: streams.length });
    } else {
      const client = await RawClient.connect(url, captured);
      const base = memory();
      const results = Array.from({ length: count }, () => client.run());
      const queued = memory();
      const items = await Promise.all(results);
      const held = memory();
      process.send?.({ before, base, queued, held, kept: items.length });
    }
    serveParent(() => null);
  }
}

async function serverPerConnection(kind: 'imagewire' | 'raw', count: number): Promise<Mem> {
  const server = await startChild<{ url: string; mem: Mem }>(`${kind}-server`);
  const before = await server.child.request<Mem>('measure');
  const crowd = await startChild<{ open: number }>('crowd', [`--url=${server.ready.url}`, `--count=${count}`]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await server.child.request<Mem>('measure');
  await crowd.child.stop();
  await server.child.stop();
  return { rss: (after.rss - before.rss) / count, heapUsed: (after.heapUsed - before.heapUsed) / count, external: (after.external - before.external) / count };
}

async function clientQueue(count: number): Promise<Row[]> {
  const ours = await startChild<{ url: string }>('imagewire-server');
  const raw = await startChild<{ url: string }>('raw-server');
  // JSON results on both sides, so the raw client holds the same parsed items.
  const captured = await captureFrames(ours.ready.url, request, { extensions: { binaryResults: false } });
  await raw.child.request({ authReply: captured.authReply, response: captured.response, uuid: captured.uuid } satisfies Templates);
  const run = async (role: string, url: string): Promise<{ base: Mem; queued: Mem; held: Mem }> => {
    note(role);
    const c = await startChild<{ base: Mem; queued: Mem; held: Mem }>(role, [`--url=${url}`, `--count=${count}`, `--captured=${JSON.stringify(captured)}`]);
    await c.child.stop();
    return c.ready;
  };
  const a = await run('queue-imagewire', ours.ready.url);
  const b = await run('queue-raw', raw.ready.url);
  await ours.child.stop();
  await raw.child.stop();
  const per = (m: { base: Mem; held: Mem; queued: Mem }, at: 'queued' | 'held', key: keyof Mem): number => (m[at][key] - m.base[key]) / count / KiB;
  const row = (what: string, at: 'queued' | 'held', key: keyof Mem, target = ''): Row => ({
    benchmark: `client ${key} per task, ${count} tasks ${what} (vs raw ws Map of promises)`,
    imagewire: `${per(a, at, key).toFixed(2)} KiB`,
    baseline: `${per(b, at, key).toFixed(2)} KiB`,
    ratio: ratio(per(a, at, key) / per(b, at, key)),
    target,
  });
  return [
    row('submitted, not yet answered', 'queued', 'heapUsed', '≤ 1.2 KiB'),
    row('answered, streams unread', 'held', 'heapUsed', '≤ 1.2 KiB'),
    row('answered, streams unread', 'held', 'rss'),
  ];
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  note('client queue');
  rows.push(...(await clientQueue(10_000)));
  note('server connections');
  const counts = quick ? [1000] : [1000, 10_000];
  for (const count of counts) {
    const ours = await serverPerConnection('imagewire', count);
    const raw = await serverPerConnection('raw', count);
    note(`${count} idle connections: imagewire ${JSON.stringify(ours)} raw ${JSON.stringify(raw)} (bytes per connection)`);
    const measures = [
      { label: 'RSS', key: 'rss', target: '≤ 1.30x' },
      { label: 'heap', key: 'heapUsed', target: '' },
    ] as const;
    for (const { label, key, target } of measures) {
      rows.push({
        benchmark: `server ${label} per idle authenticated connection, ${count} connections (vs raw ws server)`,
        imagewire: `${(ours[key] / KiB).toFixed(1)} KiB`,
        baseline: `${(raw[key] / KiB).toFixed(1)} KiB`,
        ratio: ratio(ours[key] / raw[key]),
        target,
      });
    }
  }
  emitRows(rows);
}

const role = childRole();
if (role !== undefined) await child(role);
else await main();
