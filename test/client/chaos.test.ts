// The chaos test: 1,000 tasks under random faults, against a strict emulation of Runware's service
// (base protocol: no acknowledgements) and against imagewire's server (with and without ack).
// Every task ends with all its finals, each delivered once; none hangs or runs into its deadline;
// a task in flight at a drop ends within the reconnect plus 2 s; no task is ever run twice by one
// server incarnation, and no work is sent under a taskUUID the client did not make.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/engine/procedural/random.js';
import { createClient, type ClientOptions, type ImagewireClient } from '../../src/index.js';
import { startFastEmulator } from '../emulator/kit.js';
import type { RunwareEmulator } from '../emulator/runware-emulator.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const TASKS = 1_000;
/** Tasks the test keeps submitted at once, under the client's maxInFlight, so each is on the wire. */
const CONCURRENCY = 24;
const AFTER_RECONNECT_MS = 2_000;

/** What a chaos run needs of its server. */
interface Target {
  readonly url: string;
  /** Injects the next fault; `random` picks which. */
  fault(random: () => number): Promise<void> | void;
  /** Work each taskUUID was run for, per server incarnation (empty when the server cannot say). */
  runsPerIncarnation(): readonly ReadonlyMap<string, number>[];
  close(): Promise<void>;
}

async function emulatorTarget(resultsPerFrame: 'one' | 'batched'): Promise<Target> {
  const emulator: RunwareEmulator = await startFastEmulator({ resultsPerFrame, batchSize: 2, unknownFields: 'rejectUnnamed' });
  // A restart forgets its tasks; what each incarnation ran is what its counters add.
  const snapshots: Map<string, number>[] = [];
  const snapshot = (): void => void snapshots.push(new Map(emulator.stats().inferencesAccepted));
  return {
    url: emulator.url,
    async fault(random) {
      const pick = random();
      if (pick < 0.4) emulator.faults.dropAfterResults(1 + Math.floor(random() * 20));
      else if (pick < 0.6) {
        emulator.faults.loseLastFrameBeforeDrop();
        emulator.faults.dropAfterResults(1 + Math.floor(random() * 10));
      } else if (pick < 0.8) {
        emulator.faults.loseClientFramesAfterDrop(50 + Math.floor(random() * 150));
        emulator.faults.dropAll();
      } else if (pick < 0.93) emulator.faults.dropAll();
      else {
        snapshot();
        emulator.faults.echoOldSessionWithEmptyState(random() < 0.5);
        await emulator.faults.restartForgettingSessions();
      }
    },
    runsPerIncarnation() {
      const all = [...snapshots, new Map(emulator.stats().inferencesAccepted)];
      return all.map((counts, i) => new Map([...counts].map(([uuid, n]) => [uuid, n - (i === 0 ? 0 : (all[i - 1]?.get(uuid) ?? 0))])));
    },
    close: () => emulator.close(),
  };
}

async function imagewireTarget(): Promise<Target> {
  const server: TestServer = await startTestServer({ limits: { maxInFlightPerConnection: 1_000, maxInFlightPerKey: 1_000 } });
  return {
    url: server.url,
    fault(random) {
      const frames = 1 + Math.floor(random() * 40);
      if (random() < 0.5) server.faults.dropAfterFrames(frames);
      else server.faults.dropBeforeFrame(frames);
    },
    runsPerIncarnation: () => [],
    close: () => server.close(),
  };
}

interface Outcome {
  readonly taskUUID: string;
  readonly wanted: number;
  readonly finals: readonly string[];
  readonly endedAt: number;
  /** The reconnect that followed the last drop while the task was open, if any. */
  readonly droppedAt: number | undefined;
}

