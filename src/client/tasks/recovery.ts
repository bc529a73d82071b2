// Getting tasks back after a reconnect, without ever running work twice: ask the server with
// getResponse (every task of a reconnect in one frame); send a task again, under the same taskUUID,
// only when the server answers that it does not know it; end the task with a SessionLostError when
// it cannot be recovered. Also polls tasks whose results come only through getResponse (async
// delivery, or a session the server did not resume).
import type { Clock } from '../../internal/clock.js';
import type { ProtocolErrorItem, ServerDataItem } from '../../protocol/index.js';
import type { SessionInfo } from '../connection/connection.js';
import { errorFromItem, SessionLostError } from '../errors.js';
import type { InFlight } from './in-flight.js';
import type { PendingQuery, Queries, QueryAnswer } from './queries.js';
import type { AnyTaskRun } from './task-run.js';

/** getResponse checks in a row that find no progress before a task is given up (a server that keeps contradicting itself). */
const MAX_CHECKS = 5;
/** Polling slows down by this factor per answer, up to maxPollMs. */
const POLL_GROWTH = 1.5;
const MAX_POLL_MS = 10_000;

/**
 * The answers by which a server says it does not know a task: imagewire's, and the one Runware's
 * service and its official SDKs use. Only after one of them may a task be sent again.
 */
export const unknownTaskCodes: ReadonlySet<string> = new Set(['taskNotFound', 'taskFailedOrNotFound']);

/** What recovery needs around it. */
export interface RecoveryContext {
  readonly queries: Queries;
  readonly clock: Clock;
  /** First polling interval, ms. */
  readonly pollIntervalMs: number;
  /** The connection, for the session as the latest authentication left it. */
  readonly connection: { readonly sessionInfo: SessionInfo | undefined };
  /** Writes the task's frame again, same taskUUID. */
  resend(task: InFlight): void;
  readonly stats: { checks: number; resends: number };
}

function stillRunning(items: readonly ServerDataItem[]): boolean {
  return items.some((item) => item.status === 'processing');
}

/** Recovers and polls tasks. */
export class Recovery {
  readonly #context: RecoveryContext;

  constructor(context: RecoveryContext) {
    this.#context = context;
  }

  /**
   * Socket attempt `attempt` opened; which tasks written on an older socket need a check:
   * - resumed with `ack` on: only those the server never showed it received (the task frame itself
   *   may have died with the old socket); everything the server sent is replayed exactly;
   * - every other case (a plain server, resumed or not; an imagewire server without `ack`): all of
   *   them. A task frame written to a socket the server had already dropped never reached it, a
   *   result written to a dying socket is not replayed, and a restarted server may hand back the
   *   old session UUID with nothing behind it; only getResponse tells. Finals that arrive twice are
   *   dropped by imageUUID and index.
   */
  reopened(attempt: number, session: SessionInfo, tasks: Iterable<InFlight>): void {
    const ack = session.resumed && session.enabledExtensions.has('ack');
    const due: InFlight[] = [];
    for (const task of tasks) {
      if (task.run.ended || !task.writtenBefore(attempt)) continue;
      if (task.polling && task.confirmed) continue;
      if (ack && task.confirmed) continue;
      due.push(task);
    }
    this.checkAll(due);
  }

  /** Asks the server what it knows about one task, and acts on the answer. */
  check(task: InFlight): void {
    this.checkAll([task]);
  }

  /** Asks about several tasks in one frame, and acts on each answer. */
  checkAll(tasks: readonly InFlight[]): void {
    const asking: InFlight[] = [];
    for (const task of tasks) {
      const run = task.run;
      if (run.ended || task.checking) continue;
      this.#context.stats.checks++;
      if (task.countCheck() > MAX_CHECKS) {
        run.fail(new SessionLostError(run.taskUUID, `task ${run.taskUUID} could not be recovered after ${MAX_CHECKS} getResponse checks in a row`), 'lost');
        continue;
      }
      asking.push(task);
    }
    if (asking.length === 0) return;
    let pending: PendingQuery[];
    try {
      pending = this.#context.queries.askMany(asking.map((task) => task.run.taskUUID));
    } catch (error) {
      for (const task of asking) task.run.fail(error);
      return;
    }
    asking.forEach((task, i) => {
      const query = pending[i];
      if (query !== undefined) this.#await(task, query);
    });
  }

