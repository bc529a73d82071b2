// The gateway's cost per task: the same small task straight to an imagewire server, and through a
// gateway (createUpstreamEngine) in front of it; sequential round trips and 32 in flight, in one run.
import { createClient } from '../src/index.js';
import { createUpstreamEngine } from '../src/gateway/index.js';
import { createServer, type ImagewireServer } from '../src/server/index.js';
import { emitRows, median, note, percentile, quick, ratio, type Row } from './lib/report.js';

const task = { positivePrompt: 'a red fox in the snow', model: 'runware:101@1', width: 128, height: 128, steps: 1, numberResults: 1, outputType: 'URL' } as const;
const ms = (value: number): string => `${value.toFixed(2)} ms`;
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Sequential round trips against `url`, after 20 unmeasured ones. */
async function sequential(url: string, count: number): Promise<number[]> {
  const client = createClient({ apiKey: 'bench', url, networkEvents: false });
  const samples: number[] = [];
  try {
    for (let i = 0; i < count + 20; i++) {
      const start = performance.now();
      await client.imageInference(task).result();
      if (i >= 20) samples.push(performance.now() - start);
    }
  } finally {
    await client.close();
  }
  return samples;
}

/** Tasks per second with 32 in flight against `url`. */
async function throughput(url: string, count: number): Promise<number> {
  const client = createClient({ apiKey: 'bench', url, networkEvents: false, maxInFlight: 32, maxWaiting: 100_000 });
  try {
    await client.connect();
    const start = performance.now();
    await Promise.all(Array.from({ length: count }, () => client.imageInference(task).result()));
    return count / ((performance.now() - start) / 1000);
  } finally {
    await client.close();
  }
}

const upstream: ImagewireServer = await createServer({ stepDelayMs: 0, logger: silent });
const engine = createUpstreamEngine({ url: upstream.url, apiKey: 'upstream-key' });
const gateway: ImagewireServer = await createServer({ engine, logger: silent });
const rows: Row[] = [];
try {
  const count = quick ? 100 : 500;
  // Interleaved blocks, so neither side gets the warmer half of the run.
  const direct: number[] = [];
  const through: number[] = [];
  for (let block = 0; block < 4; block++) {
    direct.push(...(await sequential(upstream.url, count / 4)));
    through.push(...(await sequential(gateway.url, count / 4)));
  }
  note(`gateway sequential: ${ms(median(through))} p50 (p99 ${ms(percentile(through, 99))}) against ${ms(median(direct))} direct (p99 ${ms(percentile(direct, 99))})`);
  rows.push({ benchmark: `gateway: one task round trip p50, through a gateway to an imagewire upstream (${count} sequential)`, imagewire: ms(median(through)), baseline: `${ms(median(direct))} direct`, ratio: ratio(median(through) / median(direct)), target: '' });
  rows.push({ benchmark: 'gateway: latency a gateway adds per task, p50', imagewire: ms(median(through) - median(direct)), baseline: '', ratio: '', target: '' });
  const tasks = quick ? 300 : 2000;
  const directRate = await throughput(upstream.url, tasks);
  const gatewayRate = await throughput(gateway.url, tasks);
  note(`gateway throughput: ${gatewayRate.toFixed(0)} tasks/s against ${directRate.toFixed(0)} direct`);
  rows.push({ benchmark: `gateway: tasks/s, 32 in flight (${tasks} tasks)`, imagewire: `${gatewayRate.toFixed(0)}/s`, baseline: `${directRate.toFixed(0)}/s direct`, ratio: ratio(gatewayRate / directRate), target: '' });
} finally {
  await gateway.close();
  await engine.close();
  await upstream.close();
}
emitRows(rows);
