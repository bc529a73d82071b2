// The cluster as separate processes: 3 `imagewire serve --redis` nodes and 2 `imagewire worker`s
// behind a round-robin balancer, under socket drops, node and worker SIGKILLs and a Redis SIGKILL.
// Every task ends with each of its finals exactly once; none is lost or hangs; the server never
// sends one result index of a session under two sequence numbers; no key is left without a TTL.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/engine/procedural/random.js';
import { createClient, ImagewireError, type ImagewireClient } from '../../src/index.js';
import { clusterModeBuilt, startCluster, type Cluster } from '../helpers/cluster.js';
import { finalItem, isFinal, RawClient, type Received } from '../helpers/raw-client.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { ttls } from './store-fixture.js';

/** Engine delay per step in the workers, and steps per image: about 40 ms of work per image. */
const STEP_DELAY_MS = 4;
const STEPS = 10;
/** Tasks each high-level client keeps in flight: more than the workers' 2 × 2 slots, so the queue always has work. */
const DEPTH = 8;
/** A task not settled this long after the chaos ended is hung. */
const HANG_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function request(numberResults: number, steps = STEPS) {
  return { positivePrompt: 'a lighthouse at dusk', model: 'runware:101@1', width: 128, height: 128, steps, numberResults };
}

function clientOf(url: string, ack: boolean, apiKey: string): ImagewireClient {
  return createClient({
    apiKey,
    url,
    extensions: { ack, binaryResults: ack },
    maxInFlight: 64,
    maxWaiting: 10_000,
    reconnect: { initialDelayMs: 10, maxDelayMs: 200 },
    keepAlive: { intervalMs: 300, pongTimeoutMs: 600 },
    taskTimeoutMs: 90_000,
    networkEvents: false,
  });
}

/** The test's clock: every outcome and fault is stamped with ms since the file started, so a failure can be lined up with the faults. */
const t0 = Date.now();
const stamp = (): number => Date.now() - t0;

/** One task's outcome as the consumer saw it. */
interface Outcome {
  readonly taskUUID: string;
  /** The API key it was sent with (its owner digest names its record in Redis). */
  readonly apiKey: string;
  readonly wanted: number;
  readonly indexes: number[];
  readonly imageUUIDs: string[];
  /** When it was sent, each final arrived (`+ms #index`) and it settled, on the test's clock. */
  readonly startedAt: number;
  readonly timeline: string[];
  error: string | undefined;
  settled: boolean;
}

/** Starts a task and records its finals; the promise never rejects. */
function runTask(client: ImagewireClient, apiKey: string, wanted: number, steps = STEPS): { outcome: Outcome; done: Promise<Outcome> } {
  const task = client.imageInference(request(wanted, steps));
  const outcome: Outcome = { taskUUID: task.taskUUID, apiKey, wanted, indexes: [], imageUUIDs: [], startedAt: stamp(), timeline: [], error: undefined, settled: false };
  const done = (async () => {
    try {
      for await (const event of task) {
        if (event.type !== 'final') continue;
        outcome.indexes.push(event.index);
        outcome.imageUUIDs.push(event.image.imageUUID);
        outcome.timeline.push(`+${stamp()} final #${event.index} ${event.image.imageUUID}`);
      }
    } catch (error) {
      outcome.error = error instanceof ImagewireError ? `${error.code}: ${error.message}` : String(error);
      outcome.timeline.push(`+${stamp()} error ${outcome.error}`);
    }
    outcome.settled = true;
    outcome.timeline.push(`+${stamp()} settled`);
    return outcome;
  })();
  return { outcome, done };
}

/**
 * Everything known about a task that went wrong, for the failure's output: what the client saw and
 * when, the task record in Redis (results by index, without their bodies), whether its queue job
 * and its entry in the running-task index are still there, and every child's log line naming it.
 */
