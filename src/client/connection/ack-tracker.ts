// The `ack` extension, client side: which sequenced frames arrived (a frame seen twice is
// dropped), and when to tell the server, so its buffer of held frames stays small.

/** Acknowledge once this many sequenced frames are unacknowledged (the extension's rule). */
export const ACK_EVERY_FRAMES = 16;
/** ...or this long after the first unacknowledged frame, whichever comes first. */
export const ACK_AFTER_MS = 1_000;

/** Sequence bookkeeping of one session. */
export class AckTracker {
  #received = 0;
  #acknowledged = 0;

  /** The highest sequence number received in this session. */
  get received(): number {
    return this.#received;
  }

  /** Frames received but not yet acknowledged to the server. */
  get unacknowledged(): number {
    return this.#received - this.#acknowledged;
  }

  /**
   * Records a frame's sequence number. False means it was seen before (a replay after resume
   * overlapping what arrived) and the frame must be dropped.
   */
  accept(seq: number): boolean {
    if (seq <= this.#received) return false;
    this.#received = seq;
    return true;
  }

  /** The value to send as `ack` now; counts everything up to it as acknowledged. */
  acknowledge(): number {
    this.#acknowledged = this.#received;
    return this.#received;
  }

  /** A new session starts numbering at 1 again. */
  reset(): void {
    this.#received = 0;
    this.#acknowledged = 0;
  }
}
