// The official @runware/sdk-js beside the imagewire client on the round-trip test of
// round-trips.ts: same imagewire server (in a child process), same task, both on JSON results.
import { RunwareServer } from '@runware/sdk-js';
import { childRole, serveParent, startChild } from './lib/child.js';
import { DEPTH, pipelined, roundTripRequest, roundTripRows, sequential } from './lib/measure.js';
import { emitRows, quick, rounds } from './lib/report.js';
import { startImagewireServer } from './lib/servers.js';
import { createClient } from '../src/index.js';

async function main(): Promise<void> {
  // sdk-js checks for each answer on a 100 ms interval, so its round trips take ~100 ms: fewer tasks.
  const seqCount = quick ? 30 : 100;
  const pipeCount = quick ? 500 : 3000;
  const roundCount = quick ? 1 : 3;
  const server = await startChild<{ url: string }>('imagewire-server');
  const client = createClient({ apiKey: 'bench', url: server.ready.url, maxInFlight: DEPTH, maxWaiting: 1_000_000, extensions: { binaryResults: false } });
  await client.connect();
  // One attempt per task and no reconnect loop, so a failure shows instead of being retried.
  const sdk = new RunwareServer({ apiKey: 'bench', url: server.ready.url, shouldReconnect: false, globalMaxRetries: 0, timeoutDuration: 60_000, heartbeatInterval: 60_000 });
  await sdk.ensureConnection();
  const runOurs = (): Promise<unknown> => client.imageInference(roundTripRequest).result();
  const runSdk = async (): Promise<unknown> => {
    const { positivePrompt, model, width, height } = roundTripRequest;
    const images = await sdk.imageInference({ positivePrompt, model, width, height, numberResults: 1, outputType: 'base64Data' });
    if (images?.length !== 1) throw new Error('@runware/sdk-js returned no image');
    return images;
  };
  await pipelined(runOurs, 1000, DEPTH);
  await pipelined(runSdk, 200, DEPTH);
  const seq = await rounds(roundCount, { ours: () => sequential(runOurs, seqCount), raw: () => sequential(runSdk, seqCount) });
  const pipe = await rounds(roundCount, { ours: () => pipelined(runOurs, pipeCount, DEPTH), raw: () => pipelined(runSdk, pipeCount, DEPTH) });
  await client.close();
  await sdk.disconnect();
  await server.child.stop();
  emitRows(roundTripRows(seq, pipe, '@runware/sdk-js'));
}

const role = childRole();
if (role !== undefined) {
  const server = await startImagewireServer();
  process.send?.({ url: server.url });
  serveParent(() => null);
} else {
  await main();
}
