// Attacks on the server with its default options, each measured in a fresh server process: how much
// memory it takes (peak RSS growth, sampled every 10 ms) or how much it answers, beside a raw `ws`
// server under the same attack where one exists, or beside the same request made honestly.
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import WebSocket, { WebSocketServer } from 'ws';
import { childRole, serveParent, startChild, type Child } from './lib/child.js';
import { openRawSocket, type RawSocket } from './lib/raw-socket.js';
import { emitRows, gc, note, ratio, type Row } from './lib/report.js';
import { createServer } from '../src/server/index.js';

const MiB = 1024 * 1024;

interface Peak {
  /** RSS after a full GC when the attack started. */
  base: number;
  /** Highest RSS seen while it ran. */
  peak: number;
}

/** A server child: imagewire with default options, or a `ws` server with its defaults that answers nothing. */
async function serverChild(role: string): Promise<void> {
  let url: string;
  if (role === 'imagewire-server') {
    url = (await createServer({ port: 0, logger: false })).url;
  } else {
    const wss = new WebSocketServer({ port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const address = wss.address();
    url = `ws://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/v1`;
    wss.on('connection', (ws) => ws.on('error', () => undefined));
  }
  let peak: Peak = { base: 0, peak: 0 };
  setInterval(() => {
    peak.peak = Math.max(peak.peak, process.memoryUsage.rss());
  }, 10).unref();
  process.send?.({ url });
  serveParent((message) => {
    if (message === 'reset') {
      gc();
      const rss = process.memoryUsage.rss();
      peak = { base: rss, peak: rss };
      return null;
    }
    return peak;
  });
}

async function withServer<T>(role: 'imagewire-server' | 'raw-server', attack: (url: string, server: Child) => Promise<T>): Promise<{ result: T; growth: number }> {
  const { child, ready } = await startChild<{ url: string }>(role);
  try {
    await child.request('reset');
    const result = await attack(ready.url, child);
    const peak = await child.request<Peak>('peak');
    return { result, growth: peak.peak - peak.base };
  } finally {
    await child.stop();
  }
}

const mb = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MB`;

/** 12 sockets that never authenticate, each announcing a 31 MiB frame and sending 24 MiB of it. */
async function unauthenticatedFrames(url: string): Promise<number> {
  const sendOne = async (): Promise<number> => {
    let socket: RawSocket;
    try {
      socket = await openRawSocket(url);
    } catch {
      return 0;
    }
    socket.announce(31 * MiB);
    const chunk = Buffer.alloc(MiB);
    let sent = 0;
    while (sent < 24 * MiB && (await socket.write(chunk))) sent += chunk.length;
    socket.tcp.destroy();
    return sent;
  };
  const sent = await Promise.all(Array.from({ length: 12 }, sendOne));
  return sent.reduce((a, b) => a + b, 0);
}

const inference = (overrides: Record<string, unknown>): Record<string, unknown> => ({
  taskType: 'imageInference',
  taskUUID: randomUUID(),
  positivePrompt: 'a lighthouse at dusk',
  model: 'imagewire:1@1',
  width: 128,
  height: 128,
  steps: 2,
  outputType: 'base64Data',
  outputFormat: 'PNG',
  ...overrides,
});

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** One 1024×1024 PNG made honestly, then 120 getResponse asks for it on a socket that stopped reading. */
async function slowReader(url: string, server: Child): Promise<{ asked: number }> {
  const socket = await openRawSocket(url);
  socket.sendText(JSON.stringify([{ taskType: 'authentication', apiKey: 'attacker' }]));
  const task = inference({ width: 1024, height: 1024 });
  socket.sendText(JSON.stringify([task]));
  await until(() => socket.texts.some((text) => text.includes('imageBase64Data')), 30_000);
  const answer = socket.texts.find((text) => text.includes('imageBase64Data')) ?? '';
  await server.request('reset');
  socket.stopReading();
  for (let i = 0; i < 120; i++) socket.sendText(JSON.stringify([{ taskType: 'getResponse', taskUUID: task.taskUUID }]));
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  socket.tcp.destroy();
  return { asked: 120 * answer.length };
}

/** A 128×128 task whose seedImage is a small PNG declaring `side`×`side` pixels. */
async function seedImageTask(url: string, side: number): Promise<string> {
  const png = await sharp({ create: { width: side, height: side, channels: 3, background: '#000000' } }).png({ compressionLevel: 9 }).toBuffer();
  note(`seed image ${side}×${side}: ${png.length} bytes`);
  const ws = new WebSocket(url);
  try {
    return await new Promise<string>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('open', () => {
        ws.send(JSON.stringify([{ taskType: 'authentication', apiKey: 'attacker' }]));
        ws.send(JSON.stringify([inference({ seedImage: `data:image/png;base64,${png.toString('base64')}`, strength: 0.5 })]));
      });
      ws.on('message', (data: Buffer) => {
        const text = data.toString('utf8');
        if (text.includes('imageBase64Data')) resolve('image');
        else if (text.includes('"errors"')) resolve((/"code":"(\w+)"/.exec(text))?.[1] ?? 'error');
      });
    });
  } finally {
    ws.terminate();
  }
}

/** A ping with 300,000 unknown keys (3.5 MB); the bytes of whatever comes back. */
async function errorAmplification(url: string, authenticated: boolean): Promise<{ sent: number; answered: number; closed: string }> {
  const keys = Array.from({ length: 300_000 }, (_, i) => `"unknown${i}":1`).join(',');
  const frame = `[{"taskType":"ping","ping":true,${keys}}]`;
  const ws = new WebSocket(url, { maxPayload: 512 * MiB });
  let answered = 0;
  let closed = 'open';
  await new Promise<void>((resolve) => ws.once('open', () => resolve()));
  const messages: string[] = [];
  ws.on('message', (data: Buffer) => {
    messages.push(data.toString('utf8'));
    answered += data.length;
  });
  ws.on('close', (code) => {
    closed = String(code);
  });
  ws.on('error', () => undefined);
  if (authenticated) {
    ws.send(JSON.stringify([{ taskType: 'authentication', apiKey: 'attacker' }]));
    await until(() => messages.length > 0, 5_000);
    answered = 0;
  }
  ws.send(frame);
  await until(() => answered > 0 || closed !== 'open', 10_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  ws.terminate();
  return { sent: frame.length, answered, closed };
}

/** Opens `count` sockets from one address that never authenticate; how many the server upgraded. */
async function unauthenticatedCrowd(url: string, count: number): Promise<number> {
  const sockets: RawSocket[] = [];
  let accepted = 0;
  for (let i = 0; i < count; i += 100) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(100, count - i) }, () => openRawSocket(url)));
    for (const result of batch) {
      if (result.status === 'fulfilled') {
        accepted++;
        sockets.push(result.value);
      }
    }
  }
  for (const socket of sockets) socket.tcp.destroy();
  return accepted;
}

async function main(): Promise<void> {
  const rows: Row[] = [];

  note('unauthenticated large frames');
  const ours = await withServer('imagewire-server', (url) => unauthenticatedFrames(url));
  const raw = await withServer('raw-server', (url) => unauthenticatedFrames(url));
  rows.push({
    benchmark: `server peak RSS growth, 12 unauthenticated sockets each announcing 31 MiB and sending up to 24 MiB (sent: ${mb(ours.result)} vs ${mb(raw.result)}) (vs raw ws server, default maxPayload)`,
    imagewire: mb(ours.growth),
    baseline: mb(raw.growth),
    ratio: ratio(ours.growth / raw.growth),
    target: 'small, flat',
  });

  note('slow reader');
  const slow = await withServer('imagewire-server', (url, server) => slowReader(url, server));
  rows.push({
    benchmark: '120 getResponse answers (1024×1024 inline PNG) to a socket that stopped reading: server peak RSS growth (vs the bytes asked for)',
    imagewire: mb(slow.growth),
    baseline: mb(slow.result.asked),
    ratio: ratio(slow.growth / slow.result.asked),
    target: 'bounded by the socket cap',
  });

  note('pixel bomb');
  const bomb = await withServer('imagewire-server', (url) => seedImageTask(url, 12_000));
  const honest = await withServer('imagewire-server', (url) => seedImageTask(url, 128));
  rows.push({
    benchmark: `128×128 task with a seedImage PNG declaring 12000×12000: server peak RSS growth, answer ${bomb.result} (vs a 128×128 seedImage, answer ${honest.result})`,
    imagewire: mb(bomb.growth),
    baseline: mb(honest.growth),
    ratio: ratio(bomb.growth / Math.max(honest.growth, 1)),
    target: '≈ 1x',
  });

  note('error amplification');
  for (const authenticated of [false, true]) {
    const { result } = await withServer('imagewire-server', (url) => errorAmplification(url, authenticated));
    rows.push({
      benchmark: `a ${mb(result.sent)} ping with 300,000 unknown keys${authenticated ? ' after authenticating' : ' before authenticating'}: bytes answered (close code ${result.closed}) (vs bytes sent)`,
      imagewire: `${result.answered} B`,
      baseline: `${result.sent} B`,
      ratio: ratio(result.answered / result.sent, 4),
      target: 'a few KiB at most',
    });
  }

  note('unauthenticated crowd');
  const crowd = await withServer('imagewire-server', (url) => unauthenticatedCrowd(url, 2_000));
  const rawCrowd = await withServer('raw-server', (url) => unauthenticatedCrowd(url, 2_000));
  rows.push({
    benchmark: '2,000 sockets from one address that never authenticate: upgrades accepted (vs raw ws server)',
    imagewire: String(crowd.result),
    baseline: String(rawCrowd.result),
    ratio: ratio(crowd.result / rawCrowd.result),
    target: 'capped per address',
  });
  emitRows(rows);
}

const role = childRole();
if (role !== undefined) await serverChild(role);
else await main();
