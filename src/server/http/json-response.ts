// JSON answers of the HTTP faces: serialized once, sent with content-length.
import type { ServerResponse } from 'node:http';
import { stringifyJson } from '../../protocol/index.js';

/** The error codes each answer carried, for the server's error-answer count (read once the answer is sent). */
const answeredCodes = new WeakMap<ServerResponse, readonly string[]>();

/** The error codes of a JSON answer sent with {@link sendJson}: protocol error items, or an OpenAI-style error's code (its type without one). */
export function errorCodesOf(res: ServerResponse): readonly string[] {
  return answeredCodes.get(res) ?? [];
}

function codesIn(body: unknown): readonly string[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  if ('errors' in body && Array.isArray(body.errors)) return body.errors.map((item: unknown) => (typeof item === 'object' && item !== null && 'code' in item && typeof item.code === 'string' ? item.code : 'unknown'));
  if ('error' in body && typeof body.error === 'object' && body.error !== null) {
    const error: { code?: unknown; type?: unknown } = body.error;
    return [typeof error.code === 'string' ? error.code : typeof error.type === 'string' ? error.type : 'unknown'];
  }
  return undefined;
}

/** Sends `body` as JSON with `status` and any extra headers; a bigint (a large seed) keeps its exact digits. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const codes = status >= 400 ? codesIn(body) : undefined;
  if (codes !== undefined) answeredCodes.set(res, codes);
  const text = stringifyJson(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': `${Buffer.byteLength(text)}` });
  res.end(text);
}