async function dossier(cluster: Cluster, outcome: Outcome): Promise<string> {
  const owner = createHash('sha256').update(outcome.apiKey, 'utf8').digest('hex');
  const taskUUID = outcome.taskUUID.toLowerCase();
  const lines = [`task ${taskUUID} (key ${outcome.apiKey}, ${outcome.wanted} wanted) sent at +${outcome.startedAt}: ${outcome.timeline.join('; ') || 'nothing arrived'}`];
  try {
    const record = await cluster.command.hgetall(`iw:t:{${owner}:${taskUUID}}`);
    const fields = Object.entries(record).map(([name, value]) => (name.startsWith('r:') ? `${name}=${value.slice(0, 120)}` : name === 'j' ? `j=<${value.length} chars>` : `${name}=${value}`));
    lines.push(`  record: ${fields.length === 0 ? 'none' : fields.join(' ')}`);
    const job = await cluster.command.hgetall(`iw:iw-tasks:${taskUUID}.${owner.slice(0, 16)}`);
    const jobFields = ['attemptsMade', 'stalledCounter', 'failedReason', 'processedOn', 'finishedOn'].map((name) => `${name}=${job[name] ?? '-'}`);
    lines.push(`  queue job: ${Object.keys(job).length === 0 ? 'none' : jobFields.join(' ')}; running-task index score: ${String(await cluster.command.zscore('iw:tr', `${owner} ${taskUUID}`))}`);
  } catch (error) {
    lines.push(`  Redis not readable: ${String(error)}`);
  }
  const logged = cluster.stderr().split('\n').filter((line) => line.toLowerCase().includes(taskUUID));
  lines.push(`  log lines naming it: ${logged.length === 0 ? 'none' : `\n    ${logged.slice(-20).join('\n    ')}`}`);
  return lines.join('\n');
}

/** Runs a test's checks; when one fails, prints `context()` (what happened, and when) before the failure propagates. */
async function explainOnFailure(context: () => string, body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (error) {
    console.log(`${String(error).slice(0, 2000)}\n--- context ---\n${context()}`);
    throw error;
  }
}

/** One line per frame of raw sockets (socket number, seq, what it carries), for a failure's output. */
function frameLines(sockets: readonly { readonly frames: readonly Received[] }[]): string {
  return sockets
    .flatMap((socket, n) =>
      socket.frames.map((frame) => {
        if (frame.kind === 'binary') return `#${n} seq ${String(frame.seq)} binary ${JSON.stringify(frame.header).slice(0, 160)}`;
        return `#${n} seq ${String(frame.seq)} ${frame.text.slice(0, 160)}`;
      }),
    )
    .join('\n');
}

/** The problems of one outcome: lost, duplicated or failed finals ('' when it is whole). */
function problemOf(outcome: Outcome): string {
  if (!outcome.settled) return `${outcome.taskUUID} hung with ${outcome.indexes.length}/${outcome.wanted} finals`;
  if (outcome.error !== undefined) return `${outcome.taskUUID} failed: ${outcome.error}`;
  const sorted = [...outcome.indexes].sort((a, b) => a - b);
  const expected = Array.from({ length: outcome.wanted }, (_, i) => i);
  if (JSON.stringify(sorted) !== JSON.stringify(expected)) return `${outcome.taskUUID} finals by index ${JSON.stringify(sorted)}, expected ${JSON.stringify(expected)}`;
  if (new Set(outcome.imageUUIDs).size !== outcome.imageUUIDs.length) return `${outcome.taskUUID} got one image twice`;
  return '';
}

/** Waits until the queue has at least `count` active jobs (so with 2 slots per worker, both workers hold one); false after `timeoutMs`. */
async function activeAtLeast(cluster: Cluster, count: number, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await cluster.queue.getActiveCount().catch(() => 0)) >= count) return true;
    await sleep(10);
  }
  return false;
}

