// JSON answers of the HTTP faces: serialized once, sent with content-length.
import type { ServerResponse } from 'node:http';
import { stringifyJson } from '../../protocol/index.js';

/** Sends `body` as JSON with `status` and any extra headers; a bigint (a large seed) keeps its exact digits. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = stringifyJson(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': `${Buffer.byteLength(text)}` });
  res.end(text);
}
