// Resume after dropped sockets: the time from a drop to the first result on the new socket, and
// the results lost or delivered twice over many drops (both must be zero). The server runs in this
// process because its fault hooks cut the sockets; its engine returns a tiny image at once.
import { emitRows, median, note, quick, spread, type Row } from './lib/report.js';
import { startImagewireServer } from './lib/servers.js';
import { createClient, type ClientOptions, type ImagewireClient } from '../src/index.js';
import type { ImagewireServer } from '../src/server/index.js';

const request = { positivePrompt: 'a red fox in the snow', model: 'runware:101@1', width: 128, height: 128, numberResults: 1 };

interface Outcome {
  /** ms from each drop (the client's `disconnected` event) to the next final the consumer got. */
  gaps: number[];
  tasks: number;
  lost: number;
  duplicates: number;
  /** Replayed finals the client recognised and dropped before the consumer saw them. */
  droppedReplays: number;
  reconnects: number;
  drops: number;
}

/** Keeps `depth` tasks flowing while `drops` faults cut the socket, spaced `spacingMs` apart. */
async function dropStorm(server: ImagewireServer, options: Partial<ClientOptions>, drops: number, spacingMs: number): Promise<Outcome> {
  const client: ImagewireClient = createClient({ apiKey: 'bench', url: server.url, maxInFlight: 16, maxWaiting: 1_000_000, ...options });
  await client.connect();
  let dropAt: number | undefined;
  let reconnects = 0;
  let disconnects = 0;
  const gaps: number[] = [];
  client.on('disconnected', () => {
    disconnects++;
    dropAt ??= performance.now();
  });
  client.on('connected', () => reconnects++);
  const seen = new Set<string>();
  let tasks = 0;
  let lost = 0;
  let duplicates = 0;
  let stopping = false;
  const runOne = async (): Promise<void> => {
    tasks++;
    let finals = 0;
    try {
      for await (const event of client.imageInference(request)) {
        if (event.type !== 'final') continue;
        finals++;
        if (dropAt !== undefined) {
          gaps.push(performance.now() - dropAt);
          dropAt = undefined;
        }
        if (seen.has(event.image.imageUUID)) duplicates++;
        seen.add(event.image.imageUUID);
      }
    } catch {
      // A task that fails lost its result.
    }
    if (finals === 0) lost++;
    if (finals > 1) duplicates += finals - 1;
  };
  const workers = Array.from({ length: 16 }, async () => {
    while (!stopping) await runOne();
  });
  for (let i = 0; i < drops; i++) {
    await new Promise((resolve) => setTimeout(resolve, spacingMs));
    // Alternate the two cuts: before a final is written (it is held and replayed), and right after
    // a few frames (written but maybe unacknowledged, so replayed and recognised as seen).
    if (i % 2 === 0) server.faults.dropBeforeFrame(1 + (i % 5));
    else server.faults.dropAfterFrames(1 + (i % 7));
  }
  await new Promise((resolve) => setTimeout(resolve, spacingMs));
  stopping = true;
  await Promise.all(workers);
  const stats = client.stats();
  await client.close();
  return { gaps, tasks, lost, duplicates, droppedReplays: stats.duplicateFinals, reconnects: reconnects - 1, drops: disconnects };
}

function rows(name: string, o: Outcome): Row[] {
  const drops = o.drops;
  note(`${name}: ${o.tasks} tasks, ${drops} drops, ${o.reconnects} reconnects, ${o.droppedReplays} replayed finals dropped by the client, gap p50 ${median(o.gaps).toFixed(1)} ms`);
  return [
    {
      benchmark: `resume, drop → first result ms, ${name} (${drops} drops)`,
      imagewire: `${spread(o.gaps, 1, ' ms')}`,
      baseline: 'n/a',
      ratio: 'n/a',
      target: '',
    },
    {
      benchmark: `resume, lost / duplicated results, ${name} (${o.tasks} tasks)`,
      imagewire: `${o.lost} lost, ${o.duplicates} duplicated`,
      baseline: 'n/a',
      ratio: 'n/a',
      target: '0 lost, 0 duplicated',
    },
  ];
}

async function main(): Promise<void> {
  const server = await startImagewireServer();
  const out: Row[] = [];
  // Drops 40 ms apart: the connection never lives the 1 s that earns an immediate retry under the
  // default policy, so a short backoff keeps this row about the protocol's own cost.
  const fastDrops = quick ? 20 : 200;
  const fast = await dropStorm(server, { reconnect: { initialDelayMs: 5, maxDelayMs: 50, minUptimeMs: 20 } }, fastDrops, 40);
  out.push(...rows('reconnect delay ≤ 5 ms', fast));
  // The default policy retries at once after a connection that lived 1 s, so drops 1.5 s apart.
  const defaultDrops = quick ? 3 : 10;
  const slow = await dropStorm(server, {}, defaultDrops, 1500);
  out.push(...rows('default reconnect policy', slow));
  await server.close();
  emitRows(out);
}

await main();
