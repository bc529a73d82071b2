// The error a client's tasks end with when it never reached its server: what the last attempt ran
// into (refused, host not found, an HTTP answer instead of a WebSocket, silence), in words a person
// can act on, with a hint when the URL lacks the /v1 path Runware-compatible servers listen on.
// What the socket itself reported is read by the socket implementation (socket/node-failures.ts).
import { ConnectionError, type ImagewireError, type UnreachableReason } from '../errors.js';
import type { SocketFailure } from '../socket/socket.js';

/** What the last attempt's error says; `describeSocket` reads what the socket reported. */
function classify(last: ImagewireError | undefined, describeSocket: ((error: unknown) => SocketFailure | undefined) | undefined): { reason: UnreachableReason; httpStatus?: number; detail: string } {
  if (last === undefined) return { reason: 'unknown', detail: 'no attempt finished' };
  if (last.code === 'connectTimeout') return { reason: 'connectTimeout', detail: last.message };
  if (last.code === 'authTimeout') return { reason: 'authTimeout', detail: 'the socket opened, but no authentication reply came' };
  const fromSocket = describeSocket?.(last.cause);
  if (fromSocket !== undefined) return fromSocket;
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
export function unreachableError(
  url: string,
  budgetMs: number,
  attempts: number,
  last: ImagewireError | undefined,
  describeSocket?: (error: unknown) => SocketFailure | undefined,
): ConnectionError {
  const { reason, httpStatus, detail } = classify(last, describeSocket);
  const hint = reason === 'httpStatus' || reason === 'closed' || reason === 'unknown' ? pathHint(url) : '';
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  return new ConnectionError('unreachable', `cannot reach ${url} (${tries} in ${budgetMs} ms): ${detail}${hint}`, { reason, httpStatus, cause: last });
}
