// Keepalive on fake time: a ping after intervalMs of quiet in either direction, a dead socket
// after pongTimeoutMs without an answer, traffic postpones the ping, and a connection whose pongs
// are withheld is replaced within interval + pong deadline.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/internal/clock.js';
import { Disposer } from '../../src/internal/disposer.js';
import { Keepalive } from '../../src/client/connection/keepalive.js';
import { ImagewireClient, TimeoutError } from '../../src/client/index.js';
import { FakeSocket } from './fake-socket.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function keepalive(options = { intervalMs: 1_000, pongTimeoutMs: 500 }) {
  const disposer = new Disposer();
  const pings: number[] = [];
  let dead: number | undefined;
  const start = Date.now();
  const k = new Keepalive(systemClock, disposer, options, {
    sendPing: () => pings.push(Date.now() - start),
    dead: () => {
      dead = Date.now() - start;
    },
  });
  return { k, disposer, pings, dead: () => dead };
}

describe('Keepalive', () => {
  it('pings after a quiet interval and declares the socket dead when nothing answers', async () => {
    const { pings, dead, disposer } = keepalive();
    await vi.advanceTimersByTimeAsync(999);
    expect(pings).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings).toEqual([1_000]);
    await vi.advanceTimersByTimeAsync(499);
    expect(dead()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(dead()).toBe(1_500);
    disposer.dispose();
  });

  it('keeps pinging every interval while pongs come back', async () => {
    const { k, pings, dead, disposer } = keepalive();
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(1_000);
      await vi.advanceTimersByTimeAsync(20);
      k.received();
    }
    expect(pings).toEqual([1_000, 2_000, 3_000]);
    expect(dead()).toBeUndefined();
    disposer.dispose();
  });

  it('counts traffic in both directions: a ping is due when either was quiet', async () => {
    const { k, pings, disposer } = keepalive();
    // Frames arrive all the time but the client writes nothing: the server's idle timer still
    // needs a frame from us, so a ping goes out on schedule.
    for (let t = 0; t < 1_000; t += 100) {
      await vi.advanceTimersByTimeAsync(100);
      k.received();
    }
    expect(pings).toEqual([1_000]);
    disposer.dispose();
  });

  it('pings at once on check() and not twice while one is out', async () => {
    const { k, pings, disposer } = keepalive();
    await vi.advanceTimersByTimeAsync(100);
    k.check();
    k.check();
    expect(pings).toEqual([100]);
    disposer.dispose();
  });

  it('clears every timer when its owner is disposed', async () => {
    const { pings, dead, disposer } = keepalive();
    disposer.dispose();
    expect(disposer.size).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pings).toEqual([]);
    expect(dead()).toBeUndefined();
  });

  it('reports a stale socket when timers were frozen longer than a ping and its deadline', () => {
    const { k, disposer } = keepalive();
    vi.setSystemTime(Date.now() + 2_000);
    expect(k.stale).toBe(true);
    k.received();
    expect(k.stale).toBe(false);
    disposer.dispose();
  });
});

describe('keepalive in a connection', () => {
  it('replaces a socket whose pongs are withheld after interval + pong deadline', async () => {
    let answer = true;
    FakeSocket.reset({ onConnect: () => 'accept', pong: () => answer });
    const client = new ImagewireClient({
      apiKey: 'k',
      url: 'ws://fake/v1',
      WebSocket: FakeSocket,
      keepAlive: { intervalMs: 1_000, pongTimeoutMs: 500 },
      reconnect: { initialDelayMs: 10 },
      networkEvents: false,
    });
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    await client.connect();
    const first = FakeSocket.created[0];
    await vi.advanceTimersByTimeAsync(3_000);
    expect(FakeSocket.created).toHaveLength(1);
    answer = false;
    const start = Date.now();
    while (FakeSocket.created.length === 1) await vi.advanceTimersByTimeAsync(10);
    const detectedAfter = Date.now() - start;
    expect(detectedAfter).toBeLessThanOrEqual(1_000 + 500 + 10);
    expect(first?.readyState).toBe(3);
    expect(errors.some((error) => error instanceof TimeoutError && error.phase === 'pong')).toBe(true);
    await client.close();
  });
});
