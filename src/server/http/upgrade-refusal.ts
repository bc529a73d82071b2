// Refusing a WebSocket upgrade before any WebSocket exists: a plain HTTP error in the protocol's
// error shape, written once and the socket destroyed, and the error item of an origin refusal.
import type { Duplex } from 'node:stream';
import { protocolError, type ProtocolErrorItem } from '../../protocol/index.js';
import type { OriginRefusal } from './origin-policy.js';

/** A socket's 'error' listener that ends it (bound as `this`). */
export function destroySocket(this: Duplex): void {
  this.destroy();
}

const statusTexts: Readonly<Record<number, string>> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** Answers an upgrade with an HTTP error (the protocol's error shape) and closes the socket once written. */
export function rejectUpgrade(socket: Duplex, status: number, error?: ProtocolErrorItem, headers = ''): void {
  const body = error === undefined ? '' : JSON.stringify({ errors: [error] });
  const head = `HTTP/1.1 ${status} ${statusTexts[status] ?? 'Error'}\r\nConnection: close\r\n${headers}${body === '' ? '' : 'Content-Type: application/json; charset=utf-8\r\n'}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  // Destroyed once written: a peer that never closes its side must not keep the socket.
  socket.end(head + body, () => socket.destroy());
}

/** The error item of an origin or host refusal. */
export function refusalError(refusal: OriginRefusal): ProtocolErrorItem {
  return refusal.kind === 'origin'
    ? protocolError('originNotAllowed', `pages from ${refusal.origin} may not use this server; start it with --allowed-origin (allowedOrigins) to allow them`)
    : protocolError('hostNotAllowed', `this server does not answer to the host ${JSON.stringify(refusal.host)}; use one of its own addresses, or allow the name with --allowed-origin (allowedOrigins) or --public-url`);
}
