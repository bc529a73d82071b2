// Large final images (1 MiB and 3 MiB of base64) delivered to the consumer: the imagewire client
// with binary frames and on plain JSON, beside a raw `ws` client doing JSON.parse of the same
// JSON frames. Servers run in child processes; the engine returns a fixed random image at once.
import { captureFrames } from './lib/capture.js';
import { childRole, startChild, type Child } from './lib/child.js';
import { randomImage } from './lib/engines.js';
import { sequential, type RunStats } from './lib/measure.js';
import { RawClient } from './lib/raw-client.js';
import { emitRows, gc, note, pairedRatio, quick, ratio, rounds, spread, type Row } from './lib/report.js';
import { runServerChild, type Templates } from './lib/servers.js';
import { createClient, type ImagewireClient } from '../src/index.js';

const request = { positivePrompt: 'a red fox in the snow', model: 'runware:101@1', width: 1024, height: 1024, numberResults: 1 };
const MiB = 1024 * 1024;
/** Base64 string sizes; the image is 3/4 of it. */
const sizes = [
  { label: '1 MiB', base64: 1 * MiB },
  { label: '3 MiB', base64: 3 * MiB },
];

async function child(role: string): Promise<void> {
  const bytes = Number(process.argv.find((a) => a.startsWith('--bytes='))?.slice('--bytes='.length));
  await runServerChild(role, role === 'imagewire-server' ? randomImage(bytes) : undefined);
}

type Server = { child: Child; ready: { url: string } };

async function measureSize(size: (typeof sizes)[number], raw: Server, rawBinaryServer: Server, count: number, roundCount: number): Promise<Row[]> {
  const imageBytes = (size.base64 / 4) * 3;
  const ours = await startChild<{ url: string }>('imagewire-server', [`--bytes=${imageBytes}`]);
  const captured = await captureFrames(ours.ready.url, request, { extensions: { binaryResults: false } });
  note(`${size.label}: JSON result frame ${captured.response.length} B`);
  await raw.child.request({ authReply: captured.authReply, response: captured.response, uuid: captured.uuid } satisfies Templates);
  const capturedBinary = await captureFrames(ours.ready.url, request, { extensions: { binaryResults: true } });
  if (capturedBinary.binaryResponse === undefined) throw new Error('no binary result frame captured');
  await rawBinaryServer.child.request({ authReply: capturedBinary.authReply, response: '', binaryResponse: capturedBinary.binaryResponse, uuid: capturedBinary.uuid } satisfies Templates);
  const connect = async (binaryResults: boolean): Promise<ImagewireClient> => {
    const client = createClient({ apiKey: 'bench', url: ours.ready.url, extensions: { binaryResults } });
    await client.connect();
    if (binaryResults && !client.serverExtensions.includes('binaryResults')) throw new Error('server lacks binaryResults');
    return client;
  };
  const binary = await connect(true);
  const json = await connect(false);
  const rawClient = await RawClient.connect(raw.ready.url, captured);
  const rawBinary = await RawClient.connect(rawBinaryServer.ready.url, capturedBinary);
  const runOf = (client: ImagewireClient) => async (): Promise<unknown> => {
    const [image] = await client.imageInference(request).result();
    // Hand the consumer the image in the form it came in: bytes from a binary frame, base64 from JSON.
    return image?.item;
  };
  const measure = async (run: () => Promise<unknown>): Promise<RunStats> => {
    gc();
    return sequential(run, count);
  };
  const variants = {
    binary: () => measure(runOf(binary)),
    json: () => measure(runOf(json)),
    raw: () => measure(() => rawClient.run()),
    rawBinary: () => measure(() => rawBinary.run()),
  };
  // Warm-up round, not counted.
  await rounds(1, variants);
  const results = await rounds(roundCount, variants);
  await binary.close();
  await json.close();
  rawClient.close();
  rawBinary.close();
  await ours.child.stop();

  const cpuMs = (list: RunStats[]): number[] => list.map((s) => s.cpuUs / 1000);
  const wallMs = (list: RunStats[]): number[] => list.map((s) => 1000 / s.rate);
  const mbps = (list: RunStats[]): number[] => list.map((s) => (s.rate * imageBytes) / 1e6);
  const rows: Row[] = [];
  const add = (variant: 'binary' | 'json', name: string, target: string): void => {
    rows.push({
      benchmark: `${size.label} result, client CPU ms/image, ${name} (vs raw ws + JSON.parse)`,
      imagewire: spread(cpuMs(results[variant]), 2, ' ms'),
      baseline: spread(cpuMs(results.raw), 2, ' ms'),
      ratio: ratio(pairedRatio(cpuMs(results[variant]), cpuMs(results.raw))),
      target,
    });
    rows.push({
      benchmark: `${size.label} result, wall ms/image sequential, ${name} (vs raw ws + JSON.parse)`,
      imagewire: spread(wallMs(results[variant]), 2, ' ms'),
      baseline: spread(wallMs(results.raw), 2, ' ms'),
      ratio: ratio(pairedRatio(wallMs(results[variant]), wallMs(results.raw))),
      target: '',
    });
    rows.push({
      benchmark: `${size.label} result, image MB/s sequential, ${name} (vs raw ws + JSON.parse)`,
      imagewire: spread(mbps(results[variant]), 0),
      baseline: spread(mbps(results.raw), 0),
      ratio: ratio(pairedRatio(mbps(results[variant]), mbps(results.raw))),
      target: '',
    });
  };
  const big = size.base64 === 3 * MiB;
  add('binary', 'binary frames', big ? '≤ 1 ms' : '');
  // What ws itself costs for the same binary frame: the floor under the binary rows.
  rows.push({
    benchmark: `${size.label} result, client CPU ms/image, binary frames (vs raw ws, same binary frame)`,
    imagewire: spread(cpuMs(results.binary), 2, ' ms'),
    baseline: spread(cpuMs(results.rawBinary), 2, ' ms'),
    ratio: ratio(pairedRatio(cpuMs(results.binary), cpuMs(results.rawBinary))),
    target: '',
  });
  rows.push({
    benchmark: `${size.label} result, wall ms/image sequential, binary frames (vs raw ws, same binary frame)`,
    imagewire: spread(wallMs(results.binary), 2, ' ms'),
    baseline: spread(wallMs(results.rawBinary), 2, ' ms'),
    ratio: ratio(pairedRatio(wallMs(results.binary), wallMs(results.rawBinary))),
    target: '',
  });
  add('json', 'plain JSON', big ? '< 1.00x (under JSON.parse)' : '< 1.00x');
  return rows;
}

async function main(): Promise<void> {
  const count = quick ? 8 : 40;
  const roundCount = quick ? 1 : 3;
  const raw = await startChild<{ url: string }>('raw-server');
  const rawBinary = await startChild<{ url: string }>('raw-server');
  const rows: Row[] = [];
  for (const size of sizes) rows.push(...(await measureSize(size, raw, rawBinary, count, roundCount)));
  await raw.child.stop();
  await rawBinary.child.stop();
  emitRows(rows);
}

const role = childRole();
if (role !== undefined) await child(role);
else await main();
