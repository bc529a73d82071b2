// What the server tells its observability about: the events worth a log line or a metric, as plain
// records, and the one interface the rest of the server reports them through.
import type { OutboundKind, OutboundOutcome } from '../outbound/policy.js';

export type { OutboundOutcome } from '../outbound/policy.js';

/** One WebSocket connection, when it closes. */
export interface ConnectionEnd {
  /** Remote address and port. */
  readonly peer: string;
  /** Short digest of the owner id (never the key or token); undefined when it never authenticated. */
  readonly keyId: string | undefined;
  /** The session's UUID; undefined when it never authenticated. */
  readonly session: string | undefined;
  /** True when the authentication resumed a kept session; undefined when it never authenticated. */
  readonly resumed: boolean | undefined;
  /** From the upgrade to the close, ms. */
  readonly durationMs: number;
  /** The WebSocket close code (1006: cut without a close frame). */
  readonly closeCode: number;
  /** Who ended it: the server (a close or a cut), or the client (its close frame, or the TCP connection gone). */
  readonly closedBy: 'server' | 'client';
}

/** How a task ended. */
export type TaskOutcome = 'success' | 'error' | 'cancelled';

/** One task, when it ends. */
export interface TaskEnd {
  readonly taskUUID: string;
  readonly taskType: string;
  readonly outcome: TaskOutcome;
  /** The first error item's code (error and cancelled outcomes). */
  readonly errorCode: string | undefined;
  /** Short digest of the owner id. */
  readonly keyId: string;
  /** From admission to the end, ms. */
  readonly durationMs: number;
  /** From admission to its first preview, ms; undefined without previews. */
  readonly firstPreviewMs: number | undefined;
  /** Results sent (images, or the uploaded image). */
  readonly images: number;
  /** Bytes of the images it sent inline (0 for URL outputs). */
  readonly bytesOut: number;
}

/** How a credential check ended. */
export type AuthResult = 'ok' | 'invalidApiKey' | 'expiredToken';

/** Where an error answer went out. */
export type AnswerFace = 'ws' | 'http';

/** What the server reports to its logs and metrics. Every method is cheap and never throws. */
export interface ServerObserver {
  connectionClosed(end: ConnectionEnd): void;
  taskEnded(end: TaskEnd): void;
  /** A credential was checked (every face: WebSocket, POST /v1, tokens, images API). */
  authenticated(result: AuthResult, credential: 'key' | 'token'): void;
  /** An authentication asked to resume a session: it got it, or a new one (expired or unknown). */
  resumeAsked(resumed: boolean): void;
  /** An error item went out with `code`. */
  errorAnswered(code: string, face: AnswerFace): void;
  /** Bytes written to WebSocket connections. */
  bytesOut(bytes: number): void;
  /** One input fetch, webhook delivery or upload ended. */
  outbound(kind: OutboundKind, outcome: OutboundOutcome): void;
}

/** An observer that does nothing (units built without a server). */
export const noObserver: ServerObserver = {
  connectionClosed: () => undefined,
  taskEnded: () => undefined,
  authenticated: () => undefined,
  resumeAsked: () => undefined,
  errorAnswered: () => undefined,
  bytesOut: () => undefined,
  outbound: () => undefined,
};