  #await(task: InFlight, query: PendingQuery): void {
    task.checkSent();
    const run = task.run;
    this.#answerOf(run, query).then(
      (result) => {
        // An answer with items: the server knows the task, so the count of fruitless checks starts over.
        task.checkAnswered(result?.kind === 'items' && !run.ended);
        if (run.ended || result === undefined) return;
        if (result.kind === 'error') {
          this.#checkRefused(task, result.error);
          return;
        }
        if (!stillRunning(result.items)) {
          run.serverDone();
          return;
        }
        // The task runs on. An imagewire server re-attached it to this session and a resumed session
        // gets its output; a session that was not resumed on a plain server does not (its output goes
        // to the old one), and neither does one another connection took over: poll.
        const session = this.#context.connection.sessionInfo;
        if ((session?.imagewire !== true && session?.resumed !== true) || session?.afterTakeover === true) this.startPolling(task);
      },
      (error: unknown) => {
        task.checkAnswered(false);
        this.#unanswerable(run, error);
      },
    );
  }

  /** A check answered with an error: send the task again only if the server does not know it. */
  #checkRefused(task: InFlight, error: ProtocolErrorItem): void {
    const run = task.run;
    if (unknownTaskCodes.has(error.code)) {
      // The only case in which work may be sent again, and under the same taskUUID.
      this.#context.stats.resends++;
      this.#context.resend(task);
      return;
    }
    run.fail(new SessionLostError(run.taskUUID, `task ${run.taskUUID} could not be recovered: ${error.message}`, { cause: errorFromItem(error) }), 'lost');
  }

  /** A getResponse that failed on our side (not an answer of the server's): the run cannot be recovered. */
  #unanswerable(run: AnyTaskRun, error: unknown): void {
    if (run.ended) return;
    run.fail(new SessionLostError(run.taskUUID, `task ${run.taskUUID} could not be checked with getResponse`, { cause: error }), 'lost');
  }

  /** Polls getResponse until the task is done (async delivery, or no re-attach). */
  startPolling(task: InFlight): void {
    if (task.run.ended || !task.startPolling()) return;
    let delay = this.#context.pollIntervalMs;
    const tick = (): void => {
      const run = task.run;
      let query: PendingQuery;
      try {
        query = this.#context.queries.ask(run.taskUUID);
      } catch (error) {
        run.fail(error);
        return;
      }
      this.#answerOf(run, query).then(
        (result) => {
          if (run.ended || result === undefined) return;
          if (result.kind === 'error') {
            this.#pollRefused(task, result.error);
            return;
          }
          task.confirm();
          if (!stillRunning(result.items)) {
            run.serverDone();
            return;
          }
          delay = Math.min(MAX_POLL_MS, delay * POLL_GROWTH);
          run.scope.timeout(this.#context.clock, delay, tick);
        },
        (error: unknown) => this.#unanswerable(run, error),
      );
    };
    task.run.scope.timeout(this.#context.clock, delay, tick);
  }

  /** A poll answered with an error: a task the server never confirmed is checked (and maybe sent again); any other ends. */
  #pollRefused(task: InFlight, error: ProtocolErrorItem): void {
    const run = task.run;
    if (unknownTaskCodes.has(error.code) && !task.confirmed) {
      task.stopPolling();
      this.check(task);
      return;
    }
    const lost = unknownTaskCodes.has(error.code);
    run.fail(lost ? new SessionLostError(run.taskUUID, `the server no longer knows task ${run.taskUUID}`, { cause: errorFromItem(error) }) : errorFromItem(error), lost ? 'lost' : 'failed');
  }

  /** The answer of a getResponse owned by the task; never rejects (undefined: no answer, the client closed). */
  #answerOf(run: AnyTaskRun, query: PendingQuery): Promise<QueryAnswer | undefined> {
    const release = run.scope.add(query.cancel);
    return query.answer.then(
      (answer) => {
        release();
        return answer;
      },
      () => {
        release();
        return undefined;
      },
    );
  }
}
