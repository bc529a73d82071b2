// The WebSocket shape the client needs: the standard browser API, which `ws` also implements.
// Keeping to it lets the same client run on `ws`, the browser's WebSocket, or an injected one.

/** Events the client listens to on a socket. */
export type SocketEventType = 'open' | 'message' | 'close' | 'error';

/** The subset of the standard WebSocket API the client uses. */
export interface SocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: SocketEventType, listener: (event: never) => void): void;
  removeEventListener(type: SocketEventType, listener: (event: never) => void): void;
  /** `ws` only: drop the TCP connection at once, without a closing handshake. */
  terminate?(): void;
}

/** A WebSocket constructor: `ws` in Node, `globalThis.WebSocket` in browsers, or your own. */
export type WebSocketConstructor = new (url: string) => SocketLike;

/** Why a connection never opened, as far as the socket implementation can tell. */
export interface SocketFailure {
  readonly reason: 'refused' | 'notFound' | 'httpStatus';
  readonly httpStatus?: number;
  readonly detail: string;
}

/**
 * A constructor's optional static `describeFailure(error)`: reads an attempt's error (and its
 * causes) for why the connection never opened. The Node socket has one; browsers tell nothing.
 */
export function failureDescriber(WebSocket: WebSocketConstructor | undefined): ((error: unknown) => SocketFailure | undefined) | undefined {
  const describe = (WebSocket as { describeFailure?: unknown } | undefined)?.describeFailure;
  return typeof describe === 'function' ? (describe as (error: unknown) => SocketFailure | undefined) : undefined;
}

/**
 * The `binaryType` the client sets on a socket: a constructor's optional static `binaryType`, else
 * `arraybuffer`. The Node socket asks for `ws`'s `fragments`, so a binary message the server sent
 * as fragments (header, then image) reaches the client without being joined into one more buffer.
 */
export function binaryTypeFor(WebSocket: WebSocketConstructor): string {
  const type = (WebSocket as { binaryType?: unknown }).binaryType;
  return typeof type === 'string' ? type : 'arraybuffer';
}

/** The standard readyState values. */
export const readyStates = { connecting: 0, open: 1, closing: 2, closed: 3 } as const;

/** A message event as both `ws` and browsers deliver it. */
export interface SocketMessageEvent {
  readonly data: unknown;
}

/** A close event as both `ws` and browsers deliver it. */
export interface SocketCloseEvent {
  readonly code: number;
  readonly reason: string;
}

/** An error event; browsers say nothing useful, `ws` carries the error. */
export interface SocketErrorEvent {
  readonly error?: unknown;
  readonly message?: string;
}
