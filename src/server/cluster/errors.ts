// The typed errors of the Redis stores: Redis unreachable (fail fast, never hang) and a reply the
// stores did not expect, each with a stable code the server maps to its protocol errors.
/** Redis could not be reached, or did not answer in time: the operation may or may not have happened. */
export class RedisUnavailableError extends Error {
  /** Stable code for logs and for the mapping to protocol errors. */
  readonly code = 'redisUnavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnavailableError';
  }
}

/** Redis answered something the store's scripts never return: a bug or a foreign writer of our keys. */
export class RedisReplyError extends Error {
  readonly code = 'redisReplyUnexpected';

  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

/** Messages ioredis rejects commands with when the connection is down or a command timed out. */
const connectionMessages = ['Connection is closed', 'Command timed out', "Stream isn't writeable", 'connect ECONNREFUSED', 'connect ENOENT', 'read ECONNRESET', 'write EPIPE'];
const connectionCodes = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** True when `error` says Redis was not reachable (as opposed to an answer Redis gave). */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof RedisUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  // ioredis flushes its queues with this when a command outlived maxRetriesPerRequest reconnects.
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && connectionCodes.has(code)) return true;
  // A refused write under maxmemory with noeviction: Redis is up but takes nothing.
  if (error.message.startsWith('OOM ') || error.message.startsWith('LOADING ') || error.message.startsWith('MISCONF ')) return true;
  return connectionMessages.some((message) => error.message.includes(message));
}

/** Runs one Redis operation, turning every "not reachable" failure into {@link RedisUnavailableError}. */
export async function guarded<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isUnavailable(error)) throw new RedisUnavailableError(`Redis is unavailable (${operation}): ${(error as Error).message}`, { cause: error });
    throw error;
  }
}
