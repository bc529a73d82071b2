// Tasks waiting for one of a bounded number of slots, oldest first, and the count of slots in use.
// Every waiting task is in the one queue, whether it holds one of the maxWaiting places or waits
// for room beyond them (whenFull: "wait"): it costs one Set entry, one that ends while waiting
// leaves in O(1), and a freed slot goes to the next task at once. (p-queue queueing the tasks
// itself, with an AbortSignal to take out one that ends, cost 2 KiB more per waiting task and
// about 20 µs more CPU per pipelined task.)

/** A FIFO in front of `slots` slots; an item starts as soon as a slot is free. */
export class Admission<T> {
  readonly #slots: number;
  readonly #start: (item: T) => void;
  readonly #waiting = new Set<T>();
  /** Where #oldest() left off in #waiting. */
  #cursor: Iterator<T> | undefined;
  #inUse = 0;
  #filling = false;
  #closed = false;

  /** @param start called when `item` gets its slot; the slot is held until {@link release}. */
  constructor(slots: number, start: (item: T) => void) {
    this.#slots = slots;
    this.#start = start;
  }

  /** Slots in use. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Items waiting for a slot. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Queues `item` behind every waiting one; it starts at once when a slot is free. */
  add(item: T): void {
    if (this.#closed) return;
    this.#waiting.add(item);
    this.#fill();
  }

  /** Takes a waiting item out (it ended before its turn); false when it was not waiting. */
  remove(item: T): boolean {
    return this.#waiting.delete(item);
  }

  /** A started item is done: its slot goes to the oldest waiting one. */
  release(): void {
    if (this.#closed) return;
    this.#inUse--;
    this.#fill();
  }

  /** Nothing starts any more; the waiting items are forgotten (their owner ends them). */
  close(): void {
    this.#closed = true;
    this.#waiting.clear();
    this.#cursor = undefined;
  }

  #fill(): void {
    // A start may end its item at once and release the slot: the loop already running sees that.
    if (this.#filling) return;
    this.#filling = true;
    try {
      while (this.#inUse < this.#slots && !this.#closed && this.#waiting.size > 0) {
        const item = this.#oldest();
        if (item === undefined) return;
        this.#waiting.delete(item);
        // An iterator keeps the tables the set outgrew alive: none is kept while nothing waits.
        if (this.#waiting.size === 0) this.#cursor = undefined;
        this.#inUse++;
        this.#start(item);
      }
    } finally {
      this.#filling = false;
    }
  }

  /**
   * The oldest waiting item, read through one iterator kept across calls. A new `for...of` per
   * call would start at the set's front, where the items taken so far leave holes until the set
   * is rehashed: with 100,000 tasks waiting, taking them one by one cost about 13 µs each.
   */
  #oldest(): T | undefined {
    let step = this.#cursor?.next();
    // A finished iterator never sees later additions: start a new one (it happens when the queue ran empty).
    if (step === undefined || step.done === true) {
      this.#cursor = this.#waiting.values();
      step = this.#cursor.next();
    }
    return step.done === true ? undefined : step.value;
  }
}
