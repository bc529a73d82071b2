// The cluster tests' own fixtures: a real redis-server that keeps what it acknowledged across a
// SIGKILL (AOF, fsync always), and a round-robin balancer that spreads connections over backends.
import { createServer, createConnection, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startBalancer } from '../helpers/balancer.js';
import { redisAvailable, startRedis } from '../helpers/redis-server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.runIf(redisAvailable())('test redis-server', () => {
  it('keeps an acknowledged write across a SIGKILL and a restart', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.close());
    const first = new Redis({ path: redis.path, lazyConnect: true, maxRetriesPerRequest: 0 });
    await first.connect();
    await first.set('kept', 'yes');
    first.disconnect();
    await redis.kill('SIGKILL');
    await redis.restart();
    const second = new Redis({ path: redis.path, lazyConnect: true });
    cleanups.push(async () => void second.disconnect());
    await second.connect();
    expect(await second.get('kept')).toBe('yes');
    expect(await second.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  });
});

describe('round-robin balancer', () => {
  async function echoServer(tag: string): Promise<{ server: Server; port: number }> {
    const server = createServer((socket) => socket.end(tag));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return { server, port: address.port };
  }
  function read(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let text = '';
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      socket.once('close', () => resolve(text));
      socket.once('error', reject);
    });
  }

  it('spreads connections over the backends in turn and skips one that refuses', async () => {
    const a = await echoServer('a');
    const b = await echoServer('b');
    const closed = await echoServer('gone');
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    const balancer = await startBalancer([a.port, closed.port, b.port]);
    cleanups.push(() => balancer.close());
    const seen = [await read(balancer.port), await read(balancer.port), await read(balancer.port)];
    expect(seen).toEqual(['a', 'b', 'a']);
    expect(balancer.routed).toEqual([a.port, b.port, a.port]);
  });
});
