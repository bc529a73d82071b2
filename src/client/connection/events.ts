// The client's events and the hub that delivers them. Listeners are isolated (a throwing listener
// is reported, never propagated), and events raised during a state change are delivered after
// it completes, so a listener that calls close() cannot corrupt a transition half-way.
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

/** One registration: the listener as given (for off()) and its guarded wrapper (what is called). */
interface Registration {
  readonly listener: unknown;
  readonly guarded: Guarded;
}

/** Delivers {@link ClientEvents} with isolated listeners and batched emission. */
export class EventHub {
  /**
   * Registrations per event, in the order they were added. Arrays are replaced, never changed in
   * place, so an emission walks the listeners that were there when it started.
   */
  readonly #listeners = new Map<ClientEventName, readonly Registration[]>();
  readonly #report: (error: unknown) => void;
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
      this.#keep(event, (entry) => entry.guarded !== guarded);
    };
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), { listener, guarded }]);
    return remove;
  }

  /** Removes every registration of `listener` for `event`. */
  off<E extends ClientEventName>(event: E, listener: Listener<E>): void {
    this.#keep(event, (entry) => entry.listener !== listener);
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
  }

  /** Emits now, or after the outermost {@link batch} when inside one. */
  emit<E extends ClientEventName>(event: E, ...args: ClientEvents[E]): void {
    const deliver = () => {
      for (const entry of this.#listeners.get(event) ?? []) entry.guarded(...args);
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

  /** Keeps the registrations of `event` that pass `test`. */
  #keep(event: ClientEventName, test: (entry: Registration) => boolean): void {
    const kept = (this.#listeners.get(event) ?? []).filter(test);
    if (kept.length === 0) this.#listeners.delete(event);
    else this.#listeners.set(event, kept);
  }

  #reportSafely(error: unknown): void {
    try {
      this.#report(error);
    } catch {
      // The reporter itself failed; there is nowhere left to report to.
    }
  }
}
