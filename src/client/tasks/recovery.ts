// Getting tasks back after a reconnect, without ever running work twice: ask the server with
// getResponse (every task of a reconnect in one frame); send a task again, under the same taskUUID,
// only when the server answers that it does not know it; end the task with a SessionLostError when
// it cannot be recovered. Also polls tasks whose results come only through getResponse (async
// delivery, or a session the server did not resume).
import type { Clock } from '../../internal/clock.js';
import type { ServerDataItem } from '../../protocol/index.js';
import type { OpenInfo } from '../connection/connection.js';
import { errorFromItem, SessionLostError } from '../errors.js';
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

export interface RecoveryContext {
  readonly queries: Queries;
  readonly clock: Clock;
  /** First polling interval, ms. */
  readonly pollIntervalMs: number;
  /** What the server said at the last authentication. */
  lastInfo(): OpenInfo | undefined;
  /** Writes the task's frame again, same taskUUID. */
  resend(run: AnyTaskRun): void;
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
   * A connection opened; which tasks written on an older socket need a check:
   * - resumed with `ack` on: only those the server never showed it received (the task frame itself
   *   may have died with the old socket); everything the server sent is replayed exactly;
   * - every other case (a plain server, resumed or not; an imagewire server without `ack`): all of
   *   them. A task frame written to a socket the server had already dropped never reached it, a
   *   result written to a dying socket is not replayed, and a restarted server may hand back the
   *   old session UUID with nothing behind it; only getResponse tells. Finals that arrive twice are
   *   dropped by imageUUID and index.
   */
  reopened(info: OpenInfo, runs: Iterable<AnyTaskRun>): void {
    const ack = info.resumed && info.enabledExtensions.has('ack');
    const due: AnyTaskRun[] = [];
    for (const run of runs) {
      if (run.ended || run.phase !== 'sent' || run.sentOn === info.attempt) continue;
      if (run.polling && run.confirmed) continue;
      if (ack && run.confirmed) continue;
      due.push(run);
    }
    this.checkAll(due);
  }

  /** Asks the server what it knows about one task, and acts on the answer. */
  check(run: AnyTaskRun): void {
    this.checkAll([run]);
  }

  /** Asks about several tasks in one frame, and acts on each answer. */
  checkAll(runs: readonly AnyTaskRun[]): void {
    const asking: AnyTaskRun[] = [];
    for (const run of runs) {
      if (run.ended || run.checking) continue;
      run.checks++;
      this.#context.stats.checks++;
      if (run.checks > MAX_CHECKS) {
        run.fail(new SessionLostError(run.taskUUID, `task ${run.taskUUID} could not be recovered after ${MAX_CHECKS} getResponse checks in a row`), 'lost');
        continue;
      }
      asking.push(run);
    }
    if (asking.length === 0) return;
    let pending: PendingQuery[];
    try {
      pending = this.#context.queries.askMany(asking.map((run) => run.taskUUID));
    } catch (error) {
      for (const run of asking) run.fail(error);
      return;
    }
    asking.forEach((run, i) => {
      const query = pending[i];
      if (query !== undefined) this.#await(run, query);
    });
  }

  #await(run: AnyTaskRun, query: PendingQuery): void {
    run.checking = true;
    this.#answerOf(run, query).then(
      (result) => {
        run.checking = false;
        if (run.ended || result === undefined) return;
        if (result.kind === 'error') {
          if (unknownTaskCodes.has(result.error.code)) {
            // The only case in which work may be sent again, and under the same taskUUID.
            this.#context.stats.resends++;
            this.#context.resend(run);
          } else {
            run.fail(new SessionLostError(run.taskUUID, `task ${run.taskUUID} could not be recovered: ${result.error.message}`, { cause: errorFromItem(result.error) }), 'lost');
          }
          return;
        }
        // The server knows the task: the count of fruitless checks starts over.
        run.confirmed = true;
        run.checks = 0;
        if (!stillRunning(result.items)) {
          run.serverDone();
          return;
        }
        // The task runs on. An imagewire server re-attached it to this session and a resumed session
        // gets its output; a session that was not resumed on a plain server does not (its output goes
        // to the old one), and neither does one another connection took over: poll.
        const info = this.#context.lastInfo();
        if ((info?.imagewire !== true && info?.resumed !== true) || info?.afterTakeover === true) this.startPolling(run);
      },
      (error: unknown) => {
        run.checking = false;
        this.#unanswerable(run, error);
      },
    );
  }

  /** A getResponse that failed on our side (not an answer of the server's): the run cannot be recovered. */
  #unanswerable(run: AnyTaskRun, error: unknown): void {
    if (run.ended) return;
    run.fail(new SessionLostError(run.taskUUID, `task ${run.taskUUID} could not be checked with getResponse`, { cause: error }), 'lost');
  }

  /** Polls getResponse until the task is done (async delivery, or no re-attach). */
  startPolling(run: AnyTaskRun): void {
    if (run.polling || run.ended) return;
    run.polling = true;
    let delay = this.#context.pollIntervalMs;
    const tick = () => {
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
            if (unknownTaskCodes.has(result.error.code) && !run.confirmed) {
              run.polling = false;
              this.check(run);
            } else {
              const lost = unknownTaskCodes.has(result.error.code);
              run.fail(lost ? new SessionLostError(run.taskUUID, `the server no longer knows task ${run.taskUUID}`, { cause: errorFromItem(result.error) }) : errorFromItem(result.error), lost ? 'lost' : 'failed');
            }
            return;
          }
          run.confirmed = true;
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
    run.scope.timeout(this.#context.clock, delay, tick);
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
