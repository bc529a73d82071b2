// The client against a strict emulation of Runware's real service (base protocol only): it never
// sends an undocumented field, it connects whatever the service does with unknown fields, and it
// recovers every fault a drop brings on a server without acknowledgements, each task ending with
// its results within the reconnect plus 2 s, never at its deadline and never run twice.
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, createClient, type ImageInferenceEvent, type ImageResult, type ClientOptions, type ImagewireClient, type TaskStream } from '../../src/index.js';
import { startFastEmulator } from '../emulator/kit.js';
import type { RunwareEmulator } from '../emulator/runware-emulator.js';

const request = { positivePrompt: 'a lighthouse at dusk', model: 'runware:101@1', width: 512, height: 512 } as const;
/** The bound the client promises: a task in flight at a drop ends within the reconnect plus this. */
const AFTER_RECONNECT_MS = 2_000;

let emulator: RunwareEmulator | undefined;
let client: ImagewireClient | undefined;
afterEach(async () => {
  await client?.close();
  await emulator?.close();
  client = undefined;
  emulator = undefined;
});

function clientOf(service: RunwareEmulator, options: Partial<ClientOptions> = {}): ImagewireClient {
  return createClient({
    apiKey: 'runware-test-key',
    url: service.url,
    reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
    keepAlive: { intervalMs: 200, pongTimeoutMs: 300 },
    taskTimeoutMs: 120_000,
    networkEvents: false,
    ...options,
  });
}

/** The time of every reconnect of `c`, so a test can hold a task's end against the latest before it. */
function reconnects(c: ImagewireClient): number[] {
  const times: number[] = [];
  let dropped = false;
  c.on('disconnected', () => {
    dropped = true;
  });
  c.on('connected', () => {
    if (dropped) times.push(performance.now());
    dropped = false;
  });
  return times;
}

/** Runs a task to its end and checks its finals: `count` distinct images, each once. */
async function finalsOf(task: TaskStream<ImageInferenceEvent, ImageResult[]>, count: number): Promise<number> {
  const seen = new Set<string>();
  for await (const event of task) {
    if (event.type !== 'final') continue;
    const uuid = event.image.imageUUID ?? '';
    expect(seen.has(uuid), `image ${uuid} delivered twice`).toBe(false);
    seen.add(uuid);
  }
  expect(seen.size).toBe(count);
  return performance.now();
}

describe('the client against the base protocol', () => {
  it.each(['rejectNamed', 'rejectUnnamed', 'ignore'] as const)('connects at once and runs tasks where unknown fields are %s', async (unknownFields) => {
    emulator = await startFastEmulator({ unknownFields });
    client = clientOf(emulator);
    // previews and the extensions would be refused by name (or not) here: the client sends neither.
    const images = await client.imageInference({ ...request, numberResults: 2, previews: true }).result();
    expect(images).toHaveLength(2);
    expect(emulator.stats().socketsTotal).toBe(1);
  });

  it('collects a result written to the dying socket, which the service does not replay', async () => {
    emulator = await startFastEmulator({ imageDelayMs: 20 });
    client = clientOf(emulator);
    const times = reconnects(client);
    await client.connect();
    emulator.faults.loseLastFrameBeforeDrop();
    emulator.faults.dropAfterResults(3);
    const task = client.imageInference({ ...request, numberResults: 4 });
    const ended = await finalsOf(task, 4);
    expect(emulator.stats().resultsLost).toBe(1);
    expect(times.length).toBeGreaterThan(0);
    expect(ended - (times.at(-1) ?? 0)).toBeLessThan(AFTER_RECONNECT_MS);
    expect(emulator.stats().inferencesAccepted.get(task.taskUUID)).toBe(1);
  });

  it('sends again, under the same taskUUID, a task whose frame died with a half-open socket', async () => {
    emulator = await startFastEmulator();
    client = clientOf(emulator);
    const times = reconnects(client);
    await client.connect();
    emulator.faults.loseClientFramesAfterDrop(400);
    emulator.faults.dropAll();
    // The client still thinks the socket is open: the task goes out and is lost.
    const task = client.imageInference({ ...request, numberResults: 2 });
    const ended = await finalsOf(task, 2);
    const stats = emulator.stats();
    expect(stats.clientFramesLost).toBeGreaterThan(0);
    expect(stats.inferencesAccepted.get(task.taskUUID)).toBe(1);
    expect(client.stats().resends).toBeGreaterThan(0);
    expect(ended - (times.at(-1) ?? 0)).toBeLessThan(AFTER_RECONNECT_MS);
  });

  it.each([false, true])('recovers from a restart that forgot everything (old session UUID echoed: %s)', async (echo) => {
    emulator = await startFastEmulator({ imageDelayMs: 200 });
    client = clientOf(emulator);
    const times = reconnects(client);
    await client.connect();
    const task = client.imageInference({ ...request, numberResults: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (echo) emulator.faults.echoOldSessionWithEmptyState();
    await emulator.faults.restartForgettingSessions();
    const ended = await finalsOf(task, 2);
    expect(client.stats().resends).toBe(1);
    expect(times.length).toBeGreaterThan(0);
    // The one image of the lost run, imageDelayMs, and the new run's two.
    expect(ended - (times.at(-1) ?? 0)).toBeLessThan(AFTER_RECONNECT_MS);
  });

  it('answers a getResponse unknown under Runware\'s name (taskFailedOrNotFound) by sending again, not by failing', async () => {
    emulator = await startFastEmulator({ notFoundCode: 'taskFailedOrNotFound' });
    client = clientOf(emulator);
    await client.connect();
    emulator.faults.loseClientFramesAfterDrop(300);
    emulator.faults.dropAll();
    const images = await client.imageInference(request).result();
    expect(images).toHaveLength(1);
  });

  it('completes a task whose finals come several to a frame', async () => {
    emulator = await startFastEmulator({ resultsPerFrame: 'batched', batchSize: 3 });
    client = clientOf(emulator);
    const task = client.imageInference({ ...request, numberResults: 5 });
    await finalsOf(task, 5);
  });

  it('leaves a bad request to the service when it validates nothing locally: the item ends the task as an ApiError, and an awaited task gives its images', async () => {
    emulator = await startFastEmulator();
    client = clientOf(emulator, { validate: false });
    const refused = await client.imageInference({ ...request, width: 500 }).result().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: 'invalidWidth', parameter: 'width' });
    const images = await client.imageInference(request);
    expect(images.map((image) => image.format)).toEqual(['JPG']); // the service's default outputFormat
    expect(client.state).toBe('open');
  });
});
