// API key checks. Keys are compared as SHA-256 digests with crypto.timingSafeEqual against every
// configured key, so neither the key's length nor the position of a mismatch shows in the timing.
// Sessions and tasks are owned by a key's digest; the key itself is kept nowhere.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Keys a server accepts: a list, or a function (which may look keys up elsewhere). */
export type ApiKeys = readonly string[] | ((key: string) => boolean | Promise<boolean>);

/** Checks a key; resolves false for anything not accepted (and when a key function throws). */
export type Authenticator = (key: string) => Promise<boolean>;

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
export function createAuthenticator(apiKeys: ApiKeys | undefined, onError: (error: unknown) => void): Authenticator {
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
