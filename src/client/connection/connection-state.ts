// The connection's states, the data each carries, and the table of allowed edges. Pure: the
// connection manager moves between states through one function that checks this table.
import type { ImagewireError } from '../errors.js';

/** The name of a connection state. */
export type StateName = 'idle' | 'connecting' | 'authenticating' | 'open' | 'reconnecting' | 'closing' | 'closed';

/** A connection state with its data; an error exists only where one can. */
export type ConnectionState =
  | { readonly name: 'idle' }
  | { readonly name: 'connecting'; readonly attempt: number }
  | { readonly name: 'authenticating'; readonly attempt: number }
  | { readonly name: 'open'; readonly attempt: number; readonly sessionUUID: string; readonly resumed: boolean }
  | { readonly name: 'reconnecting'; readonly failures: number; readonly delayMs: number; readonly lastError: ImagewireError }
  | { readonly name: 'closing' }
  | { readonly name: 'closed'; readonly error: ImagewireError | undefined };

/**
 * Every allowed edge. `open → idle` is the optional close when idle; `connecting`,
 * `authenticating` and `reconnecting → idle` end a first connection that never reached the server
 * (firstConnectTimeoutMs: its tasks fail, the next task starts afresh); `closing` is only entered
 * when a socket has to be shut down (from idle or reconnecting, close() goes straight to closed).
 */
export const allowedTransitions: { readonly [From in StateName]: readonly StateName[] } = {
  idle: ['connecting', 'closed'],
  connecting: ['authenticating', 'reconnecting', 'idle', 'closing', 'closed'],
  authenticating: ['open', 'reconnecting', 'idle', 'closing', 'closed'],
  open: ['reconnecting', 'idle', 'closing', 'closed'],
  reconnecting: ['connecting', 'idle', 'closed'],
  closing: ['closed'],
  closed: [],
};

/** True when the table allows moving from `from` to `to`. */
export function canTransition(from: StateName, to: StateName): boolean {
  return allowedTransitions[from].includes(to);
}

/** States in which a socket attempt exists and belongs to the connection. */
export function holdsSocket(state: StateName): boolean {
  return state === 'connecting' || state === 'authenticating' || state === 'open' || state === 'closing';
}
