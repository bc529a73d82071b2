// The dispatcher's admission queue against a plain model, under random sequences of submissions,
// tasks ending while waiting, tasks ending in their slot, and starts that end their task at once:
// never more than the slots in use, starts in submission order, a freed slot refilled at once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/client/tasks/admission.js';

type Op = { kind: 'add'; failsAtStart: boolean } | { kind: 'endWaiting'; pick: number } | { kind: 'endStarted'; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), failsAtStart: fc.boolean() }),
  fc.record({ kind: fc.constant('endWaiting' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('endStarted' as const), pick: fc.nat() }),
);

describe('Admission', () => {
  it('starts items oldest first within its slots, and frees a slot at once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 80 }), (slots, ops) => {
        const failing = new Set<number>();
        // What the admission did: the items it started, and those still holding a slot.
        const started: number[] = [];
        const inSlot = new Set<number>();
        // A start that ends its item at once (a write that fails) releases the slot from inside start.
        const admission: Admission<number> = new Admission(slots, (item) => {
          started.push(item);
          if (failing.has(item)) admission.release();
          else inSlot.add(item);
        });
        // The model: a plain FIFO, refilled after every step.
        const queue: number[] = [];
        const expected: number[] = [];
        const holding = new Set<number>();
        const fill = (): void => {
          while (holding.size < slots && queue.length > 0) {
            const item = queue.shift() as number;
            expected.push(item);
            if (!failing.has(item)) holding.add(item);
          }
        };
        let next = 0;
        for (const step of ops) {
          if (step.kind === 'add') {
            const item = next++;
            if (step.failsAtStart) failing.add(item);
            queue.push(item);
            admission.add(item);
          } else if (step.kind === 'endWaiting') {
            const item = queue[step.pick % Math.max(1, queue.length)];
            if (item === undefined) continue;
            queue.splice(queue.indexOf(item), 1);
            expect(admission.remove(item)).toBe(true);
          } else {
            const item = [...holding][step.pick % Math.max(1, holding.size)];
            if (item === undefined) continue;
            holding.delete(item);
            inSlot.delete(item);
            expect(admission.remove(item)).toBe(false);
            admission.release();
          }
          fill();
          expect(started).toEqual(expected);
          expect([...inSlot].sort()).toEqual([...holding].sort());
          expect(admission.inUse).toBe(holding.size);
          expect(admission.waiting).toBe(queue.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('starts nothing once closed', () => {
    const started: number[] = [];
    const admission = new Admission<number>(1, (item) => started.push(item));
    admission.add(1);
    admission.add(2);
    admission.close();
    admission.release();
    admission.add(3);
    expect(started).toEqual([1]);
    expect(admission.waiting).toBe(0);
  });
});
