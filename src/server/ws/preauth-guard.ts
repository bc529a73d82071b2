// Bounds what a socket may send before it authenticates, counted in raw bytes as they arrive on
// its TCP socket. `ws` buffers a whole message before it emits it (up to its maxPayload, which is
// one number for every socket), so without this an unauthenticated peer could make the server hold
// tens of megabytes by announcing a large frame and sending it slowly.
import type { Duplex } from 'node:stream';

/** What the guard budgets: before any authentication task, or while one is being checked. */
export type PreAuthPhase = 'awaitingAuth' | 'authenticating';

/**
 * Counts a socket's incoming bytes until it authenticates. Its 'data' listener is added after the
 * one of `ws`, which emits every message a chunk completes before this listener sees the chunk (the
 * server sets `allowSynchronousEvents`); so when a chunk is counted, the messages it finished have
 * already reset the count. The count may include the tail of a message that ended in the chunk,
 * never less than what `ws` holds, so the bound errs on the strict side by at most one chunk.
 */
export class PreAuthGuard {
  readonly #tcp: Duplex;
  readonly #frameBudget: number;
  readonly #pipelineBudget: number;
  readonly #exceeded: (phase: PreAuthPhase) => void;
  #phase: PreAuthPhase = 'awaitingAuth';
  #count = 0;
  #attached = true;

  /**
   * @param frameBudget the largest frame before an authentication task arrives
   * @param pipelineBudget bytes that may follow an authentication task while it is checked (a pipelined task frame)
   * @param exceeded called once, when a budget is passed; the caller closes the socket
   */
  constructor(tcp: Duplex, frameBudget: number, pipelineBudget: number, exceeded: (phase: PreAuthPhase) => void) {
    this.#tcp = tcp;
    this.#frameBudget = frameBudget;
    this.#pipelineBudget = pipelineBudget;
    this.#exceeded = exceeded;
    tcp.on('data', this.#onData);
  }

  /** A whole message arrived before any authentication task: `ws` holds none of it any more. */
  messageEnded(): void {
    if (this.#phase === 'awaitingAuth') this.#count = 0;
  }

  /**
   * An authentication task arrived and is being checked (or failed and the socket waits for another
   * one): the count starts again under that phase's budget. While checking, messages do not reset
   * it, so frames piled up behind a slow check are bounded in total.
   */
  enter(phase: PreAuthPhase): void {
    this.#phase = phase;
    this.#count = 0;
  }

  /** Authenticated (or closed): the listener goes, so authenticated sockets pay nothing per chunk. */
  dispose(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#tcp.off('data', this.#onData);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#count += chunk.byteLength;
    const budget = this.#phase === 'awaitingAuth' ? this.#frameBudget : this.#pipelineBudget;
    if (this.#count <= budget) return;
    const phase = this.#phase;
    this.dispose();
    this.#exceeded(phase);
  };
}
