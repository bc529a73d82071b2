// Short-lived session tokens: minted for the owner of an API key, accepted in place of the key.
// Stateless and sealed: `iwt_<nonce, ciphertext, tag>`, the payload encrypted and authenticated with
// AES-256-GCM under a key derived from the server's secret, so a token tells its holder nothing (not
// even the digest of the key, which could be guessed offline for a weak key).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { isScope, type TokenGrant, type TokenScope } from '../usage/token-scope.js';

/** Options of the session tokens of a server. */
export interface TokenOptions {
  /**
   * The sealing secret (at least 32 bytes). Servers that share it accept each other's tokens.
   * @default 32 random bytes per server start (tokens do not survive a process restart)
   */
  secret?: string | Uint8Array;
  /** Lifetime when a request asks for none, in seconds. @default 600 */
  defaultTtlSeconds?: number;
  /** Longest lifetime a request may ask for, in seconds. @default 3600 */
  maxTtlSeconds?: number;
  /** Clock in ms since the epoch, for tests of expiry. @default Date.now */
  now?: () => number;
}

/** A minted token and when it stops working. */
export interface MintedToken {
  readonly token: string;
  /** Expiry, ms since the epoch. */
  readonly expiresAtMs: number;
  readonly ttlSeconds: number;
  /** The random id of the token (names it in usage; not a credential). */
  readonly id: string;
}

/**
 * The outcome of checking a token. `grant` is the token's id and scope; a token minted before
 * tokens had them (payload v1) has none and is unscoped.
 */
export type TokenCheck =
  | { readonly ok: true; readonly owner: string; readonly grant?: TokenGrant | undefined }
  | { readonly ok: false; readonly code: 'invalidApiKey' | 'expiredToken' };

/**
 * Every token starts with this, and a credential that starts with it is always read as a token,
 * never tried as an API key: keys must not start with it (createServer refuses such keys in a list).
 */
export const TOKEN_PREFIX = 'iwt_';
/** The one scope tokens carry today: run tasks as the owner (never mint further tokens). */
const SCOPE = 'tasks';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** A token longer than this is refused before any work (owner digest, id and the largest scope fit). */
const MAX_TOKEN_CHARS = 2_048;
/** Bytes of a token id (hex in the payload). */
const ID_BYTES = 12;
/** Names the purpose of the derived key, so the secret can serve other purposes safely. */
const KEY_INFO = 'imagewire session token v1';

/** v1: owner, expiry, scope name. v2 adds the token id `i` and its scope `c` (tokens of v1 stay valid, unscoped). */
interface Payload {
  readonly v: 1 | 2;
  /** Owner id: the SHA-256 digest (hex) of the key that minted the token. */
  readonly o: string;
  /** Expiry, seconds since the epoch. */
  readonly e: number;
  readonly s: string;
  readonly i?: string;
  readonly c?: TokenScope;
}

function isPayload(value: unknown): value is Payload {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const base = typeof record.o === 'string' && /^[0-9a-f]{64}$/.test(record.o) && Number.isSafeInteger(record.e) && typeof record.s === 'string';
  if (record.v === 1) return base;
  return record.v === 2 && base && typeof record.i === 'string' && /^[0-9a-f]{24}$/.test(record.i) && (record.c === undefined || isScope(record.c));
}

function sealingKey(secret: string | Uint8Array | undefined): Buffer {
  if (secret === undefined) return randomBytes(32);
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < 32) throw new RangeError('tokens.secret must be at least 32 bytes');
  return Buffer.from(hkdfSync('sha256', bytes, Buffer.alloc(0), KEY_INFO, 32));
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1) throw new RangeError(`${name} must be an integer number of seconds >= 1; got ${resolved}`);
  return resolved;
}

/** Mints and checks the session tokens of one server. */
export class TokenIssuer {
  readonly #key: Buffer;
  readonly #now: () => number;
  /** Lifetime when none is asked for, seconds. */
  readonly defaultTtlSeconds: number;
  /** Longest lifetime, seconds. */
  readonly maxTtlSeconds: number;

  constructor(options: TokenOptions = {}) {
    this.#key = sealingKey(options.secret);
    this.#now = options.now ?? Date.now;
    this.maxTtlSeconds = seconds(options.maxTtlSeconds, 3600, 'tokens.maxTtlSeconds');
    this.defaultTtlSeconds = Math.min(seconds(options.defaultTtlSeconds, 600, 'tokens.defaultTtlSeconds'), this.maxTtlSeconds);
  }

  /** True for a credential that claims to be a token (it is then never tried as a key). */
  static claims(credential: string): boolean {
    return credential.startsWith(TOKEN_PREFIX);
  }

  /**
   * Mints a token for `owner` (a key digest, see ownerOf) living `ttlSeconds` (checked by the
   * caller), limited to `scope` (already read by readScope; the empty scope bounds nothing).
   */
  mint(owner: string, ttlSeconds: number = this.defaultTtlSeconds, scope: TokenScope = {}): MintedToken {
    const expiresAtMs = (Math.floor(this.#now() / 1000) + ttlSeconds) * 1000;
    const id = randomBytes(ID_BYTES).toString('hex');
    // An empty scope is left out: an unscoped token stays as short as it can.
    const payload: Payload = Object.keys(scope).length === 0 ? { v: 2, o: owner, e: expiresAtMs / 1000, s: SCOPE, i: id } : { v: 2, o: owner, e: expiresAtMs / 1000, s: SCOPE, i: id, c: scope };
    // A fresh random nonce per token; 96-bit nonces stay unique far beyond any token count a server mints.
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    const sealed = Buffer.concat([nonce, cipher.update(JSON.stringify(payload), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { token: `${TOKEN_PREFIX}${sealed.toString('base64url')}`, expiresAtMs, ttlSeconds, id };
  }

  /** Checks a token: opens it (GCM refuses any change), then its scope and its expiry. */
  verify(token: string): TokenCheck {
    const invalid: TokenCheck = { ok: false, code: 'invalidApiKey' };
    if (!TokenIssuer.claims(token) || token.length > MAX_TOKEN_CHARS) return invalid;
    const body = token.slice(TOKEN_PREFIX.length);
    if (!/^[A-Za-z0-9_-]+$/.test(body)) return invalid;
    const sealed = Buffer.from(body, 'base64url');
    // One spelling per token: base64url decoding ignores the unused low bits of the last character,
    // so without this four spellings of the last character would open the same token.
    if (sealed.length <= NONCE_BYTES + TAG_BYTES || sealed.toString('base64url') !== body) return invalid;
    let payload: unknown;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(0, NONCE_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      payload = JSON.parse(plain.toString('utf8'));
    } catch {
      // A wrong tag (tampered, truncated, another server's token) or a payload that is not JSON.
      return invalid;
    }
    if (!isPayload(payload) || payload.s !== SCOPE) return invalid;
    if (payload.e * 1000 <= this.#now()) return { ok: false, code: 'expiredToken' };
    const grant = payload.v === 2 && payload.i !== undefined ? { id: payload.i, scope: payload.c ?? {}, expiresAtMs: payload.e * 1000 } : undefined;
    return { ok: true, owner: payload.o, grant };
  }
}
