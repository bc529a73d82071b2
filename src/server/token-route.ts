// `POST /v1/tokens`: a backend holding an API key mints a short-lived session token to hand to a
// browser. Answers `{"data":[{token, expiresAt, ttlSeconds}]}` or protocol-shaped `{"errors":[...]}`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { protocolError, statusForCode, type ProtocolErrorItem } from '../protocol/index.js';
import { authError, bearerCredential, type Authenticator } from './auth.js';
import { sendJson } from './json-response.js';
import { acceptedBodyType, mediaType } from './media-type.js';
import { readBounded } from './request-body.js';
import type { TokenIssuer } from './tokens.js';

/** What the token route needs from its server. */
export interface TokenRouteDeps {
  readonly authenticate: Authenticator;
  readonly tokens: TokenIssuer;
}

/** A token request body is tiny; anything larger is refused unread. */
const MAX_BODY_BYTES = 1_024;

/** Tokens are credentials: no cache may keep an answer of this route. */
function send(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  sendJson(res, status, body, { 'cache-control': 'no-store', ...headers });
}

function sendError(res: ServerResponse, error: ProtocolErrorItem, headers: Record<string, string> = {}): void {
  send(res, statusForCode(error.code), { errors: [error] }, headers);
}

/** Reads `{ttlSeconds?}` (an empty body means the defaults); a string describes what is wrong. */
export function readTtl(body: Buffer, tokens: TokenIssuer): number | string {
  const text = body.toString('utf8');
  if (text.trim() === '') return tokens.defaultTtlSeconds;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'the body is not valid JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the body must be a JSON object';
  const record = parsed as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => key !== 'ttlSeconds');
  if (unknown.length > 0) return `unknown field ${unknown[0] ?? ''}; only ttlSeconds is accepted`;
  const ttl = record.ttlSeconds;
  if (ttl === undefined) return tokens.defaultTtlSeconds;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > tokens.maxTtlSeconds) {
    return `ttlSeconds must be an integer from 1 to ${tokens.maxTtlSeconds}`;
  }
  return ttl;
}

/** Answers one request to /v1/tokens. */
export async function handleTokenRequest(req: IncomingMessage, res: ServerResponse, deps: TokenRouteDeps): Promise<void> {
  if (req.method !== 'POST') {
    sendError(res, protocolError('invalidTokenRequest', 'use POST /v1/tokens with Authorization: Bearer <API key>'), { allow: 'POST' });
    return;
  }
  const credential = bearerCredential(req);
  if (credential === undefined) {
    sendError(res, protocolError('missingApiKey', 'send the API key as Authorization: Bearer <key>', { parameter: 'apiKey', type: 'string' }), { 'www-authenticate': 'Bearer' });
    return;
  }
  const outcome = await deps.authenticate(credential);
  if (!outcome.ok) {
    sendError(res, authError(outcome.code), { 'www-authenticate': 'Bearer' });
    return;
  }
  // A stolen token must not be able to extend its own life.
  if (outcome.token) {
    sendError(res, protocolError('tokenNotAllowed', 'a session token cannot mint tokens; use the API key', { parameter: 'apiKey', type: 'string' }));
    return;
  }
  const body = await readBounded(req, MAX_BODY_BYTES);
  if (body === undefined) {
    sendError(res, protocolError('invalidTokenRequest', `the body must be at most ${MAX_BODY_BYTES} bytes`));
    return;
  }
  // The body is optional; when there is one it is JSON, never a type a page elsewhere may post.
  if (body.length > 0 && acceptedBodyType(req, ['application/json']) === undefined) {
    const given = mediaType(req);
    sendError(res, protocolError('unsupportedMediaType', `send the body as content-type: application/json; got ${given === '' ? 'no content-type' : given}`));
    return;
  }
  const ttl = readTtl(body, deps.tokens);
  if (typeof ttl === 'string') {
    sendError(res, protocolError('invalidTokenRequest', ttl, { parameter: 'ttlSeconds', type: 'integer' }));
    return;
  }
  send(res, 200, { data: [mintedItem(deps.tokens, outcome.owner, ttl)] });
}

/** The answer item of a minted token. */
export function mintedItem(tokens: TokenIssuer, owner: string, ttlSeconds: number): { token: string; expiresAt: string; ttlSeconds: number } {
  const minted = tokens.mint(owner, ttlSeconds);
  return { token: minted.token, expiresAt: new Date(minted.expiresAtMs).toISOString(), ttlSeconds: minted.ttlSeconds };
}
