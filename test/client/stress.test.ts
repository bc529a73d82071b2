// 1,000 tasks while the server cuts the socket at random points (mid-stream, and before a frame
// is written): every task completes and every final image reaches the consumer exactly once.
import { describe, expect, it } from 'vitest';
import { clientOf, smallRequest, startServer } from './server.js';

/** A small seeded PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TASKS = 1_000;

describe.each([
  { name: 'with ack', ack: true, seed: 1 },
  { name: 'without ack', ack: false, seed: 2 },
])('1,000 tasks under random drops ($name)', ({ ack, seed }) => {
  it('delivers every final exactly once', async () => {
    const random = prng(seed);
    const server = await startServer();
    const client = clientOf(server, {
      extensions: { ack, binaryResults: ack },
      maxInFlight: 32,
      maxWaiting: TASKS,
      reconnect: { initialDelayMs: 5, maxDelayMs: 50 },
      taskTimeoutMs: 60_000,
    });
    let drops = 0;
    const armDrop = () => {
      if (drops >= 40) return;
      drops++;
      const frames = 5 + Math.floor(random() * 60);
      if (random() < 0.5) server.faults.dropAfterFrames(frames);
      else server.faults.dropBeforeFrame(frames);
    };
    client.on('connected', armDrop);
    const started = performance.now();
    const expected = new Map<string, number>();
    const runs = Array.from({ length: TASKS }, async () => {
      const numberResults = 1 + Math.floor(random() * 3);
      const task = client.imageInference(smallRequest({ numberResults, steps: 1 + Math.floor(random() * 3), width: 128, height: 128 }));
      expected.set(task.taskUUID, numberResults);
      const seen: number[] = [];
      for await (const event of task) if (event.type === 'final') seen.push(event.index);
      return { taskUUID: task.taskUUID, seen };
    });
    const results = await Promise.all(runs);
    const elapsedMs = performance.now() - started;
    let finals = 0;
    for (const { taskUUID, seen } of results) {
      const wanted = expected.get(taskUUID) ?? 0;
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: wanted }, (_, i) => i));
      finals += seen.length;
    }
    const stats = client.stats();
    console.log(
      `${TASKS} tasks ${ack ? 'with' : 'without'} ack: ${finals} finals in ${elapsedMs.toFixed(0)} ms; ` +
        `${drops} drops, ${stats.attempts} connections, ${stats.duplicateFinals} duplicate finals and ${stats.duplicateFrames} duplicate frames dropped, ` +
        `${stats.checks} getResponse checks, ${stats.resends} resends`,
    );
    expect(drops).toBeGreaterThan(5);
    expect(stats.open).toBe(0);
  }, 60_000);
});
