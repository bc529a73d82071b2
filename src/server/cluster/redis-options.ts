// The user's `redis` option (a redis:// or rediss:// URL, `unix:/path.sock`, or ioredis options) read
// into ioredis options, and the connections a node needs, each failing fast while Redis is away.
import { Redis, type RedisOptions } from 'ioredis';

/** What a user may pass as `redis`: a URL string or ioredis options (without `keyPrefix`: use the stores' prefix). */
export type RedisOption = string | RedisOptions;

/** Why a connection exists; each role has its own failure behaviour. */
export type RedisRole = 'command' | 'subscriber' | 'queue';

/** Reconnect delays: 50 ms doubling to this cap, plus up to 100 ms of jitter so nodes do not reconnect in step. */
export const reconnectCapMs = 2_000;

/**
 * Time a command may wait for its reply before it fails with {@link RedisUnavailableError}: the
 * bound for a Redis that accepts the connection but does not answer (stopped, swapping). The
 * largest thing a store sends is one result image (a few MiB), which takes milliseconds.
 */
export const defaultCommandTimeoutMs = 5_000;

/** Time to establish a connection before the attempt counts as failed. */
export const defaultConnectTimeoutMs = 2_000;

/** The reconnect delay after `attempt` failed attempts: capped exponential backoff with jitter. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  return Math.min(50 * 2 ** Math.max(0, attempt - 1), reconnectCapMs) + Math.floor(random() * 100);
}

/**
 * Reads the user's option into ioredis options. Accepted strings: `redis://[user:password@]host[:port][/db]`,
 * `rediss://...` (TLS, the host checked as the server name), and `unix:/path/to.sock` (also
 * `unix:///path`). Throws RangeError with a message that never contains the password.
 */
export function parseRedisOption(option: RedisOption): RedisOptions {
  if (typeof option !== 'string') {
    if (option.keyPrefix !== undefined && option.keyPrefix !== '') throw new RangeError('redis.keyPrefix is not supported: the Redis stores take their own key prefix (it must also apply inside their scripts)');
    return { ...option };
  }
  if (option.startsWith('unix:')) {
    const path = option.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path.startsWith('/')) throw new RangeError('redis: a unix socket must be given as unix:/absolute/path.sock');
    return { path };
  }
  let url: URL;
  try {
    url = new URL(option);
  } catch {
    throw new RangeError(`redis: not a URL (expected redis://host:port, rediss://host:port or unix:/path.sock): ${describeRedisOption(option)}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RangeError(`redis: unsupported scheme ${url.protocol} (expected redis:, rediss: or unix:)`);
  if (url.hostname === '') throw new RangeError('redis: the URL has no host');
  const options: RedisOptions = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port === '' ? 6379 : Number(url.port) };
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (url.password !== '') options.password = decodeURIComponent(url.password);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '') {
    if (!/^\d+$/.test(db)) throw new RangeError(`redis: the URL's path must be a database number; got ${JSON.stringify(db.slice(0, 20))}`);
    options.db = Number(db);
  }
  if (url.protocol === 'rediss:') options.tls = { servername: options.host ?? url.hostname };
  return options;
}

/** The option as it may be logged: the password (in the URL or in options) replaced by `***`. */
export function describeRedisOption(option: RedisOption): string {
  if (typeof option !== 'string') {
    if (option.path !== undefined) return `unix:${option.path}`;
    return `redis://${option.host ?? 'localhost'}:${option.port ?? 6379}${option.password === undefined ? '' : ' (with a password)'}`;
  }
  if (option.startsWith('unix:')) return option;
  try {
    const url = new URL(option);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    // Whatever it is, it may hold a secret: say only how long it was.
    return `<unparsable, ${option.length} characters>`;
  }
}

