// The `redis` option and the connections made from it: URLs read without leaking passwords, and
// commands during a Redis outage rejected promptly with a typed error instead of hanging.
import { describe, expect, it } from 'vitest';
import { RedisUnavailableError } from '../../src/server/cluster/errors.js';
import { RedisConnections, describeRedisOption, parseRedisOption, reconnectCapMs, reconnectDelay } from '../../src/server/cluster/redis-options.js';
import { SessionLog } from '../../src/server/cluster/session-log.js';
import { redisAvailable, startRedis } from '../helpers/redis-server.js';

describe('parseRedisOption', () => {
  it('reads redis://, rediss:// and unix: forms', () => {
    expect(parseRedisOption('redis://127.0.0.1:6380/2')).toEqual({ host: '127.0.0.1', port: 6380, db: 2 });
    expect(parseRedisOption('redis://user:p%40ss@host')).toEqual({ host: 'host', port: 6379, username: 'user', password: 'p@ss' });
    expect(parseRedisOption('rediss://[::1]:7000')).toEqual({ host: '::1', port: 7000, tls: { servername: '::1' } });
    expect(parseRedisOption('unix:/run/redis.sock')).toEqual({ path: '/run/redis.sock' });
    expect(parseRedisOption('unix:///run/redis.sock')).toEqual({ path: '/run/redis.sock' });
    expect(parseRedisOption({ host: 'h', port: 1 })).toEqual({ host: 'h', port: 1 });
  });

  it('refuses nonsense without echoing a password', () => {
    for (const bad of ['http://u:secret@host', 'redis://u:secret@host/notadb', 'unix:relative.sock', 'secret-not-a-url']) {
      let message = '';
      try {
        parseRedisOption(bad);
      } catch (error) {
        expect(error).toBeInstanceOf(RangeError);
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('secret');
    }
    expect(() => parseRedisOption({ keyPrefix: 'x:' })).toThrow(RangeError);
    expect(describeRedisOption('redis://u:secret@host:1')).toBe('redis://u:***@host:1');
    expect(describeRedisOption({ host: 'h', password: 'secret' })).not.toContain('secret');
  });

  it('backs off exponentially to a cap', () => {
    expect(reconnectDelay(1, () => 0)).toBe(50);
    expect(reconnectDelay(3, () => 0)).toBe(200);
    expect(reconnectDelay(40, () => 0.999)).toBe(reconnectCapMs + 99);
  });
});

describe.runIf(redisAvailable())('connections during a Redis outage', () => {
  it('reject commands with RedisUnavailableError (no hang), and work again once Redis is back', async () => {
    const redis = await startRedis();
    const errors: string[] = [];
    const connections = new RedisConnections({ redis: redis.url, onError: (error) => errors.push(error.message) });
    try {
      const connection = connections.create('command');
      // The outage must be noticed by the reconnect rule, not by the last-resort command timeout.
      connection.options.commandTimeout = undefined;
      const log = new SessionLog({ redis: connection, limits: { maxHeldSessions: 10, maxHeldSessionsPerKey: 10, maxHeldBytesPerSession: 1 << 20, maxHeldBytesPerKey: 1 << 20, maxHeldBytesTotal: 1 << 20 } });
      expect((await log.create('A')).kind).toBe('created');
      await redis.kill('SIGKILL');
      // Both a command issued while the socket is still thought open and ones issued after.
      const outcomes = await Promise.allSettled([log.create('A'), log.read('x', 0, 1), log.create('A')]);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(RedisUnavailableError);
      }
      const later = await log.create('A').catch((error: unknown) => error);
      expect(later).toBeInstanceOf(RedisUnavailableError);
      await redis.restart();
      await expect.poll(async () => (await log.create('A').catch(() => ({ kind: 'down' }))).kind, { timeout: 10_000 }).toBe('created');
      expect(errors.join('\n')).not.toContain('secret');
    } finally {
      await connections.close();
      await redis.close();
    }
  }, 30_000);

  it('a closed connection that still reports a socket error (EPIPE after the close) does not print it as unhandled', async () => {
    const redis = await startRedis();
    const connections = new RedisConnections({ redis: redis.url });
    try {
      const connection = connections.create('command');
      await connection.ping();
      await connections.close();
      // A late write error on the closing socket: with no listener left, ioredis prints
      // "[ioredis] Unhandled error event" (a crash line to the process's supervisor), and a plain emit throws.
      const late = Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' });
      expect(() => connection.emit('error', late)).not.toThrow();
      expect(connection.listenerCount('error')).toBeGreaterThan(0);
    } finally {
      await redis.close();
    }
  });
});
