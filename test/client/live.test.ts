// The live-generation helper against a real server: throttling coalesces bursts, a newer request
// cancels the stale task on the server, only the latest request's events come out, close cleans up.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, createLiveSession, type ImagewireClient, type LiveEvent, type LiveRequest, type LiveSession } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { createProceduralEngine } from '../../src/engine/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(options: Parameters<typeof startTestServer>[0]): Promise<{ server: TestServer; client: ImagewireClient }> {
  const server = await startTestServer(options);
  cleanups.push(() => server.close());
  const client = createClient({ apiKey: 'k1', url: server.url, reconnect: { initialDelayMs: 10, maxDelayMs: 100 } });
  cleanups.push(() => client.close());
  await client.connect();
  return { server, client };
}

function live(client: ImagewireClient, options: Parameters<typeof createLiveSession>[1] = {}): LiveSession {
  const session = createLiveSession(client, options);
  cleanups.push(() => session.close());
  return session;
}

function request(prompt: string, overrides: Partial<LiveRequest> = {}): LiveRequest {
  return { positivePrompt: prompt, model: 'imagewire:1@1', width: 128, height: 128, steps: 4, seed: 3, ...overrides };
}

/** Collects the session's events until `stop` says so (or the session ends). */
async function collect(session: LiveSession, stop: (event: LiveEvent) => boolean): Promise<LiveEvent[]> {
  const events: LiveEvent[] = [];
  for await (const event of session) {
    events.push(event);
    if (stop(event)) break;
  }
  return events;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('live session', () => {
  it('coalesces a burst of updates into few tasks (leading and trailing) and finishes the last', async () => {
    const { server, client } = await setUp({ stepDelayMs: 20 });
    // The throttle runs on a clock the test moves, so how busy the machine is cannot change the count.
    const clock = new FakeClock();
    const session = live(client, { throttleMs: 100, clock });
    let last = 0;
    const text = 'a lighthouse on a cliff at dusk';
    for (let i = 2; i <= text.length; i++) {
      last = session.update(request(text.slice(0, i), { steps: 10 }));
      clock.advance(10);
    }
    clock.advance(200);
    const events = await collect(session, (event) => event.type === 'done' && event.seq === last);
    const stats = session.stats();
    expect(stats.updates).toBe(30);
    // 300 ms of typing at one start per 100 ms: the leading start at 0, window ends at 100 and 200,
    // and the trailing one at 300 with the last text; the window at 400 finds nothing pending.
    expect(stats.started).toBe(4);
    expect(stats.superseded).toBe(3);
    const done = events.at(-1);
    expect(done?.type === 'done' && done.images.length).toBe(1);
    const finals = events.filter((event) => event.type === 'final');
    expect(finals.map((event) => event.seq)).toEqual([last]);
    await eventually(() => server.stats().tasksRunning, (running) => running === 0);
  });

  it('cancels the stale task on the server when a newer request starts, and yields only the latest', async () => {
    const engine = createGateEngine(createProceduralEngine({ stepDelayMs: 5 }));
    const { server, client } = await setUp({ engine });
    expect(client.serverExtensions).toContain('cancel');
    const session = live(client, { throttleMs: 0 });
    const seen: LiveEvent[] = [];
    const reading = collect(session, (event) => {
      seen.push(event);
      return event.type === 'done';
    });
    const first = session.update(request('a red fox'));
    await engine.waiting(1); // the first task's previews went out; its final is held at the gate
    await eventually(() => seen.some((event) => event.seq === first && event.type === 'preview'), Boolean);
    const second = session.update(request('a blue whale'));
    // Server-side evidence: the engine's signal for the first generation aborted (cancel arrived).
    await engine.aborted(0);
    await engine.started(2);
    engine.openAll();
    const events = await reading;
    const startOfSecond = events.findIndex((event) => event.type === 'start' && event.seq === second);
    expect(startOfSecond).toBeGreaterThan(0);
    expect(events.slice(startOfSecond).every((event) => event.seq === second)).toBe(true);
    expect(events.filter((event) => event.type === 'final').map((event) => event.seq)).toEqual([second]);
    expect(events.some((event) => event.type === 'error')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'done', seq: second });
    await eventually(() => server.stats().tasksRunning, (running) => running === 0);
  });

  it('passes events to onEvent as well, tagged with their seq', async () => {
    const { client } = await setUp({ stepDelayMs: 2 });
    const received: LiveEvent[] = [];
    const session = live(client, { onEvent: (event) => received.push(event), previews: { maxSide: 64 } });
    const seq = session.update(request('a green owl', { steps: 3 }));
    await eventually(() => received.at(-1)?.type, (type) => type === 'done');
    expect(received.map((event) => event.type)).toEqual(['start', 'preview', 'preview', 'preview', 'final', 'done']);
    expect(received.every((event) => event.seq === seq)).toBe(true);
    const preview = received[1];
    expect(preview?.type === 'preview' && [preview.step, preview.steps, preview.image.width]).toEqual([1, 3, 64]);
  });

  it('reports the latest request failing, never a stale one', async () => {
    const { client } = await setUp({ stepDelayMs: 2 });
    const received: LiveEvent[] = [];
    const session = live(client, { throttleMs: 0, onEvent: (event) => received.push(event) });
    const seq = session.update(request('x'));
    await eventually(() => received.at(-1)?.type, (type) => type === 'error');
    const error = received.at(-1);
    expect(error?.type === 'error' && error.seq === seq && 'code' in error.error && error.error.code).toBe('invalidPositivePrompt');
  });

  it('close() aborts the running task on the server, drops the pending one and ends the iterator', async () => {
    const engine = createGateEngine(createProceduralEngine({ stepDelayMs: 5 }));
    const { server, client } = await setUp({ engine });
    const session = live(client, { throttleMs: 200 });
    const reading = collect(session, () => false);
    session.update(request('a quiet harbour'));
    await engine.waiting(1);
    session.update(request('a quiet harbour at night')); // pending behind the throttle window
    session.close();
    await engine.aborted(0);
    const events = await reading;
    expect(events.map((event) => event.type)).not.toContain('final');
    await sleep(300); // past the throttle window: the dropped request must not start
    expect(engine.signals).toHaveLength(1);
    expect(session.stats()).toMatchObject({ updates: 2, started: 1, superseded: 1 });
    expect(() => session.update(request('again'))).toThrow(TypeError);
    await eventually(() => server.stats().tasksRunning, (running) => running === 0);
    expect(client.stats().open).toBe(0);
  });
});