async function chaos(target: Target, options: Partial<ClientOptions>, seed: number): Promise<{ outcomes: Outcome[]; client: ImagewireClient; drops: number }> {
  const random = mulberry32(seed);
  const client = createClient({
    apiKey: 'chaos-key',
    url: target.url,
    maxInFlight: 64,
    maxWaiting: TASKS,
    reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    keepAlive: { intervalMs: 150, pongTimeoutMs: 250 },
    taskTimeoutMs: 120_000,
    networkEvents: false,
    ...options,
  });
  // Reconnect times, and the tasks open at each drop.
  const open = new Set<{ droppedAt: number | undefined; dropped: boolean }>();
  let drops = 0;
  client.on('disconnected', () => {
    drops++;
    for (const entry of open) entry.dropped = true;
  });
  client.on('connected', () => {
    const now = performance.now();
    for (const entry of open) if (entry.dropped) entry.droppedAt = now;
  });
  let faults = 0;
  const run = async (): Promise<Outcome> => {
    const wanted = 1 + Math.floor(random() * 3);
    const entry: { droppedAt: number | undefined; dropped: boolean } = { droppedAt: undefined, dropped: false };
    open.add(entry);
    const task = client.imageInference({ positivePrompt: 'a lighthouse at dusk', model: 'runware:101@1', width: 128, height: 128, steps: 1, numberResults: wanted });
    const finals: string[] = [];
    try {
      for await (const event of task) if (event.type === 'final') finals.push(event.image.imageUUID ?? '');
    } finally {
      open.delete(entry);
    }
    return { taskUUID: task.taskUUID, wanted, finals, endedAt: performance.now(), droppedAt: entry.dropped ? entry.droppedAt : undefined };
  };
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < TASKS) {
      next++;
      // About one fault per 25 tasks, at random points of the run.
      if (random() < 0.04 && faults < 60) {
        faults++;
        await target.fault(random);
      }
      outcomes.push(await run());
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { outcomes, client, drops };
}

function check(outcomes: readonly Outcome[], target: Target, client: ImagewireClient, drops: number, label: string): void {
  expect(outcomes).toHaveLength(TASKS);
  const uuids = new Set(outcomes.map((outcome) => outcome.taskUUID));
  let late = 0;
  let slowest = 0;
  for (const outcome of outcomes) {
    expect(new Set(outcome.finals).size, `a final of ${outcome.taskUUID} was delivered twice`).toBe(outcome.finals.length);
    expect(outcome.finals.length, `${outcome.taskUUID} lost a final`).toBe(outcome.wanted);
    if (outcome.droppedAt === undefined) continue;
    slowest = Math.max(slowest, outcome.endedAt - outcome.droppedAt);
    if (outcome.endedAt - outcome.droppedAt > AFTER_RECONNECT_MS) late++;
  }
  expect(late, 'tasks that ended later than the reconnect plus 2 s').toBe(0);
  for (const runs of target.runsPerIncarnation()) {
    for (const [uuid, count] of runs) {
      expect(uuids.has(uuid), `work under a taskUUID the client never made: ${uuid}`).toBe(true);
      expect(count, `${uuid} ran ${count} times on one server`).toBeLessThanOrEqual(1);
    }
  }
  const stats = client.stats();
  expect(stats.open).toBe(0);
  expect(drops).toBeGreaterThan(5);
  console.log(
    `${label}: ${TASKS} tasks, ${outcomes.reduce((sum, o) => sum + o.finals.length, 0)} finals; ${drops} drops, ${stats.attempts} connections, ` +
      `${stats.checks} getResponse checks, ${stats.resends} resends, ${stats.duplicateFinals} duplicate finals and ${stats.duplicateFrames} duplicate frames dropped; ` +
      `the slowest task in flight at a drop ended ${slowest.toFixed(0)} ms after the reconnect`,
  );
}

describe('1,000 tasks under random faults', () => {
  it.each([
    { resultsPerFrame: 'one' as const, seed: 11 },
    { resultsPerFrame: 'batched' as const, seed: 12 },
  ])('against the base protocol (Runware emulation, $resultsPerFrame result per frame): none lost, duplicated or hung', async ({ resultsPerFrame, seed }) => {
    const target = await emulatorTarget(resultsPerFrame);
    const { outcomes, client, drops } = await chaos(target, {}, seed);
    try {
      check(outcomes, target, client, drops, `Runware emulation (${resultsPerFrame})`);
    } finally {
      await client.close();
      await target.close();
    }
  }, 90_000);

  it.each([
    { ack: true, seed: 21 },
    { ack: false, seed: 22 },
  ])('against imagewire (ack $ack): none lost, duplicated or hung', async ({ ack, seed }) => {
    const target = await imagewireTarget();
    const { outcomes, client, drops } = await chaos(target, { extensions: { ack, binaryResults: ack } }, seed);
    try {
      check(outcomes, target, client, drops, `imagewire (ack ${String(ack)})`);
    } finally {
      await client.close();
      await target.close();
    }
  }, 90_000);
});
