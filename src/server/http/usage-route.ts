// `GET /v1/usage`: the operator reads usage per API key (named by a short id, never the key) and per
// session token, with the admin credential (`adminKey`). A server without one does not have the route.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { protocolError, statusForCode, type ProtocolErrorItem } from '../../protocol/index.js';
import { bearerCredential } from '../auth/auth.js';
import type { UsageStore } from '../usage/usage-store.js';
import { sendJson } from './json-response.js';

/** What the usage route needs from its server. */
export interface UsageRouteDeps {
  /** The admin credential; undefined: the route answers 404 as any unknown path. */
  readonly adminKey: string | undefined;
  readonly usage: UsageStore;
}

/** The path of the route. */
export const USAGE_PATH = '/v1/usage';

function sendError(res: ServerResponse, error: ProtocolErrorItem, headers: Readonly<Record<string, string>> = {}): void {
  sendJson(res, statusForCode(error.code), { errors: [error] }, { 'cache-control': 'no-store', ...headers });
}

/** Compares as SHA-256 digests with timingSafeEqual: neither the length nor the first mismatch shows in the time taken. */
export function isAdminKey(given: string | undefined, adminKey: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given ?? ''), digest(adminKey)) && given !== undefined;
}

/** Answers one request to /v1/usage. Rejects when the store is out of reach (the server answers 500). */
export async function handleUsageRequest(req: IncomingMessage, res: ServerResponse, deps: UsageRouteDeps): Promise<void> {
  if (deps.adminKey === undefined) {
    sendJson(res, 404, { errors: [protocolError('invalidFrame', `nothing is served at ${USAGE_PATH}; the API is at /v1`, { type: 'frame' })] });
    return;
  }
  if (!isAdminKey(bearerCredential(req), deps.adminKey)) {
    sendError(res, protocolError('adminKeyRequired', 'send the admin key as Authorization: Bearer <adminKey>', { parameter: 'adminKey', type: 'string' }), { 'www-authenticate': 'Bearer' });
    return;
  }
  if (req.method !== 'GET') {
    sendError(res, protocolError('invalidFrame', `use GET ${USAGE_PATH}`, { type: 'frame' }), { allow: 'GET' });
    return;
  }
  const report = await deps.usage.report();
  sendJson(res, 200, { data: report }, { 'cache-control': 'no-store' });
}
