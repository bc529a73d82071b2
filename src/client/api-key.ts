// The credential a client authenticates with: a key, or a function that gives a fresh one (a
// short-lived token) at every authentication. Shared by the WebSocket and HTTP transports.

/** An API key, or a function called at every (re)authentication so short-lived tokens can be refreshed. */
export type ApiKeyProvider = string | (() => string | Promise<string>);
