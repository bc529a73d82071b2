// Shared helpers of the client tests: waiting for client events with an expiry (never a sleep as
// synchronisation), and collecting a task's events.
import type { ClientEventName, ClientEvents, ImagewireClient, StateName } from '../../src/client/index.js';

/** The next `event` of `client` (matching `accept`), or a rejection after `withinMs`. */
export function nextEvent<E extends ClientEventName>(
  client: Pick<ImagewireClient, 'on'>,
  event: E,
  accept: (...args: ClientEvents[E]) => boolean = () => true,
  withinMs = 10_000,
): Promise<ClientEvents[E][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${event}" event within ${withinMs} ms`));
    }, withinMs);
    const off = client.on(event, (...args: ClientEvents[E]) => {
      if (!accept(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args[0]);
    });
  });
}

/** Resolves when the client reaches `state` (at once if it is there). */
export function waitForState(client: Pick<ImagewireClient, 'on' | 'state'>, state: StateName, withinMs = 10_000): Promise<void> {
  if (client.state === state) return Promise.resolve();
  return nextEvent(client, 'state', (change) => change.to === state, withinMs).then(() => undefined);
}

/** Asserts that `event` does NOT happen within `withinMs` (the expiry is the assertion). */
export async function expectNoEvent<E extends ClientEventName>(client: Pick<ImagewireClient, 'on'>, event: E, withinMs: number): Promise<void> {
  const happened = await nextEvent(client, event, () => true, withinMs).then(
    () => true,
    () => false,
  );
  if (happened) throw new Error(`unexpected "${event}" event`);
}
