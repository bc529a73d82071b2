// JSON answers of the HTTP faces: serialized once, sent with content-length.
import type { ServerResponse } from 'node:http';

/** Sends `body` as JSON with `status` and any extra headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
