// The target of an HTTP request's task on a cluster node: a session in the log made for the request,
// attached to this node and pumped into the request's collector until the task ends, then discarded,
// so a worker anywhere answers it the way it answers a WebSocket session.
import type { SessionLog } from '../cluster/session-log.js';
import { errorMessage, type Logger } from '../logger.js';
import type { OutputTarget } from '../core/output-target.js';
import type { ServerFrame } from '../core/server-frame.js';
import type { TaskContext } from '../core/task-router.js';
import { protocolError } from '../../protocol/index.js';
import { errorsFrame } from '../core/server-frame.js';
import type { SessionSocket } from '../ws/session-record.js';
import type { ClusterSession } from './cluster-session.js';
import type { ClusterSessionStore } from './cluster-session-store.js';

/** The socket side of a transient session: the request's collector. */
class CollectorSocket implements SessionSocket {
  readonly #target: OutputTarget;
  writable = true;

  constructor(target: OutputTarget) {
    this.#target = target;
  }

  writeTaskFrame(frame: ServerFrame): boolean {
    if (!this.writable) return false;
    this.#target.deliver(frame);
    return true;
  }

  writePreview(frame: ServerFrame): void {
    if (this.writable) this.#target.deliverPreview(frame);
  }

  evict(): void {
    this.writable = false;
  }
}

/** Runs admissions whose target is a transient session. */
export class TransientTargets {
  readonly #log: SessionLog;
  readonly #sessions: ClusterSessionStore;
  readonly #logger: Logger;

  constructor(log: SessionLog, sessions: ClusterSessionStore, logger: Logger) {
    this.#log = log;
    this.#sessions = sessions;
    this.#logger = logger;
  }

  /**
   * Makes a session for `ctx`'s request, attaches its collector, runs `admit` with it and, when
   * admitted, waits for the task's end (`ended`); the session is discarded in every case.
   */
  async run(ctx: TaskContext, admit: (session: ClusterSession, ended: () => void) => Promise<boolean>): Promise<void> {
    const session = (await this.#sessions.create(ctx.owner)) as ClusterSession | undefined;
    if (session === undefined) {
      ctx.reply(errorsFrame([protocolError('sessionLimitReached', this.#sessions.refusal(ctx.owner))]));
      return;
    }
    const socket = new CollectorSocket(ctx.target);
    let done = (): void => undefined;
    const ended = new Promise<void>((resolve) => (done = resolve));
    try {
      await this.#sessions.attachNow(session, socket);
      if (await admit(session, done)) await ended;
    } finally {
      socket.evict();
      this.#sessions.detach(session, socket);
      this.#log.discard(session.uuid).catch((error: unknown) => this.#logger.debug('transient session discard failed', { session: session.uuid, error: errorMessage(error) }));
    }
  }
}
