// The state machine: the edge table itself, and a property test that drives a connection through
// random drops, refusals, silences, network hints, idle closes and close() on fake time, checking
// that every change it reports is an allowed edge and that closed is final.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { allowedTransitions, canTransition, type StateName } from '../../src/client/connection/connection-state.js';
import { ImagewireClient, type StateChange } from '../../src/client/index.js';
import { FakeSocket } from './fake-socket.js';

const states = Object.keys(allowedTransitions) as StateName[];

describe('allowed transitions', () => {
  it('makes closed final and reachable from every other state', () => {
    expect(allowedTransitions.closed).toEqual([]);
    for (const state of states.filter((s) => s !== 'closed')) expect(canTransition(state, 'closed')).toBe(true);
  });

  it('reaches open only through authenticating, and authenticating only through connecting', () => {
    expect(states.filter((s) => canTransition(s, 'open'))).toEqual(['authenticating']);
    expect(states.filter((s) => canTransition(s, 'authenticating'))).toEqual(['connecting']);
  });

  it('never reconnects from idle or closing, and never skips connecting', () => {
    expect(states.filter((s) => canTransition(s, 'connecting'))).toEqual(['idle', 'reconnecting']);
    expect(canTransition('closing', 'reconnecting')).toBe(false);
  });
});

type Action =
  | { kind: 'advance'; ms: number }
  | { kind: 'drop' }
  | { kind: 'script'; next: 'accept' | 'silent' | 'refuse' }
  | { kind: 'busy'; busy: boolean }
  | { kind: 'online' }
  | { kind: 'close' };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
  fc.constant({ kind: 'drop' as const }),
  fc.record({ kind: fc.constant('script' as const), next: fc.constantFrom('accept' as const, 'silent' as const, 'refuse' as const) }),
  fc.record({ kind: fc.constant('busy' as const), busy: fc.boolean() }),
  fc.constant({ kind: 'online' as const }),
  fc.constant({ kind: 'close' as const }),
);

describe('connection under random faults', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('only ever takes allowed edges, reports them as a chain, and stays closed after close()', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 40 }), async (actions) => {
        let behaviour: 'accept' | 'silent' | 'refuse' = 'accept';
        FakeSocket.reset({ onConnect: () => behaviour });
        const online = new EventTarget();
        const client = new ImagewireClient({
          apiKey: 'k',
          url: 'ws://fake/v1',
          WebSocket: FakeSocket,
          connectTimeoutMs: 500,
          authTimeoutMs: 500,
          keepAlive: { intervalMs: 1_000, pongTimeoutMs: 300 },
          reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
          closeWhenIdleMs: 700,
          networkEvents: { window: online },
          random: () => 0.5,
        });
        const changes: StateChange[] = [];
        client.on('state', (change) => changes.push(change));
        let closed = false;
        for (const step of actions) {
          if (step.kind === 'advance') await vi.advanceTimersByTimeAsync(step.ms);
          else if (step.kind === 'drop') FakeSocket.created.at(-1)?.drop();
          else if (step.kind === 'script') behaviour = step.next;
          else if (step.kind === 'online') online.dispatchEvent(new Event('online'));
          else if (step.kind === 'busy') {
            if (step.busy) void client.connect().catch(() => undefined);
          } else {
            closed = true;
            await client.close();
          }
          await vi.advanceTimersByTimeAsync(0);
        }
        const socketsBeforeEnd = FakeSocket.created.length;
        await client.close();
        await vi.advanceTimersByTimeAsync(30_000);
        let previous: StateName = 'idle';
        for (const change of changes) {
          expect(change.from).toBe(previous);
          expect(canTransition(change.from, change.to)).toBe(true);
          previous = change.to;
        }
        expect(client.state).toBe('closed');
        expect(changes.filter((c) => c.from === 'closed')).toEqual([]);
        if (closed) expect(FakeSocket.created.length).toBe(socketsBeforeEnd);
        // Every socket the client made is closed.
        expect(FakeSocket.created.filter((socket) => socket.readyState !== 3)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
