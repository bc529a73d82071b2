// The dispatcher's record of one task it accepted, until the task ends: waiting for a slot, in the
// outbox, or written on a socket attempt; whether the server has shown it knows the task; and
// how its recovery stands (checks made, one out, polling). The dispatcher creates and owns it;
// recovery reads it and changes it only through its methods. The run never sees it.
import { utf8Length } from '../../internal/bytes.js';
import { encodeClientFrame, type ClientTask } from '../../protocol/index.js';
import { ValidationError } from '../errors.js';
import { OutgoingFrame, type FrameSender } from '../connection/outgoing.js';
import type { AnyTaskRun, EndKind, ServerView, TaskEndListener } from './task-run.js';

/**
 * The task's frame. A value JSON cannot hold (a cycle) fails the task with a ValidationError, as a
 * validator would have before it was accepted; a client without one meets it only here.
 */
function encodeTask(task: ClientTask): string {
  try {
    return encodeClientFrame([task]);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ValidationError([{ code: 'invalidTask', message: `the task cannot be written as JSON (${reason})`, type: 'object' }], task.taskType, 'taskUUID' in task ? task.taskUUID : undefined);
  }
}

/** Where a task is on the wire. */
export type WirePhase = 'waiting' | 'outbox' | 'sent';

/** What a record needs of the dispatcher that owns it (one object shared by every record). */
export interface InFlightOwner {
  /** What the server can do, read at every encoding. */
  serverView(): ServerView;
  /** The record's task ended (once). */
  ended(record: InFlight, kind: EndKind): void;
}

/** One accepted task, as the dispatcher tracks it on the wire; it hears its task's end. */
export class InFlight extends OutgoingFrame implements TaskEndListener {
  readonly run: AnyTaskRun;
  readonly #owner: InFlightOwner;
  /** Given a slot (it has been sent at least once). */
  #admitted = false;
  /** The frame's text, and whether it was encoded for a server with previews. */
  #text: string | undefined;
  #withPreviews = false;
  /** The UTF-8 size of #text, once counted. */
  #bytes: number | undefined;
  #confirmed = false;
  #checks = 0;
  #checking = false;
  #polling = false;

  constructor(run: AnyTaskRun, owner: InFlightOwner) {
    super();
    this.run = run;
    this.#owner = owner;
  }

  /** The task ended: the owner withdraws the record. */
  taskEnded(kind: EndKind): void {
    this.#owner.ended(this, kind);
  }

  /** Waiting for a slot, queued in the outbox, or written on the socket of `sentOn`. */
  get phase(): WirePhase {
    if (!this.#admitted) return 'waiting';
    return this.sentOn === undefined ? 'outbox' : 'sent';
  }

  /** The frame's UTF-8 size, for the outbox's byte bound; counted only when the outbox asks (a frame written at once never is). */
  get bytes(): number {
    const text = this.encode();
    this.#bytes ??= utf8Length(text);
    return this.#bytes;
  }

  /** The server has shown it knows the task (an item or a getResponse answer arrived). */
  get confirmed(): boolean {
    return this.#confirmed;
  }

  /** A recovery getResponse is out. */
  get checking(): boolean {
    return this.#checking;
  }

  /** Results come through getResponse polling (async delivery, or a server that cannot re-attach). */
  get polling(): boolean {
    return this.#polling;
  }

  /** The task's frame for the server as known now; encoded again only when that changed. */
  encode(): string {
    const view = this.#owner.serverView();
    if (this.#text === undefined || this.#withPreviews !== view.previews) {
      this.#withPreviews = view.previews;
      this.#text = encodeTask(this.run.wireTask(view));
      this.#bytes = undefined;
    }
    return this.#text;
  }

  /**
   * Writes the task, or queues it for the next connection: when it gets its slot, and again under
   * the same taskUUID when the server said it does not know it. Throws QueueFullError.
   */
  override send(sender: FrameSender): void {
    this.#admitted = true;
    this.#confirmed = false;
    super.send(sender);
  }

  /** The server has shown it knows the task. */
  confirm(): void {
    this.#confirmed = true;
  }

  /** Counts a recovery check; returns the checks in a row that found no progress, this one included. */
  countCheck(): number {
    return ++this.#checks;
  }

  /** A recovery getResponse went out. */
  checkSent(): void {
    this.#checking = true;
  }

  /** It came back (or never will); `known`: the server knows the task, so the count starts over. */
  checkAnswered(known: boolean): void {
    this.#checking = false;
    if (!known) return;
    this.#confirmed = true;
    this.#checks = 0;
  }

  /** Marks the task as polled; false when it already was. */
  startPolling(): boolean {
    if (this.#polling) return false;
    this.#polling = true;
    return true;
  }

  /** Polling stopped (the task is checked instead). */
  stopPolling(): void {
    this.#polling = false;
  }
}
