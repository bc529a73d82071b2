// The error a client's tasks end with when it never reached its server: what the last attempt ran
// into (refused, host not found, an HTTP answer instead of a WebSocket, silence), in words a person
// can act on, with a hint when the URL lacks the /v1 path Runware-compatible servers listen on.
import { ConnectionError, type ImagewireError, type UnreachableReason } from '../errors.js';

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

/** What the last attempt's error says, looking through its causes. */
function classify(last: ImagewireError | undefined): { reason: UnreachableReason; httpStatus?: number; detail: string } {
  if (last === undefined) return { reason: 'unknown', detail: 'no attempt finished' };
  if (last.code === 'connectTimeout') return { reason: 'connectTimeout', detail: last.message };
  if (last.code === 'authTimeout') return { reason: 'authTimeout', detail: 'the socket opened, but no authentication reply came' };
  for (let cause: unknown = last.cause, depth = 0; cause !== undefined && depth < 4; cause = (cause as { cause?: unknown }).cause, depth++) {
    const code = errorCode(cause) ?? errorCode((cause as { error?: unknown }).error);
    if (code !== undefined && REFUSED.has(code)) return { reason: 'refused', detail: `the connection was refused (${code})` };
    if (code !== undefined && NOT_FOUND.has(code)) return { reason: 'notFound', detail: `the host was not found (${code})` };
    // `ws` reports a non-101 answer to the upgrade as "Unexpected server response: 404".
    const status = /Unexpected server response: (\d{3})/.exec(textOf(cause))?.[1];
    if (status !== undefined) return { reason: 'httpStatus', httpStatus: Number(status), detail: `the server answered HTTP ${status} instead of a WebSocket upgrade` };
  }
  if (last.code === 'connectionClosed') return { reason: 'closed', detail: last.message };
  return { reason: 'unknown', detail: last.message };
}

/** A hint when the URL's path is not /v1, where Runware-compatible servers take WebSockets. */
function pathHint(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return '';
  }
  if (path === '/v1' || path === '/v1/') return '';
  return `; the URL's path is "${path}", and Runware-compatible servers take WebSockets at /v1 (did you mean ${url.replace(/\/?$/, '').replace(/(\/\/[^/]+).*$/, '$1')}/v1?)`;
}

/** The error for tasks of a client that never reached `url` within `budgetMs`. */
export function unreachableError(url: string, budgetMs: number, attempts: number, last: ImagewireError | undefined): ConnectionError {
  const { reason, httpStatus, detail } = classify(last);
  const hint = reason === 'httpStatus' || reason === 'closed' || reason === 'unknown' ? pathHint(url) : '';
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  return new ConnectionError('unreachable', `cannot reach ${url} (${tries} in ${budgetMs} ms): ${detail}${hint}`, { reason, httpStatus, cause: last });
}
