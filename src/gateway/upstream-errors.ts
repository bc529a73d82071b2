// What the gateway's clients see when the upstream fails a task: the upstream's own code when this
// server knows it, a typed retryable error when the upstream is down or slow, and never the key.
import { ApiError, AuthenticationError, ConnectionError, isImagewireError, QueueFullError, TimeoutError } from '../index.js';
import { EngineError } from '../engine/index.js';
import { errorCodes, type ErrorCode } from '../protocol/index.js';

/** Codes of the upstream that speak about the gateway's own credential, never the gateway client's. */
const credentialCodes: ReadonlySet<string> = new Set(['invalidApiKey', 'missingApiKey', 'notAuthenticated', 'expiredToken']);

function isKnownCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorCodes, code);
}

/** The error a task failed upstream ends with on the gateway. Aborts are the caller's and are not mapped. */
export function engineErrorOf(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  if (error instanceof AuthenticationError || (error instanceof ApiError && credentialCodes.has(error.code))) {
    return new EngineError('upstreamAuthFailed', 'the upstream service refused this server\'s key; the operator has been told', { cause: error });
  }
  if (error instanceof ApiError) {
    if (isKnownCode(error.code)) return new EngineError(error.code, error.message, error.parameter === undefined ? { cause: error } : { parameter: error.parameter, cause: error });
    return new EngineError('upstreamRejected', `the upstream service refused the task: ${error.code}: ${error.message}`, { cause: error });
  }
  if (error instanceof TimeoutError && error.phase === 'task') return new EngineError('upstreamTimeout', `the upstream service did not finish the task within ${error.timeoutMs} ms`, { cause: error });
  if (error instanceof ConnectionError || error instanceof TimeoutError || error instanceof QueueFullError) {
    return new EngineError('upstreamUnavailable', `the upstream service cannot take the task right now (${error.code}); try again shortly`, { cause: error });
  }
  if (isImagewireError(error)) return new EngineError('upstreamRejected', `the upstream answer could not be used (${error.code})`, { cause: error });
  return new EngineError('upstreamUnavailable', 'the upstream service failed unexpectedly; try again shortly', { cause: error });
}
