// What a failed connection attempt of the Node socket (`ws`) says about why: Node's error codes for
// "nobody listens there" and "no such host", and `ws`'s message for an HTTP answer to the upgrade.
// Browsers report none of this, so only the Node socket carries it (browser apps do not ship it).
import type { SocketFailure } from './socket.js';

/** Node's codes for "nobody listens there" and "no such host". */
const REFUSED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);
const NOT_FOUND = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);

function errorCode(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function textOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  return typeof value === 'string' ? value : '';
}

/** Looks through an attempt's error and its causes for what Node and `ws` said. */
export function describeNodeSocketFailure(error: unknown): SocketFailure | undefined {
  for (let cause: unknown = error, depth = 0; cause !== undefined && cause !== null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const code = errorCode(cause) ?? errorCode((cause as { error?: unknown }).error);
    if (code !== undefined && REFUSED.has(code)) return { reason: 'refused', detail: `the connection was refused (${code})` };
    if (code !== undefined && NOT_FOUND.has(code)) return { reason: 'notFound', detail: `the host was not found (${code})` };
    // `ws` reports a non-101 answer to the upgrade as "Unexpected server response: 404".
    const status = /Unexpected server response: (\d{3})/.exec(textOf(cause))?.[1];
    if (status !== undefined) return { reason: 'httpStatus', httpStatus: Number(status), detail: `the server answered HTTP ${status} instead of a WebSocket upgrade` };
  }
  return undefined;
}
