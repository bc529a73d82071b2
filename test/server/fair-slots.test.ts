// FairSlots: a slot is never given twice or lost, each key's tasks start in the order they asked,
// a withdrawn task never starts, and keys take turns: while a task waits as the k-th of its key,
// no other key starts more than k tasks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FairSlots, type ReleaseSlot, type SlotTicket } from '../../src/server/core/fair-slots.js';

type Op = { op: 'ask'; owner: string } | { op: 'release'; pick: number } | { op: 'withdraw'; pick: number };

const ops = fc.array(
  fc.oneof(
    // Asks outweigh releases so that lines build up and keys compete for turns.
    { weight: 5, arbitrary: fc.record({ op: fc.constant('ask' as const), owner: fc.constantFrom('a', 'a', 'b', 'c') }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('withdraw' as const), pick: fc.nat() }) },
  ),
  { maxLength: 200 },
);

interface Waiter {
  readonly id: number;
  readonly owner: string;
  /** The waiter's place in its key's line when it asked (1 = first). */
  readonly place: number;
  /** Grants to each key before this one asked. */
  readonly grantsBefore: Map<string, number>;
  readonly ticket: SlotTicket;
}

describe('FairSlots', () => {
  it('keeps its invariants under any sequence of asks, releases and withdrawals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 }), ops, (capacity, sequence: Op[]) => {
        const slots = new FairSlots(capacity);
        const held: ReleaseSlot[] = [];
        const waiting: Waiter[] = [];
        const grants = new Map<string, number>();
        const lastGranted = new Map<string, number>();
        let nextId = 0;
        const granted = (owner: string, id: number, release: ReleaseSlot): void => {
          // First come first served within a key.
          expect(id).toBeGreaterThan(lastGranted.get(owner) ?? -1);
          lastGranted.set(owner, id);
          grants.set(owner, (grants.get(owner) ?? 0) + 1);
          held.push(release);
        };
        for (const step of sequence) {
          if (step.op === 'ask') {
            const id = nextId++;
            const now = slots.tryAcquire();
            if (now !== undefined) {
              granted(step.owner, id, now);
            } else {
              const place = waiting.filter((w) => w.owner === step.owner).length + 1;
              const waiter: Waiter = {
                id,
                owner: step.owner,
                place,
                grantsBefore: new Map(grants),
                ticket: slots.enqueue(step.owner, (release) => {
                  waiting.splice(waiting.indexOf(waiter), 1);
                  // Round robin: no other key started more tasks than this one's place meanwhile.
                  for (const [other, count] of grants) {
                    if (other !== step.owner) expect(count - (waiter.grantsBefore.get(other) ?? 0)).toBeLessThanOrEqual(waiter.place);
                  }
                  granted(step.owner, id, release);
                }),
              };
              waiting.push(waiter);
            }
          } else if (step.op === 'release') {
            if (held.length === 0) continue;
            const [release] = held.splice(step.pick % held.length, 1);
            release?.();
            // A second call gives nothing back twice.
            release?.();
          } else {
            if (waiting.length === 0) continue;
            const [waiter] = waiting.splice(step.pick % waiting.length, 1);
            if (waiter !== undefined) slots.withdraw(waiter.ticket);
          }
          expect(slots.busy).toBe(held.length);
          expect(slots.busy).toBeLessThanOrEqual(capacity);
          expect(slots.waiting).toBe(waiting.length);
          // Work-conserving: nobody waits while a slot is free.
          if (slots.waiting > 0) expect(slots.busy).toBe(capacity);
        }
      }),
      { numRuns: 300 },
    );
  });
});