describe.runIf(redisAvailable() && clusterModeBuilt())('a cluster of 3 nodes and 2 workers behind a balancer, in separate processes', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, workers: 2, stepDelayMs: STEP_DELAY_MS, concurrency: 2 });
  }, 60_000);
  afterAll(async () => {
    const crashes = cluster?.crashes() ?? [];
    await cluster?.close();
    expect(crashes, 'lines of a crash in a child process').toEqual([]);
  }, 30_000);

  it('drops, node SIGKILLs and restarts, worker SIGKILLs mid-task: every final exactly once, none lost or hung (ack, and getResponse recovery without it)', async () => {
    const random = mulberry32(16);
    const keys = { ack: 'cluster-ack', plain: 'cluster-plain' } as const;
    const clients = { ack: clientOf(cluster.url, true, keys.ack), plain: clientOf(cluster.url, false, keys.plain) };
    const disconnects = { ack: 0, plain: 0 };
    // The faults and the clients' connection events, stamped on the test's clock.
    const log: string[] = [];
    const connections: string[] = [];
    clients.ack.on('disconnected', () => {
      disconnects.ack++;
      connections.push(`+${stamp()} ack disconnected`);
    });
    // A reconnect that did not resume the session falls back to getResponse, whose answers may repeat finals.
    let ackFreshSessions = -1;
    clients.ack.on('connected', (info) => {
      if (!info.resumed) ackFreshSessions++;
      connections.push(`+${stamp()} ack connected${info.resumed ? ' (resumed)' : ' (new session)'}`);
    });
    clients.plain.on('disconnected', () => {
      disconnects.plain++;
      connections.push(`+${stamp()} plain disconnected`);
    });
    const outcomes: { ack: Outcome[]; plain: Outcome[] } = { ack: [], plain: [] };
    const pending: Promise<Outcome>[] = [];
    let chaosOver = false;
    let ended = 0;
    const feed = async (which: 'ack' | 'plain'): Promise<void> => {
      const inFlight = new Set<Promise<Outcome>>();
      while (!chaosOver || outcomes[which].length < 40) {
        while (inFlight.size < DEPTH) {
          const { outcome, done } = runTask(clients[which], keys[which], 1 + Math.floor(random() * 3));
          outcomes[which].push(outcome);
          pending.push(done);
          inFlight.add(done);
          // runTask's promise never rejects.
          done.then(
            () => {
              ended++;
              inFlight.delete(done);
            },
            () => undefined,
          );
        }
        await Promise.race([...inFlight, sleep(1_000)]);
      }
    };
    // The faults, in a fixed order at seeded moments, while both clients keep DEPTH tasks in flight.
    let workerKillsMidTask = 0;
    const pause = (from: number, to: number): Promise<void> => sleep(from + random() * (to - from));
    const chaos = async (): Promise<void> => {
      while (ended < 6) await sleep(10);
      const drop = async (): Promise<void> => {
        cluster.balancer.dropAll();
        log.push(`+${stamp()} drop`);
        await pause(150, 600);
      };
      const nodeCrash = async (index: number, signal: NodeJS.Signals): Promise<void> => {
        const id = cluster.nodes[index]?.id ?? '?';
        const exit = await cluster.killNode(index, signal);
        log.push(`+${stamp()} node ${index} (${id}) ${signal} (${exit.signal ?? exit.code})`);
        await pause(100, 400);
        await cluster.restartNode(index);
        log.push(`+${stamp()} node ${index} restarted as ${cluster.nodes[index]?.id ?? '?'}`);
        await pause(150, 400);
      };
      const workerCrash = async (index: number): Promise<void> => {
        // 2 slots per worker: 3 active jobs mean this worker holds at least one.
        if (await activeAtLeast(cluster, 3)) workerKillsMidTask++;
        await cluster.killWorker(index, 'SIGKILL');
        log.push(`+${stamp()} worker ${index} SIGKILL`);
        await pause(300, 800);
        await cluster.restartWorker(index);
        log.push(`+${stamp()} worker ${index} restarted`);
      };
      await drop();
      await nodeCrash(0, 'SIGKILL');
      await workerCrash(0);
      await drop();
      await drop();
      await nodeCrash(1, 'SIGKILL');
      await workerCrash(1);
      await drop();
      await nodeCrash(2, 'SIGTERM');
      await drop();
      chaosOver = true;
    };
    await Promise.all([chaos(), feed('ack'), feed('plain')]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(pending), new Promise((resolve) => (timer = setTimeout(resolve, HANG_MS)))]);
    clearTimeout(timer);
    const stats = { ack: clients.ack.stats(), plain: clients.plain.stats() };
    const troubled = [...outcomes.ack.map((o) => ['ack', o] as const), ...outcomes.plain.map((o) => ['without ack', o] as const)].filter(([, outcome]) => problemOf(outcome) !== '');
    const problems = troubled.map(([which, outcome]) => `${which}: ${problemOf(outcome)}`);
    // Read before the clients close: a hung task's record and job as they are now.
    const dossiers = await Promise.all(troubled.slice(0, 10).map(([, outcome]) => dossier(cluster, outcome)));
    await clients.ack.close();
    await clients.plain.close();
    console.log(
      `cluster chaos: ${outcomes.ack.length} ack tasks, ${outcomes.plain.length} tasks without ack; faults: ${log.join(', ')}; ` +
        `${workerKillsMidTask} worker kills mid-task; disconnects ack ${disconnects.ack}, plain ${disconnects.plain}; ` +
        `ack client: ${ackFreshSessions} reconnects without resume, ${stats.ack.checks} getResponse checks, dropped ${stats.ack.duplicateFrames} replayed frames and ${stats.ack.duplicateFinals} duplicate finals; ` +
        `plain client made ${stats.plain.checks} getResponse checks, ${stats.plain.resends} resends, dropped ${stats.plain.duplicateFinals} duplicate finals`,
    );
    if (problems.length > 0) {
      console.log(
        `cluster chaos problems:\n${problems.join('\n')}\n\n${dossiers.join('\n\n')}\n\nfaults: ${log.join(', ')}\nclient connections: ${connections.join(', ')}\n` +
          `client stats: ${JSON.stringify(stats)}\nstderr (last 8000 chars):\n${cluster.stderr().slice(-8000)}`,
      );
    }
    expect(problems).toEqual([]);
    // Not vacuous: every fault happened, with work in flight.
    expect(log.filter((entry) => entry.endsWith(' drop'))).toHaveLength(5);
    expect(log.filter((entry) => / node \d \(.*\) SIG/.test(entry))).toHaveLength(3);
    expect(workerKillsMidTask).toBe(2);
    expect(disconnects.ack).toBeGreaterThanOrEqual(5);
    expect(disconnects.plain).toBeGreaterThanOrEqual(5);
    expect(outcomes.ack.length).toBeGreaterThanOrEqual(40);
    expect(outcomes.plain.length).toBeGreaterThanOrEqual(40);
    // With ack and every reconnect resumed (no getResponse recovery), a final received twice came under a
    // second sequence number: a server duplicate.
    expect(ackFreshSessions, 'ack reconnects that did not resume the session').toBe(0);
    if (stats.ack.checks === 0) expect(stats.ack.duplicateFinals, 'finals the ack session received under a new sequence number').toBe(0);
  }, 150_000);

  /** Drives one raw session through drops and a node kill; returns every frame of every socket, in order. */
  async function rawSession(ack: boolean): Promise<{ frames: Received[]; tasks: string[]; resumes: number; cuts: string[]; context: () => string }> {
    const random = mulberry32(ack ? 161 : 162);
    const apiKey = `cluster-raw-${String(ack)}`;
    const extensions = ack ? ['ack', 'binaryResults'] : [];
    let socket = await RawClient.connect(cluster.url);
    const auth = await socket.authenticate(apiKey);
    const session = String(auth.connectionSessionUUID);
    if (ack) await socket.enableExtensions(extensions);
    const sockets = [socket];
    const tasks = Array.from({ length: 10 }, () => crypto.randomUUID());
    socket.send(tasks.map((taskUUID) => ({ taskType: 'imageInference', taskUUID, ...request(2, 15) })));
    const seen = (): number => Math.max(0, ...sockets.flatMap((s) => s.frames.map((f) => f.seq ?? 0)));
    const cuts: string[] = [];
    let resumes = 0;
    for (let round = 0; round < 6; round++) {
      await sleep(100 + random() * 300);
      const highest = seen();
      // Acknowledge what arrived, as a client does; the frames up to it may never come again.
      if (ack && highest > 0) socket.send([{ taskType: 'ping', ping: true, ack: highest }]);
      if (round === 2 || round === 4) {
        const port = cluster.balancer.routed.at(-1);
        const index = cluster.nodes.findIndex((slot) => slot.server?.port === port);
        if (index >= 0) {
          await cluster.killNode(index, 'SIGKILL');
          cuts.push(`+${stamp()} node ${index} SIGKILL`);
          await cluster.restartNode(index);
        }
      } else {
        cluster.balancer.dropAll();
        cuts.push(`+${stamp()} drop`);
      }
      await socket.waitForClose();
      socket = await RawClient.connect(cluster.url);
      sockets.push(socket);
      const resumed = await socket.authenticate(apiKey, { connectionSessionUUID: session });
      expect(resumed.connectionSessionUUID, 'the session is resumed on whichever node the balancer picked').toBe(session);
      expect(resumed.resumed).toBe(true);
      resumes++;
      if (ack) await socket.enableExtensions(extensions, seen());
    }
    // The rest arrives on the last socket: wait until every task is over (getResponse on this session, no re-attach elsewhere).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const from = socket.frames.length;
      socket.send(tasks.map((taskUUID) => ({ taskType: 'getResponse', taskUUID })));
      const answers = await socket.waitForCount((f) => f.kind === 'json' && (f.data.some((d) => d.status !== undefined) || f.errors.length > 0) && f.seq === undefined, tasks.length, { from });
      const running = answers.some((f) => f.kind === 'json' && f.data.some((d) => d.status === 'processing'));
      if (!running) break;
      if (Date.now() > deadline) throw new Error(`raw tasks still running after 30 s: ${cluster.stderr().slice(-2000)}`);
      await sleep(200);
    }
    await sleep(300);
    await socket.close();
    const context = (): string => `session ${session}, tasks ${tasks.join(' ')}\ncuts: ${cuts.join(', ')}\nframes by socket:\n${frameLines(sockets)}\nstderr (last 6000 chars):\n${cluster.stderr().slice(-6000)}`;
    return { frames: sockets.flatMap((s) => s.frames), tasks, resumes, cuts, context };
  }

  it('with ack, a raw session never gets one result index under two sequence numbers, and no sequence number is missing, across drops and node kills', async () => {
    const { frames, tasks, resumes, cuts, context } = await rawSession(true);
    await explainOnFailure(context, () => {
      const keyOfSeq = new Map<number, string>();
      const seqOfKey = new Map<string, number>();
      let replays = 0;
      for (const frame of frames) {
        const task = tasks.find((t) => isFinal(frame, t));
        if (task === undefined) continue;
        const item = finalItem(frame);
        const key = `${task}:${String(item.index)}`;
        const seq = frame.seq;
        expect(seq, `a final without seq under ack: ${key}`).toBeTypeOf('number');
        if (seq === undefined) continue;
        const before = keyOfSeq.get(seq);
        if (before !== undefined) {
          expect(before, `seq ${seq} replayed with another result`).toBe(key);
          replays++;
        }
        keyOfSeq.set(seq, key);
        const other = seqOfKey.get(key);
        expect(other === undefined || other === seq, `result ${key} sent under seq ${other} and ${seq}`).toBe(true);
        seqOfKey.set(key, seq);
      }
      expect(seqOfKey.size, 'results received').toBe(tasks.length * 2);
      const seqs = [...keyOfSeq.keys()].sort((a, b) => a - b);
      expect(seqs, 'sequence numbers 1..n without a gap').toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      console.log(`raw ack session: ${resumes} resumes (${cuts.join(', ')}), ${seqs.length} finals, ${replays} unacknowledged frames replayed`);
    });
  }, 90_000);

  it('ack turned on right behind the authentication holds on every node: finals carry seq, and a resume elsewhere replays them', async () => {
    // Two fresh sessions per node (round robin), each sending enableExtensions without waiting for
    // the authentication's answer, as a pipelining client does: the node may still be attaching.
    for (let round = 0; round < 6; round++) {
      const first = await RawClient.connect(cluster.url);
      first.send([{ taskType: 'authentication', apiKey: 'cluster-pipelined' }]);
      first.send([{ taskType: 'enableExtensions', extensions: ['ack'] }]);
      const taskUUID = crypto.randomUUID();
      first.send([{ taskType: 'imageInference', taskUUID, ...request(1, 1) }]);
      const auth = await first.waitFor((f) => f.kind === 'json' && f.data[0]?.taskType === 'authentication');
      const session = auth.kind === 'json' ? String(auth.data[0]?.connectionSessionUUID) : '';
      const final = await first.waitFor((f) => isFinal(f, taskUUID), { timeoutMs: 20_000 });
      expect(final.seq, `round ${round}: a final without seq after enableExtensions ack was answered: ${first.describe()}`).toBeTypeOf('number');
      first.terminate();
      await first.closed;
      const second = await RawClient.connect(cluster.url);
      const resumed = await second.authenticate('cluster-pipelined', { connectionSessionUUID: session });
      expect(resumed.enabledExtensions, `round ${round}: the session keeps ack`).toEqual(['ack']);
      const again = await second.waitFor((f) => isFinal(f, taskUUID), { timeoutMs: 5_000 });
      expect(again.seq).toBe(final.seq);
      await second.close();
    }
  }, 90_000);

  it('without ack, a raw session gets each result index at most once across drops and node kills, and getResponse has every result', async () => {
    const { frames, tasks, resumes, cuts, context } = await rawSession(false);
    await explainOnFailure(context, () => {
      const live = new Map<string, number>();
      const recovered = new Map<string, Set<number>>();
      for (const frame of frames) {
        if (frame.kind !== 'json') continue;
        for (const item of frame.data) {
          if (typeof item.taskUUID !== 'string' || !tasks.includes(item.taskUUID) || typeof item.imageUUID !== 'string') continue;
          const key = `${item.taskUUID}:${String(item.index)}`;
          if (item.status === undefined) live.set(key, (live.get(key) ?? 0) + 1);
          else if (item.status === 'success') {
            const got = recovered.get(item.taskUUID) ?? new Set<number>();
            got.add(Number(item.index));
            recovered.set(item.taskUUID, got);
          }
        }
      }
      const twice = [...live].filter(([, count]) => count > 1).map(([key]) => key);
      expect(twice, 'results sent twice to the session').toEqual([]);
      // The last getResponse round answered every task with both of its results.
      for (const task of tasks) expect([...(recovered.get(task) ?? [])].sort(), `getResponse of ${task}`).toEqual([0, 1]);
      console.log(`raw session without ack: ${resumes} resumes (${cuts.join(', ')}), ${live.size} of ${tasks.length * 2} finals arrived live, the rest through getResponse`);
    });
  }, 90_000);

  it('Redis SIGKILLed and restarted: every accepted task completes exactly once; meanwhile tasks end or get a typed retryable error, none hangs; every process stays up', async () => {
    const client = clientOf(cluster.url, true, 'cluster-redis');
    await client.connect();
    // Slow enough (30 steps × 2 images) to be running on the workers when Redis dies.
    const accepted = Array.from({ length: 6 }, () => runTask(client, 'cluster-redis', 2, 30));
    const uuids = new Set(accepted.map(({ outcome }) => outcome.taskUUID));
    const admitted = async (): Promise<number> => {
      const keys = await ttls(cluster.command, 'iw:t:');
      let count = 0;
      for (const key of keys.keys()) if ([...uuids].some((uuid) => key.includes(uuid))) count++;
      return count;
    };
    const deadline = Date.now() + 10_000;
    while ((await admitted()) < uuids.size) {
      if (Date.now() > deadline) throw new Error('tasks were not admitted');
      await sleep(10);
    }
    const faults = [`+${stamp()} Redis SIGKILL`];
    await cluster.killRedis('SIGKILL');
    const during = Array.from({ length: 3 }, () => runTask(client, 'cluster-redis', 1));
    await sleep(1_500);
    await cluster.restartRedis();
    faults.push(`+${stamp()} Redis restarted`);
    const settleWithin = async (done: Promise<Outcome>[], ms: number): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(done), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
    };
    await settleWithin([...accepted, ...during].map(({ done }) => done), 45_000);
    const stats = client.stats();
    const troubled = [...accepted, ...during].map(({ outcome }) => outcome).filter((outcome) => problemOf(outcome) !== '' && !(during.some((d) => d.outcome === outcome) && outcome.settled && /^serviceUnavailable: /.test(outcome.error ?? '')));
    if (troubled.length > 0) {
      const dossiers = await Promise.all(troubled.map((outcome) => dossier(cluster, outcome)));
      console.log(`redis outage problems (${faults.join(', ')}):\n${dossiers.join('\n\n')}\nclient stats: ${JSON.stringify(stats)}\nstderr (last 8000 chars):\n${cluster.stderr().slice(-8000)}`);
    }
    await client.close();
    const problems = accepted.map(({ outcome }) => problemOf(outcome)).filter((problem) => problem !== '');
    expect(problems, cluster.stderr().slice(-4000)).toEqual([]);
    for (const { outcome } of during) {
      expect(outcome.settled, `${outcome.taskUUID} submitted while Redis was down hung`).toBe(true);
      // Either it ran once Redis was back, or it was refused with the typed, retryable code.
      if (outcome.error !== undefined) expect(outcome.error).toMatch(/^serviceUnavailable: /);
      else expect(problemOf(outcome)).toBe('');
    }
    expect(cluster.nodes.every((slot) => slot.server?.alive() === true), 'every node survived the Redis outage').toBe(true);
    expect(cluster.workersAlive(), 'every worker survived the Redis outage').toEqual([true, true]);
    console.log(`redis outage: ${accepted.length} accepted tasks whole; while down: ${during.map(({ outcome }) => outcome.error ?? 'ran').join(', ')}; client dropped ${stats.duplicateFinals} duplicate finals`);
  }, 120_000);

  /** Whether every `O T` member names a running task record. */
  const runningOnly = async (redis: typeof cluster.command, members: readonly string[]): Promise<boolean> => {
    for (const member of members) {
      const at = member.indexOf(' ');
      if ((await redis.hget(`iw:t:{${member.slice(0, at)}:${member.slice(at + 1)}}`, 'st')) !== 'running') return false;
    }
    return true;
  };

  it('afterwards every iw: key has a TTL except running tasks, published images and the queue library’s own (iw:iw-tasks:*)', async () => {
    const keys = await ttls(cluster.command, 'iw:');
    expect(keys.size, 'keys the run left').toBeGreaterThan(0);
    const forever: string[] = [];
    for (const [key, ttl] of keys) {
      if (ttl > 0 || key.startsWith('iw:iw-tasks:')) continue;
      if (key.startsWith('iw:t:') && (await cluster.command.hget(key, 'st')) === 'running') continue;
      // The index of running tasks, as long as it holds running tasks only.
      if (key === 'iw:tr' && (await runningOnly(cluster.command, await cluster.command.zrange(key, '0', '-1')))) continue;
      if (key.startsWith('iw:im:') && (await cluster.command.hget(key, 'p')) === '1') continue;
      forever.push(`${key} (${ttl})`);
    }
    expect(forever).toEqual([]);
    // Sessions and finished tasks of the run are there, each with its TTL.
    expect([...keys.keys()].some((key) => key.startsWith('iw:s:{'))).toBe(true);
    expect([...keys.keys()].some((key) => key.startsWith('iw:t:{'))).toBe(true);
  }, 30_000);
});
