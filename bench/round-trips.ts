// Task round trips over one connection: the imagewire client against the imagewire server, beside
// a raw `ws` client and server exchanging the same JSON frames. Servers run in child processes.
//
// The engine returns a fixed 1x1 PNG at once (not the procedural engine with stepDelayMs 0, which
// would add PNG encoding to every task), so the numbers measure the transport and task bookkeeping.
import { captureFrames } from './lib/capture.js';
import { childRole, startChild } from './lib/child.js';
import { DEPTH, pipelined, roundTripRequest, roundTripRows, sequential, withServerCpu } from './lib/measure.js';
import { RawClient } from './lib/raw-client.js';
import { emitRows, note, quick, rounds } from './lib/report.js';
import { runServerChild, type Templates } from './lib/servers.js';
import { createClient } from '../src/index.js';

async function child(role: string): Promise<void> {
  await runServerChild(role);
}

async function main(): Promise<void> {
  const seqCount = quick ? 300 : 3000;
  const pipeCount = quick ? 3000 : 30_000;
  const roundCount = quick ? 1 : 5;
  const ours = await startChild<{ url: string }>('imagewire-server');
  const raw = await startChild<{ url: string }>('raw-server');
  // JSON results on both sides: the raw baseline speaks JSON, so binary results are off here.
  const options = { extensions: { binaryResults: false } };
  const captured = await captureFrames(ours.ready.url, roundTripRequest, options);
  note(`request frame ${captured.request.length} B, response frame ${captured.response.length} B`);
  await raw.child.request({ authReply: captured.authReply, response: captured.response, uuid: captured.uuid } satisfies Templates);

  const client = createClient({ apiKey: 'bench', url: ours.ready.url, maxInFlight: DEPTH, maxWaiting: 1_000_000, ...options });
  await client.connect();
  const rawClient = await RawClient.connect(raw.ready.url, captured);
  const runOurs = (): Promise<unknown> => client.imageInference(roundTripRequest).result();
  const runRaw = (): Promise<unknown> => rawClient.run();
  // Warm up both paths so the JIT has compiled them before any round counts.
  await pipelined(runOurs, 2000, DEPTH);
  await pipelined(runRaw, 2000, DEPTH);

  const seq = await rounds(roundCount, {
    ours: () => withServerCpu(ours.child, seqCount, () => sequential(runOurs, seqCount)),
    raw: () => withServerCpu(raw.child, seqCount, () => sequential(runRaw, seqCount)),
  });
  const pipe = await rounds(roundCount, {
    ours: () => withServerCpu(ours.child, pipeCount, () => pipelined(runOurs, pipeCount, DEPTH)),
    raw: () => withServerCpu(raw.child, pipeCount, () => pipelined(runRaw, pipeCount, DEPTH)),
  });
  await client.close();
  rawClient.close();
  await ours.child.stop();
  await raw.child.stop();
  emitRows(roundTripRows(seq, pipe, 'raw ws'));
}

const role = childRole();
if (role !== undefined) await child(role);
else await main();
