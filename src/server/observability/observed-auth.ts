// Counts every credential check (WebSocket, POST /v1, tokens, the images API) by wrapping the one
// authenticator all faces share: the outcome and whether a key or a session token was shown.
import type { Authenticator } from '../auth/auth.js';
import { TokenIssuer } from '../auth/tokens.js';
import type { ServerObserver } from './events.js';

/** `authenticate`, reporting each outcome to `observer`. */
export function observedAuthenticator(authenticate: Authenticator, observer: ServerObserver): Authenticator {
  return async (credential) => {
    const outcome = await authenticate(credential);
    const kind = TokenIssuer.claims(credential) ? 'token' : 'key';
    observer.authenticated(outcome.ok ? 'ok' : outcome.code, kind);
    return outcome;
  };
}
