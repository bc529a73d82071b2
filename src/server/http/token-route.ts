// `POST /v1/tokens`: a backend holding an API key mints a short-lived session token to hand to a
// browser. Answers `{"data":[{token, expiresAt, ttlSeconds}]}` or protocol-shaped `{"errors":[...]}`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { boundErrorItem, describeValue, parseJsonWithin, protocolError, quoteText, statusForCode, type ErrorCode, type ProtocolErrorItem } from '../../protocol/index.js';
import { authError, bearerCredential, type Authenticator } from '../auth/auth.js';
import { sendJson } from './json-response.js';
import { acceptedBodyType, mediaType } from './media-type.js';
import { readBounded } from './read-bounded.js';
import type { TokenIssuer } from '../auth/tokens.js';

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
  send(res, statusForCode(error.code), { errors: [boundErrorItem(error)] }, headers);
}

/** A token body is a flat object: any nesting at all is more than it needs. */
const BODY_BOUNDS = { maxDepth: 4, maxValues: 64 };

/** What is wrong with a token request body: its code and message. */
export interface TtlProblem {
  readonly code: Extract<ErrorCode, 'invalidTokenRequest' | 'frameTooComplex'>;
  readonly message: string;
}

/** Reads `{ttlSeconds?}` (an empty body means the defaults); a problem says what is wrong. */
export function readTtl(body: Buffer, tokens: TokenIssuer): number | TtlProblem {
  const text = body.toString('utf8');
  if (text.trim() === '') return tokens.defaultTtlSeconds;
  const problem = (message: string): TtlProblem => ({ code: 'invalidTokenRequest', message });
  const parsed = parseJsonWithin(text, BODY_BOUNDS);
  if (!parsed.ok) return parsed.problem === 'tooComplex' ? { code: 'frameTooComplex', message: `the body is too complex: ${parsed.reason}` } : problem('the body is not valid JSON');
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return problem('the body must be a JSON object');
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).find((key) => key !== 'ttlSeconds');
  if (unknown !== undefined) return problem(`unknown field ${quoteText(unknown)}; only ttlSeconds is accepted`);
  const ttl = Object.prototype.hasOwnProperty.call(record, 'ttlSeconds') ? record.ttlSeconds : undefined;
  if (ttl === undefined) return tokens.defaultTtlSeconds;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > tokens.maxTtlSeconds) {
    return problem(`ttlSeconds must be an integer from 1 to ${tokens.maxTtlSeconds}; got ${describeValue(ttl)}`);
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
  if (typeof ttl !== 'number') {
    sendError(res, protocolError(ttl.code, ttl.message, ttl.code === 'frameTooComplex' ? { type: 'frame' } : { parameter: 'ttlSeconds', type: 'integer' }));
    return;
  }
  send(res, 200, { data: [mintedItem(deps.tokens, outcome.owner, ttl)] });
}

/** The answer item of a minted token. */
export function mintedItem(tokens: TokenIssuer, owner: string, ttlSeconds: number): { token: string; expiresAt: string; ttlSeconds: number } {
  const minted = tokens.mint(owner, ttlSeconds);
  return { token: minted.token, expiresAt: new Date(minted.expiresAtMs).toISOString(), ttlSeconds: minted.ttlSeconds };
}
