// The server's observer: each event becomes a metric and, where it is worth one, an info log line.
// Fields name peers, key ids, sessions and tasks; never a key, a token or image data.
import type { Logger } from '../logger.js';
import type { OutboundKind } from '../outbound/policy.js';
import type { AnswerFace, AuthResult, ConnectionEnd, OutboundOutcome, ServerObserver, TaskEnd } from './events.js';
import type { ServerMetrics } from './metrics.js';

/** Reports events to `metrics` and logs connection and task ends at info. */
export class LoggingObserver implements ServerObserver {
  readonly #logger: Logger;
  readonly #metrics: ServerMetrics;

  constructor(logger: Logger, metrics: ServerMetrics) {
    this.#logger = logger;
    this.#metrics = metrics;
  }

  connectionClosed(end: ConnectionEnd): void {
    this.#metrics.connectionClosed(end.closedBy);
    this.#logger.info('connection closed', {
      peer: end.peer,
      keyId: end.keyId,
      session: end.session,
      resumed: end.resumed,
      durationMs: Math.round(end.durationMs),
      closeCode: end.closeCode,
      closedBy: end.closedBy,
    });
  }

  taskEnded(end: TaskEnd): void {
    this.#metrics.taskEnded(end);
    this.#logger.info('task ended', {
      taskUUID: end.taskUUID,
      taskType: end.taskType,
      outcome: end.outcome,
      errorCode: end.errorCode,
      keyId: end.keyId,
      durationMs: Math.round(end.durationMs),
      firstPreviewMs: end.firstPreviewMs === undefined ? undefined : Math.round(end.firstPreviewMs),
      images: end.images,
      bytesOut: end.bytesOut,
    });
  }

  authenticated(result: AuthResult, credential: 'key' | 'token'): void {
    this.#metrics.authenticated(result, credential);
  }

  resumeAsked(resumed: boolean): void {
    this.#metrics.resumeAsked(resumed);
  }

  errorAnswered(code: string, face: AnswerFace): void {
    this.#metrics.errorAnswered(code, face);
  }

  bytesOut(bytes: number): void {
    this.#metrics.bytesOut(bytes);
  }

  outbound(kind: OutboundKind, outcome: OutboundOutcome): void {
    this.#metrics.outbound(kind, outcome);
  }
}
