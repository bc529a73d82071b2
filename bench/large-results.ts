// Large final images (1 MiB and 3 MiB of base64) delivered to the consumer: the imagewire client
// with binary frames beside a raw `ws` client receiving the same binary frame, and on plain JSON
// beside a raw `ws` client doing JSON.parse of the same JSON frame. Servers run in child
// processes; so does each pair of clients, so that one pair's garbage never weighs on the other.
// The engine returns a fixed random image at once.
import { captureFrames, type Captured } from './lib/capture.js';
import { childRole, serveParent, startChild } from './lib/child.js';
import { randomImage } from './lib/engines.js';
import { sequential, type RunStats } from './lib/measure.js';
import { RawClient } from './lib/raw-client.js';
import { emitRows, gc, note, pairedRatio, quick, ratio, rounds, spread, type Row } from './lib/report.js';
import { runServerChild, type Templates } from './lib/servers.js';
import { createClient, type ImageInferenceRequest } from '../src/index.js';

const request: ImageInferenceRequest = { positivePrompt: 'a red fox in the snow', model: 'runware:101@1', width: 1024, height: 1024, numberResults: 1 };
const MiB = 1024 * 1024;
/** Base64 string sizes; the image is 3/4 of it. */
const sizes = [
  { label: '1 MiB', base64: 1 * MiB },
  { label: '3 MiB', base64: 3 * MiB },
];

/** What a client child is asked to measure: the imagewire client on `ours`, the raw client on `raw`. */
interface PairJob {
  readonly ours: string;
  readonly raw: string;
  readonly binaryResults: boolean;
  readonly captured: Captured;
  readonly count: number;
  readonly rounds: number;
}

/** A client child: measures one pair (imagewire and raw) in interleaved rounds and replies. */
async function measurePair(job: PairJob): Promise<{ ours: RunStats[]; raw: RunStats[] }> {
  const client = createClient({ apiKey: 'bench', url: job.ours, extensions: { binaryResults: job.binaryResults } });
  await client.connect();
  if (job.binaryResults && !client.serverExtensions.includes('binaryResults')) throw new Error('server lacks binaryResults');
  // The raw client needs only the request frames; the big captured answer stays with the servers.
  const { authRequest, authReply, request: requestFrame, uuid } = job.captured;
  const rawClient = await RawClient.connect(job.raw, { authRequest, authReply, request: requestFrame, response: '', uuid });
  const runOurs = async (): Promise<unknown> => {
    const [image] = await client.imageInference(request).result();
    // Hand the consumer the image in the form it came in: bytes from a binary frame, base64 from JSON.
    return image?.item;
  };
  const measure = async (run: () => Promise<unknown>): Promise<RunStats> => {
    gc();
    return sequential(run, job.count);
  };
  const variants = { ours: () => measure(runOurs), raw: () => measure(() => rawClient.run()) };
  // Warm-up round, not counted.
  await rounds(1, variants);
  const results = await rounds(job.rounds, variants);
  await client.close();
  rawClient.close();
  return results;
}

async function child(role: string): Promise<void> {
  if (role === 'clients') {
    process.send?.({ ready: true });
    serveParent((message) => measurePair(message as PairJob));
    return;
  }
  const bytes = Number(process.argv.find((a) => a.startsWith('--bytes='))?.slice('--bytes='.length));
  await runServerChild(role, role === 'imagewire-server' ? randomImage(bytes) : undefined);
}

/** Runs one pair in a fresh client process. */
async function pairInChild(job: PairJob): Promise<{ ours: RunStats[]; raw: RunStats[] }> {
  const clients = await startChild('clients', quick ? ['--quick'] : []);
  try {
    return await clients.child.request<{ ours: RunStats[]; raw: RunStats[] }>(job);
  } finally {
    await clients.child.stop();
  }
}

async function measureSize(size: (typeof sizes)[number], count: number, roundCount: number): Promise<Row[]> {
  const imageBytes = (size.base64 / 4) * 3;
  const ours = await startChild<{ url: string }>('imagewire-server', [`--bytes=${imageBytes}`]);
  const rawJson = await startChild<{ url: string }>('raw-server');
  const rawBinary = await startChild<{ url: string }>('raw-server');
  const json = await captureFrames(ours.ready.url, request, { extensions: { binaryResults: false } });
  const binary = await captureFrames(ours.ready.url, request, { extensions: { binaryResults: true } });
  if (binary.binaryResponse === undefined) throw new Error('no binary result frame captured');
  note(`${size.label}: JSON result frame ${json.response.length} B`);
  await rawJson.child.request({ authReply: json.authReply, response: json.response, uuid: json.uuid } satisfies Templates);
  await rawBinary.child.request({ authReply: binary.authReply, response: '', binaryResponse: binary.binaryResponse, uuid: binary.uuid } satisfies Templates);
  const job = { ours: ours.ready.url, count, rounds: roundCount };
  const binaryResults = await pairInChild({ ...job, raw: rawBinary.ready.url, binaryResults: true, captured: binary });
  const jsonResults = await pairInChild({ ...job, raw: rawJson.ready.url, binaryResults: false, captured: json });
  for (const server of [ours, rawJson, rawBinary]) await server.child.stop();

  const cpuMs = (list: RunStats[]): number[] => list.map((s) => s.cpuUs / 1000);
  const wallMs = (list: RunStats[]): number[] => list.map((s) => 1000 / s.rate);
  const mbps = (list: RunStats[]): number[] => list.map((s) => (s.rate * imageBytes) / 1e6);
  const rows: Row[] = [];
  const add = (results: { ours: RunStats[]; raw: RunStats[] }, name: string, baseline: string, cpuTarget: string): void => {
    const row = (what: string, pick: (list: RunStats[]) => number[], digits: number, unit: string, target: string): Row => ({
      benchmark: `${size.label} result, ${what}, ${name} (vs ${baseline})`,
      imagewire: spread(pick(results.ours), digits, unit),
      baseline: spread(pick(results.raw), digits, unit),
      ratio: ratio(pairedRatio(pick(results.ours), pick(results.raw))),
      target,
    });
    rows.push(row('client CPU ms/image', cpuMs, 2, ' ms', cpuTarget));
    rows.push(row('wall ms/image sequential', wallMs, 2, ' ms', ''));
    rows.push(row('image MB/s sequential', mbps, 0, '', ''));
  };
  const big = size.base64 === 3 * MiB;
  add(binaryResults, 'binary frames', 'raw ws receiving the same binary frame', big ? '≤ 1.10x' : '≤ 1.20x');
  add(jsonResults, 'plain JSON', 'raw ws + JSON.parse of the same JSON frame', big ? '< 1.00x (under JSON.parse)' : '< 1.00x');
  return rows;
}

async function main(): Promise<void> {
  const count = quick ? 8 : 100;
  const roundCount = quick ? 1 : 3;
  const rows: Row[] = [];
  for (const size of sizes) rows.push(...(await measureSize(size, count, roundCount)));
  emitRows(rows);
}

const role = childRole();
if (role !== undefined) await child(role);
else await main();