/**
 * The ioredis options of one connection of `role`, on top of the user's.
 *
 * - Commands (`command`): `maxRetriesPerRequest: 0`, so every command queued or in flight when the
 *   connection drops is rejected at that moment (and commands issued while it is down at the next
 *   failed reconnect attempt, at most {@link reconnectCapMs} plus the connect timeout later):
 *   callers get {@link RedisUnavailableError} promptly instead of hanging through an outage, and
 *   nothing waits in memory for an unbounded time. `enableOfflineQueue` stays on so that a command
 *   issued during the few milliseconds of a reconnect (or before the first connect) waits for it
 *   rather than failing; the setting above bounds that wait. `autoResendUnfulfilledCommands` is off:
 *   a script that may have run (an append) is never sent twice by the library. `commandTimeout`
 *   bounds a Redis that holds the connection open but does not answer.
 * - Subscribers (`subscriber`): the same backoff, resubscribed on reconnect, no command timeout
 *   (a subscription waits by design).
 * - Queue connections (`queue`, BullMQ's): `maxRetriesPerRequest: null` as BullMQ requires for its
 *   blocking commands, and no offline-queue limit; BullMQ handles its own retries.
 */
export function connectionOptions(option: RedisOption, role: RedisRole, name: string): RedisOptions {
  const base: RedisOptions = {
    connectTimeout: defaultConnectTimeoutMs,
    retryStrategy: (attempt: number) => reconnectDelay(attempt),
    ...parseRedisOption(option),
    connectionName: name,
    lazyConnect: true,
    // RESP2 replies: the stores read plain arrays whatever the server speaks.
    protocol: 2,
  };
  switch (role) {
    case 'command':
      return { commandTimeout: defaultCommandTimeoutMs, ...base, maxRetriesPerRequest: 0, enableOfflineQueue: true, autoResendUnfulfilledCommands: false };
    case 'subscriber':
      return { ...base, maxRetriesPerRequest: 0, enableOfflineQueue: true, autoResubscribe: true };
    case 'queue':
      return { ...base, maxRetriesPerRequest: null, enableReadyCheck: false };
  }
}

/** Options of {@link RedisConnections}. */
export interface RedisConnectionsOptions {
  readonly redis: RedisOption;
  /** Names the connections in `CLIENT LIST` (`<name>:<role>`). @default "imagewire" */
  readonly name?: string;
  /** Called with every connection error (they are also retried); never given the password. */
  readonly onError?: (error: Error, role: RedisRole) => void;
}

/**
 * The Redis connections of one process, created on demand and closed together. Each has an
 * `error` listener (ioredis would otherwise print unhandled errors); {@link close} replaces it with
 * one that drops them, since a closing socket can still report an error after the close resolved
 * (a write that fails with EPIPE while the peer hangs up).
 */
export class RedisConnections {
  readonly #options: RedisConnectionsOptions;
  readonly #open = new Set<Redis>();
  #closed = false;

  constructor(options: RedisConnectionsOptions) {
    // Fails at construction (a typo in the URL), not at the first command.
    parseRedisOption(options.redis);
    this.#options = options;
  }

  /** A new connection of `role`, connecting now; its commands fail fast while Redis is away. */
  create(role: RedisRole): Redis {
    if (this.#closed) throw new Error('internal: RedisConnections used after close');
    const redis = new Redis({ ...connectionOptions(this.#options.redis, role, `${this.#options.name ?? 'imagewire'}:${role}`), replyMapping: 'legacy' });
    redis.on('error', (error: Error) => this.#options.onError?.(error, role));
    this.#open.add(redis);
    // A failed first connect is retried by retryStrategy; commands meanwhile fail fast.
    redis.connect().catch(() => undefined);
    return redis;
  }

  /** Closes every connection this object made (pending commands are rejected); their later errors are dropped. */
  async close(): Promise<void> {
    this.#closed = true;
    const open = [...this.#open];
    this.#open.clear();
    await Promise.all(
      open.map(async (redis) => {
        // Nothing reports on a connection being closed; an errorless one would print it as unhandled.
        redis.removeAllListeners('error');
        redis.on('error', () => undefined);
        try {
          if (redis.status === 'ready') await redis.quit();
          else redis.disconnect();
        } catch {
          redis.disconnect();
        }
      }),
    );
  }
}
