// Getting tasks back after a reconnect, without ever running work twice: ask the server with
// getResponse; re-send under the same taskUUID only when it answers taskNotFound; end the task
// with a SessionLostError when it cannot be recovered. Also polls tasks whose results come only
// through getResponse (async delivery, or a plain server that does not re-attach).
import type { Clock } from '../internal/clock.js';
import type { ServerDataItem } from '../protocol/index.js';
import type { OpenInfo } from './connection.js';
import { errorFromItem, SessionLostError } from './errors.js';
import type { Queries, QueryAnswer } from './queries.js';
import type { AnyTaskRun } from './task-run.js';

/** getResponse checks per task before giving up (a server that keeps contradicting itself). */
const MAX_CHECKS = 5;
/** Polling slows down by this factor per answer, up to maxPollMs. */
const POLL_GROWTH = 1.5;
const MAX_POLL_MS = 10_000;

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
   * A connection opened; which tasks that left the outbox on an older socket need a check:
   * - not resumed: all of them (the session and its routing are gone);
   * - resumed with `ack`: those the server never showed it received (the task frame itself may
   *   have died with the old socket); everything the server sent is replayed exactly;
   * - resumed without `ack`: all of them, because a result written to the dying socket is lost in
   *   flight and only getResponse can fill the gap (duplicates are dropped);
   * - resumed on a plain server: none; its resume is all there is (getResponse may not know
   *   sync tasks there, and a failed check must not fail a task that is fine).
   */
  reopened(info: OpenInfo, runs: Iterable<AnyTaskRun>): void {
    const ack = info.enabledExtensions.has('ack');
    for (const run of runs) {
      if (run.ended || run.phase !== 'sent' || run.sentOn === info.attempt) continue;
      if (run.polling && run.confirmed) continue;
      if (info.resumed && (!info.imagewire || (ack && run.confirmed))) continue;
      this.check(run);
    }
  }

  /** Asks the server what it knows about the task, and acts on the answer. */
  check(run: AnyTaskRun): void {
    if (run.ended || run.checking) return;
    run.checks++;
    this.#context.stats.checks++;
    if (run.checks > MAX_CHECKS) {
      run.fail(new SessionLostError(run.taskUUID, `task ${run.taskUUID} could not be recovered after ${MAX_CHECKS} getResponse checks`), 'lost');
      return;
    }
    const answer = this.#ask(run);
    if (answer === undefined) return;
    run.checking = true;
    answer.then((result) => {
      run.checking = false;
      if (run.ended || result === undefined) return;
      if (result.kind === 'error') {
        if (result.error.code === 'taskNotFound') {
          // The only case in which work may be sent again, and under the same taskUUID.
          this.#context.stats.resends++;
          this.#context.resend(run);
        } else {
          run.fail(new SessionLostError(run.taskUUID, `task ${run.taskUUID} could not be recovered: ${result.error.message}`, { cause: errorFromItem(result.error) }), 'lost');
        }
        return;
      }
      run.confirmed = true;
      if (!stillRunning(result.items)) {
        run.serverDone();
        return;
      }
      // An imagewire server re-attached the task to this session; a plain one only answers polls,
      // and so does one whose session another connection took over (it keeps the task's output).
      const info = this.#context.lastInfo();
      if (info?.imagewire !== true || info.afterTakeover) this.startPolling(run);
    }, (error: unknown) => {
      run.checking = false;
      this.#unanswerable(run, error);
    });
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
      const answer = this.#ask(run);
      if (answer === undefined) return;
      answer.then((result) => {
        if (run.ended || result === undefined) return;
        if (result.kind === 'error') {
          if (result.error.code === 'taskNotFound' && !run.confirmed) {
            run.polling = false;
            this.check(run);
          } else {
            run.fail(result.error.code === 'taskNotFound' ? new SessionLostError(run.taskUUID, `the server no longer knows task ${run.taskUUID}`, { cause: errorFromItem(result.error) }) : errorFromItem(result.error), result.error.code === 'taskNotFound' ? 'lost' : 'failed');
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
      }, (error: unknown) => this.#unanswerable(run, error));
    };
    run.scope.timeout(this.#context.clock, delay, tick);
  }

  /** Sends a getResponse owned by the task; the promise never rejects (undefined: no answer). */
  #ask(run: AnyTaskRun): Promise<QueryAnswer | undefined> | undefined {
    try {
      const pending = this.#context.queries.ask(run.taskUUID);
      const release = run.scope.add(pending.cancel);
      return pending.answer.then(
        (answer) => {
          release();
          return answer;
        },
        () => {
          release();
          return undefined;
        },
      );
    } catch (error) {
      run.fail(error);
      return undefined;
    }
  }
}
