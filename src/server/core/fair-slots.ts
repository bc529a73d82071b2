// Slots shared round robin between owners (the engine's slots, and the slots for resolving input
// images): each key waits in its own first-in first-out line and the keys are served in turn, so one
// key's long line never delays another key's next task by more than one task.

/** Gives a slot back; calling it again does nothing. */
export type ReleaseSlot = () => void;

/** A task waiting for a slot, until it is granted one or withdrawn. */
export interface SlotTicket {
  readonly owner: string;
  readonly grant: (release: ReleaseSlot) => void;
}

export class FairSlots {
  readonly #capacity: number;
  #busy = 0;
  #waiting = 0;
  /**
   * Owners with waiting tasks in the order they are served (Map order: the first is next; a served
   * owner with more waiting goes to the back), each with its own line (Set order: first come first).
   * Sets and Maps delete in O(1), so a withdrawn task leaves its line at once.
   */
  readonly #lines = new Map<string, Set<SlotTicket>>();

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Slots in use. */
  get busy(): number {
    return this.#busy;
  }

  /** A slot now, when one is free and nobody waits for it; undefined otherwise. */
  tryAcquire(): ReleaseSlot | undefined {
    if (this.#busy >= this.#capacity || this.#waiting > 0) return undefined;
    this.#busy++;
    return this.#lease();
  }

  /** Puts a task in its owner's line; `grant` is called with the slot when its turn comes. */
  enqueue(owner: string, grant: (release: ReleaseSlot) => void): SlotTicket {
    const ticket: SlotTicket = { owner, grant };
    let line = this.#lines.get(owner);
    if (line === undefined) {
      line = new Set();
      this.#lines.set(owner, line);
    }
    line.add(ticket);
    this.#waiting++;
    return ticket;
  }

  /** Takes a waiting task out of its line (it was cancelled); does nothing once it was granted. */
  withdraw(ticket: SlotTicket): void {
    const line = this.#lines.get(ticket.owner);
    if (line === undefined || !line.delete(ticket)) return;
    this.#waiting--;
    if (line.size === 0) this.#lines.delete(ticket.owner);
  }

  /** A release function for one granted slot: it hands the slot to the next in turn, once. */
  #lease(): ReleaseSlot {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#handOver();
    };
  }

  #handOver(): void {
    const next = this.#next();
    if (next === undefined) {
      this.#busy--;
      return;
    }
    next.grant(this.#lease());
  }

  /** The first task of the owner whose turn it is; that owner goes to the back of the turns. */
  #next(): SlotTicket | undefined {
    for (const [owner, line] of this.#lines) {
      this.#lines.delete(owner);
      for (const ticket of line) {
        line.delete(ticket);
        this.#waiting--;
        if (line.size > 0) this.#lines.set(owner, line);
        return ticket;
      }
    }
    return undefined;
  }
}
