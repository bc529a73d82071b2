// The reconnect policy: full jitter with the cap applied before the jitter, one immediate retry
// after a live connection drops, no reset for a connection that drops right after its reply, and
// the schedule a real Connection follows on fake time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff, backoffDelay, defaultReconnect } from '../../src/client/connection/backoff.js';
import { ImagewireClient, type StateChange } from '../../src/client/index.js';
import { FakeSocket } from './fake-socket.js';

const policy = { ...defaultReconnect, initialDelayMs: 100, maxDelayMs: 1_000, factor: 2, minUptimeMs: 1_000 };

describe('backoffDelay', () => {
  it('draws uniformly below a bound that doubles per failure', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 0.999999))).toEqual([99, 199, 399, 799]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
  });

  it('caps the bound before the jitter, so capped waits stay spread over [0, cap)', () => {
    // socket.io caps after the jitter, so every capped client waits exactly the cap.
    const waits = [0.1, 0.5, 0.9].map((r) => backoffDelay(30, policy, () => r));
    expect(waits).toEqual([100, 500, 900]);
  });
});

describe('Backoff', () => {
  it('retries at once after a connection that was up long enough, then backs off', () => {
    const backoff = new Backoff(policy, () => 0.5);
    backoff.up(0);
    expect(backoff.next(5_000)).toBe(0);
    expect(backoff.next(5_001)).toBe(50);
    expect(backoff.next(5_002)).toBe(100);
    expect(backoff.failures).toBe(2);
  });

  it('reconnects at once after a going-away close (1001), even right after the reply, and never counts it as a failure', () => {
    const backoff = new Backoff({ ...policy, maxAttempts: 3 }, () => 0.5);
    expect(backoff.next(0)).toBe(50);
    expect(backoff.next(1)).toBe(100);
    backoff.up(2);
    // Up for 8 ms only: a plain drop would be a third failure and, with maxAttempts 3, the end.
    expect(backoff.next(10, 'goingAway')).toBe(0);
    expect(backoff.failures).toBe(2);
    // A going-away before any reply is an ordinary failed attempt.
    expect(backoff.next(20, 'goingAway')).toBeUndefined();
  });

  it('backs off without counting when a server keeps sending its clients away at once', () => {
    const backoff = new Backoff(policy, () => 0.5);
    const waits: (number | undefined)[] = [];
    for (let at = 0; at < 5; at++) {
      backoff.up(at * 100);
      waits.push(backoff.next(at * 100 + 10, 'goingAway'));
    }
    expect(waits[0]).toBe(0);
    expect(waits.slice(1).every((wait) => wait !== undefined && wait > 0)).toBe(true);
    expect(backoff.failures).toBe(0);
    // Once the going-aways are spread out again, the next one is immediate.
    backoff.up(10_000);
    expect(backoff.next(10_010, 'goingAway')).toBe(0);
  });

  it('does not reset for a connection that drops right after its authentication reply', () => {
    const backoff = new Backoff(policy, () => 0.5);
    expect(backoff.next(0)).toBe(50);
    expect(backoff.next(1)).toBe(100);
    // Authenticated, then dropped within minUptimeMs: counts as a third failure in a row.
    backoff.up(2);
    expect(backoff.next(3)).toBe(200);
    backoff.up(4);
    expect(backoff.next(5)).toBe(400);
  });

  it('gives up after maxAttempts failures in a row', () => {
    const backoff = new Backoff({ ...policy, maxAttempts: 3 }, () => 0.5);
    expect(backoff.next(0)).toBe(50);
    expect(backoff.next(0)).toBe(100);
    expect(backoff.next(0)).toBeUndefined();
  });
});

describe('Connection schedule on fake time', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits the jittered delays between refused attempts and stops when closed', async () => {
    FakeSocket.reset({ onConnect: () => 'refuse' });
    const client = new ImagewireClient({ apiKey: 'k', url: 'ws://fake/v1', WebSocket: FakeSocket, reconnect: policy, random: () => 0.5, networkEvents: false });
    const changes: StateChange[] = [];
    client.on('state', (change) => changes.push(change));
    const start = Date.now();
    void client.connect().catch(() => undefined);
    // The first socket is created at once; then wait for each next one.
    const attemptTimes: number[] = [0];
    for (let i = 0; i < 4; i++) {
      const before = FakeSocket.created.length;
      while (FakeSocket.created.length === before) await vi.advanceTimersByTimeAsync(1);
      attemptTimes.push(Date.now() - start);
    }
    // Bounds 100, 200, 400, 800 ms at random 0.5: waits 50, 100, 200, 400.
    const gaps = attemptTimes.slice(1).map((time, i) => time - (attemptTimes[i] ?? 0));
    expect(gaps).toEqual([50, 100, 200, 400]);
    const delays = changes.filter((c) => c.state.name === 'reconnecting').map((c) => (c.state.name === 'reconnecting' ? c.state.delayMs : -1));
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);
    await client.close();
    const count = FakeSocket.created.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.created.length).toBe(count);
    expect(client.state).toBe('closed');
  });

  it('retries at once after a live connection drops, and resets the count only after the reply', async () => {
    FakeSocket.reset({ onConnect: () => 'accept' });
    const client = new ImagewireClient({ apiKey: 'k', url: 'ws://fake/v1', WebSocket: FakeSocket, reconnect: policy, random: () => 0.5, networkEvents: false });
    await client.connect();
    await vi.advanceTimersByTimeAsync(2_000);
    const reconnecting: number[] = [];
    client.on('state', (change) => {
      if (change.state.name === 'reconnecting') reconnecting.push(change.state.delayMs);
    });
    FakeSocket.created.at(-1)?.drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(reconnecting).toEqual([0]);
    expect(client.state).not.toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(10);
    expect(client.state).toBe('open');
    await client.close();
  });
});
