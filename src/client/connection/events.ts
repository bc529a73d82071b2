// The client's events and the hub that delivers them. Listeners are isolated (a throwing listener
// is reported, never propagated), and events raised during a state change are delivered after
// it completes, so a listener that calls close() cannot corrupt a transition half-way.
import { EventEmitter } from 'eventemitter3';
import type { ConnectionState, StateName } from './connection-state.js';
import type { ImagewireError } from '../errors.js';

/** Payload of the `state` event. */
export interface StateChange {
  readonly from: StateName;
  readonly to: StateName;
  /** The new state with its data (attempt number, backoff delay, last error, ...). */
  readonly state: ConnectionState;
}

/** Payload of the `connected` event: an authentication reply arrived. */
export interface ConnectedInfo {
  /** True when the previous session was resumed and its held results follow. */
  readonly resumed: boolean;
  readonly sessionUUID: string;
  /** Extensions the server supports (empty for a plain Runware server). */
  readonly serverExtensions: readonly string[];
  /** Session extensions enabled on this connection (`ack`, `binaryResults`). */
  readonly enabledExtensions: readonly string[];
}

/** Payload of the `disconnected` event: an open connection was lost. */
export interface DisconnectedInfo {
  readonly error: ImagewireError;
  /** False when the client closes instead (close(), a refused key, attempts used up). */
  readonly willReconnect: boolean;
}

/** Event name → listener arguments. */
export interface ClientEvents {
  /** Every state change. */
  state: [change: StateChange];
  /** Authenticated (first connect and every reconnect). */
  connected: [info: ConnectedInfo];
  /** An open connection was lost. */
  disconnected: [info: DisconnectedInfo];
  /** A failed attempt, or a server error that belongs to no task. Never fails a task by itself. */
  error: [error: ImagewireError];
}

/** Event names of {@link ClientEvents}. */
export type ClientEventName = keyof ClientEvents;

type Listener<E extends ClientEventName> = (...args: ClientEvents[E]) => void;
type Guarded = (...args: unknown[]) => void;

/** Delivers {@link ClientEvents} with isolated listeners and batched emission. */
export class EventHub {
  readonly #emitter = new EventEmitter();
  readonly #report: (error: unknown) => void;
  /** listener → its guarded wrappers, so off(listener) can find them. */
  readonly #wrapped = new Map<ClientEventName, Map<unknown, Guarded[]>>();
  readonly #pending: (() => void)[] = [];
  #depth = 0;

  constructor(report: (error: unknown) => void) {
    this.#report = report;
  }

  /** Adds a listener; returns the function that removes it. */
  on<E extends ClientEventName>(event: E, listener: Listener<E>, once = false): () => void {
    let removed = false;
    const guarded: Guarded = (...args: unknown[]) => {
      if (once) remove();
      try {
        (listener as unknown as Guarded)(...args);
      } catch (error) {
        this.#reportSafely(error);
      }
    };
    const remove = () => {
      if (removed) return;
      removed = true;
      this.#emitter.off(event, guarded);
      const byListener = this.#wrapped.get(event);
      const remaining = (byListener?.get(listener) ?? []).filter((entry) => entry !== guarded);
      if (remaining.length === 0) byListener?.delete(listener);
      else byListener?.set(listener, remaining);
    };
    const byListener = this.#wrapped.get(event) ?? new Map<unknown, Guarded[]>();
    this.#wrapped.set(event, byListener);
    byListener.set(listener, [...(byListener.get(listener) ?? []), guarded]);
    this.#emitter.on(event, guarded);
    return remove;
  }

  /** Removes every registration of `listener` for `event`. */
  off<E extends ClientEventName>(event: E, listener: Listener<E>): void {
    const byListener = this.#wrapped.get(event);
    for (const guarded of byListener?.get(listener) ?? []) this.#emitter.off(event, guarded);
    byListener?.delete(listener);
  }

  /** Number of listeners of `event` (for leak tests). */
  listenerCount(event: ClientEventName): number {
    return this.#emitter.listenerCount(event);
  }

  /** Removes every listener. */
  clear(): void {
    this.#emitter.removeAllListeners();
    this.#wrapped.clear();
  }

  /** Emits now, or after the outermost {@link batch} when inside one. */
  emit<E extends ClientEventName>(event: E, ...args: ClientEvents[E]): void {
    const deliver = () => {
      (this.#emitter.emit as (event: string, ...rest: unknown[]) => boolean)(event, ...args);
    };
    if (this.#depth > 0) this.#pending.push(deliver);
    else deliver();
  }

  /** Runs `work`; events it emits are delivered when the outermost batch ends. */
  batch<T>(work: () => T): T {
    this.#depth++;
    try {
      return work();
    } finally {
      this.#depth--;
      if (this.#depth === 0) this.#flush();
    }
  }

  #flush(): void {
    // Listeners may start new batches; those flush themselves, so this loop only drains.
    while (this.#pending.length > 0 && this.#depth === 0) {
      const deliver = this.#pending.shift();
      this.#depth++;
      try {
        deliver?.();
      } finally {
        this.#depth--;
      }
    }
  }

  #reportSafely(error: unknown): void {
    try {
      this.#report(error);
    } catch {
      // The reporter itself failed; there is nowhere left to report to.
    }
  }
}
