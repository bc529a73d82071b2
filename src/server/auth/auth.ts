// API key checks. Keys are compared as SHA-256 digests with crypto.timingSafeEqual against every
// configured key, so neither the key's length nor the position of a mismatch shows in the timing.
// Sessions and tasks are owned by a key's digest; the key itself is kept nowhere. A session token
// (tokens.ts) stands in for the key that minted it and resolves to the same owner.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { protocolError, type ProtocolErrorItem } from '../../protocol/index.js';
import { TokenIssuer } from './tokens.js';
import type { TokenGrant } from '../usage/token-scope.js';

/** Keys a server accepts: a list, or a function (which may look keys up elsewhere). */
export type ApiKeys = readonly string[] | ((key: string) => boolean | Promise<boolean>);

/** Who a credential belongs to, or why it was refused. */
export type AuthOutcome =
  | {
      readonly ok: true;
      readonly owner: string;
      /** True when the credential was a session token. */
      readonly token: boolean;
      /** The token's id and scope (undefined for an API key, and for a token minted before tokens had them). */
      readonly grant?: TokenGrant | undefined;
    }
  | { readonly ok: false; readonly code: 'invalidApiKey' | 'expiredToken' };

/** Who asks: the owner (key digest), and the id and scope of the session token it came with, if any. */
export interface Caller {
  readonly owner: string;
  readonly grant?: TokenGrant | undefined;
}

/** Checks a key or a session token; never rejects (a key function that throws refuses). */
export type Authenticator = (credential: string) => Promise<AuthOutcome>;

/** Distinct owners whose id strings are shared between connections. */
const MAX_SHARED_OWNERS = 4_096;

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The owner id of a key: its SHA-256 digest in hex. Safe to keep; never log it anyway. */
export function ownerOf(key: string): string {
  return digest(key).toString('hex');
}

/**
 * Builds the key check. No keys (undefined or an empty list) is open mode: any non-empty key is
 * accepted, which suits local development; say so in the docs of anything that exposes it.
 */
export function createAuthenticator(apiKeys: ApiKeys | undefined, onError: (error: unknown) => void, tokens: TokenIssuer): Authenticator {
  const checkKey = createKeyCheck(apiKeys, onError);
  // Every connection of a key gets the same owner string rather than a fresh 64-character copy:
  // an idle server may hold thousands of one key's sockets. Bounded; cleared when full.
  const owners = new Map<string, string>();
  const shared = (owner: string): string => {
    const known = owners.get(owner);
    if (known !== undefined) return known;
    if (owners.size >= MAX_SHARED_OWNERS) owners.clear();
    owners.set(owner, owner);
    return owner;
  };
  return async (credential) => {
    if (TokenIssuer.claims(credential)) {
      const checked = tokens.verify(credential);
      return checked.ok ? { ok: true, owner: shared(checked.owner), token: true, grant: checked.grant } : checked;
    }
    return (await checkKey(credential)) ? { ok: true, owner: shared(ownerOf(credential)), token: false } : { ok: false, code: 'invalidApiKey' };
  };
}

/** The credential of an `Authorization: Bearer <credential>` header, if the request has one. */
export function bearerCredential(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec((req.headers.authorization ?? '').trim());
  return match?.[1]?.trim();
}

/** The error item for a refused credential (never echoing it). */
export function authError(code: 'invalidApiKey' | 'expiredToken'): ProtocolErrorItem {
  const message = code === 'expiredToken' ? 'The session token has expired; get a new one' : 'Invalid API key';
  return protocolError(code, message, { parameter: 'apiKey', type: 'string', taskType: 'authentication' });
}

function createKeyCheck(apiKeys: ApiKeys | undefined, onError: (error: unknown) => void): (key: string) => Promise<boolean> {
  if (typeof apiKeys === 'function') {
    return async (key) => {
      try {
        return (await apiKeys(key)) === true;
      } catch (error) {
        onError(error);
        return false;
      }
    };
  }
  const digests = (apiKeys ?? []).filter((key) => key.length > 0).map(digest);
  if (digests.length === 0) return (key) => Promise.resolve(key.length > 0);
  return (key) => {
    const candidate = digest(key);
    let match = false;
    // Every configured key is compared, so the time taken does not say which one matched.
    for (const known of digests) match = timingSafeEqual(candidate, known) || match;
    return Promise.resolve(match);
  };
}
