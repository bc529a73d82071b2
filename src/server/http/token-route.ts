// `POST /v1/tokens`: a backend holding an API key mints a short-lived session token to hand to a
// browser, optionally narrowed by a scope. Answers `{"data":[{token, expiresAt, ttlSeconds, tokenId,
// scope}]}` or protocol-shaped `{"errors":[...]}`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { boundErrorItem, describeValue, isRecord, parseJsonWithin, protocolError, quoteText, statusForCode, type ErrorCode, type ParameterType, type ProtocolErrorItem } from '../../protocol/index.js';
import { isScopeProblem, readScope, type TokenScope } from '../usage/token-scope.js';
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

/** A token request body is small (a scope lists at most 8 models); anything larger is refused unread. */
const MAX_BODY_BYTES = 4_096;

/** Tokens are credentials: no cache may keep an answer of this route. */
function send(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  sendJson(res, status, body, { 'cache-control': 'no-store', ...headers });
}

function sendError(res: ServerResponse, error: ProtocolErrorItem, headers: Record<string, string> = {}): void {
  send(res, statusForCode(error.code), { errors: [boundErrorItem(error)] }, headers);
}

/** A token body is an object with a scope object holding one list: nothing nests deeper. */
const BODY_BOUNDS = { maxDepth: 4, maxValues: 64 };

/** What is wrong with a token request body: its code, message and the field at fault. */
export interface TokenRequestProblem {
  readonly code: Extract<ErrorCode, 'invalidTokenRequest' | 'frameTooComplex'>;
  readonly message: string;
  readonly parameter?: string;
}

/** A token request as read: its lifetime and scope. */
export interface TokenRequest {
  readonly ttlSeconds: number;
  readonly scope: TokenScope;
}

/** Reads `{ttlSeconds?, scope?}` (an empty body means the defaults and no scope); a problem says what is wrong. */
export function readTokenRequest(body: Buffer, tokens: TokenIssuer): TokenRequest | TokenRequestProblem {
  const text = body.toString('utf8');
  if (text.trim() === '') return { ttlSeconds: tokens.defaultTtlSeconds, scope: {} };
  const problem = (message: string, parameter?: string): TokenRequestProblem => (parameter === undefined ? { code: 'invalidTokenRequest', message } : { code: 'invalidTokenRequest', message, parameter });
  const parsed = parseJsonWithin(text, BODY_BOUNDS);
  if (!parsed.ok) return parsed.problem === 'tooComplex' ? { code: 'frameTooComplex', message: `the body is too complex: ${parsed.reason}` } : problem('the body is not valid JSON');
  const record = parsed.value;
  if (!isRecord(record)) return problem('the body must be a JSON object');
  const unknown = Object.keys(record).find((key) => key !== 'ttlSeconds' && key !== 'scope');
  if (unknown !== undefined) return problem(`unknown field ${quoteText(unknown)}; only ttlSeconds and scope are accepted`);
  const own = (key: string): unknown => (Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined);
  const ttl = own('ttlSeconds') ?? tokens.defaultTtlSeconds;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > tokens.maxTtlSeconds) {
    return problem(`ttlSeconds must be an integer from 1 to ${tokens.maxTtlSeconds}; got ${describeValue(ttl)}`, 'ttlSeconds');
  }
  const rawScope = own('scope');
  const scope = rawScope === undefined ? {} : readScope(rawScope);
  if (isScopeProblem(scope)) return problem(scope.message, scope.parameter);
  return { ttlSeconds: ttl, scope };
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
  const request = readTokenRequest(body, deps.tokens);
  if ('code' in request) {
    sendError(res, protocolError(request.code, request.message, request.code === 'frameTooComplex' ? { type: 'frame' } : { parameter: request.parameter, type: parameterType(request.parameter) }));
    return;
  }
  send(res, 200, { data: [mintedItem(deps.tokens, outcome.owner, request.ttlSeconds, request.scope)] });
}

/** The wire type of a token request field at fault. */
function parameterType(parameter: string | undefined): ParameterType | undefined {
  if (parameter === undefined) return undefined;
  if (parameter === 'scope') return 'object';
  if (parameter === 'scope.models') return 'array';
  if (parameter.startsWith('scope.models[')) return 'string';
  return parameter === 'scope.budget' ? 'float' : 'integer';
}

/** The answer item of a minted token: the token, its expiry, its id and the scope it carries. */
export function mintedItem(tokens: TokenIssuer, owner: string, ttlSeconds: number, scope: TokenScope = {}): { token: string; expiresAt: string; ttlSeconds: number; tokenId: string; scope: TokenScope } {
  const minted = tokens.mint(owner, ttlSeconds, scope);
  return { token: minted.token, expiresAt: new Date(minted.expiresAtMs).toISOString(), ttlSeconds: minted.ttlSeconds, tokenId: minted.id, scope };
}
