// The HTTP server's answer to a request it could not parse (node:http's 'clientError'): 400 for a
// malformed request line or headers, 431 for headers beyond maxHttpHeaderBytes, 408 for a request
// not received within its timeout; then the connection is closed. A response already being written
// on the connection is not interrupted by a raw status line: that connection is cut instead.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** The response of each connection's current request. */
const responses = new WeakMap<Duplex, ServerResponse>();

/** Remembers the request's response until it ends, so a parse error on its connection does not write into it. */
export function trackResponse(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  responses.set(socket, res);
  res.once('close', () => {
    if (responses.get(socket) === res) responses.delete(socket);
  });
  // A write after the end (a route's bug) emits 'error' on the response; unheard, it would end the process.
  res.on('error', ignoreResponseError);
}

function ignoreResponseError(): void {
  // The connection is already gone or the answer already ended; there is no one left to tell.
}

function statusLine(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

/** The 'clientError' listener. Never throws. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  try {
    const res = responses.get(socket);
    const midResponse = res !== undefined && res.headersSent && !res.writableEnded;
    if (error.code === 'ECONNRESET' || !socket.writable || midResponse) {
      socket.destroy();
      return;
    }
    socket.end(`HTTP/1.1 ${statusLine(error.code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  } catch {
    socket.destroy();
  }
}
