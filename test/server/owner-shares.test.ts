// OwnerShares against a plain model: totals and per-owner amounts, and the eviction rule: an owner
// past its share gives up its own oldest entry; past the total the owner holding the most gives up
// its oldest, never an owner that holds no more than the one adding.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OwnerShares, unshared, type ShareNode } from '../../src/server/owner-shares.js';

/** A store's entry: its own data and the fields OwnerShares keeps on it. */
interface Item extends ShareNode {
  readonly key: number;
}

type Op =
  | { op: 'add'; owner: string; amount: number; pinned: boolean }
  | { op: 'delete'; pick: number }
  | { op: 'touch'; pick: number }
  | { op: 'pin'; pick: number }
  | { op: 'unpin'; pick: number }
  | { op: 'resize'; pick: number; delta: number }
  | { op: 'room'; owner: string; adding: number };

const owner = fc.constantFrom('a', 'b', 'c');
const ops = fc.array(
  fc.oneof(
    // Small amounts, so that owners often hold the same (ties are where a rule can go wrong).
    { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), owner, amount: fc.integer({ min: 1, max: 2 }), pinned: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('touch' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('pin' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('unpin' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('resize' as const), pick: fc.nat(), delta: fc.integer({ min: -1, max: 2 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('room' as const), owner, adding: fc.integer({ min: 0, max: 5 }) }) },
  ),
  { maxLength: 150 },
);

interface Entry {
  readonly key: number;
  readonly owner: string;
  amount: number;
  readonly handle: Item;
  pinned: boolean;
}

describe('OwnerShares', () => {
  it('matches a plain model, and picks victims by the documented rule', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), ops, (perOwner, total, sequence: Op[]) => {
        const shares = new OwnerShares<Item>({ total, perOwner });
        /** Entries oldest first per owner (evictable order is the order of this array among unpinned ones). */
        let entries: Entry[] = [];
        let nextKey = 0;
        const amountOf = (who: string): number => entries.filter((e) => e.owner === who).reduce((sum, e) => sum + e.amount, 0);
        const owners = (): string[] => [...new Set(entries.map((e) => e.owner))];
        const oldest = (who: string): Entry | undefined => entries.find((e) => e.owner === who && !e.pinned);
        for (const step of sequence) {
          const picked = entries.length === 0 ? undefined : entries[('pick' in step ? step.pick : 0) % entries.length];
          switch (step.op) {
            case 'add': {
              const key = nextKey++;
              const handle: Item = { key, ...unshared() };
              shares.add(step.owner, handle, step.amount, step.pinned);
              expect(handle.shareAmount).toBe(step.amount);
              entries.push({ key, owner: step.owner, amount: step.amount, handle, pinned: step.pinned });
              break;
            }
            case 'delete':
              if (picked === undefined) break;
              expect(shares.delete(picked.handle)).toBe(true);
              expect(shares.delete(picked.handle)).toBe(false);
              entries = entries.filter((e) => e !== picked);
              break;
            case 'touch':
              if (picked === undefined) break;
              shares.touch(picked.handle);
              if (!picked.pinned) entries = [...entries.filter((e) => e !== picked), picked];
              break;
            case 'pin':
              if (picked === undefined) break;
              shares.pin(picked.handle);
              picked.pinned = true;
              break;
            case 'unpin':
              if (picked === undefined) break;
              shares.unpin(picked.handle);
              if (picked.pinned) {
                picked.pinned = false;
                entries = [...entries.filter((e) => e !== picked), picked];
              }
              break;
            case 'resize':
              // Amounts stay positive, as a store's do.
              if (picked === undefined || picked.amount + step.delta <= 0) break;
              shares.resize(picked.handle, step.delta);
              picked.amount += step.delta;
              expect(picked.handle.shareAmount).toBe(picked.amount);
              break;
            case 'room': {
              const room = shares.room(step.owner, step.adding);
              const holds = amountOf(step.owner);
              const sum = owners().reduce((s, o) => s + amountOf(o), 0);
              if (holds + step.adding > perOwner) {
                // Past its share: only the owner's own oldest entry may go.
                const own = oldest(step.owner);
                expect(room).toEqual(own === undefined ? { kind: 'full', owner: step.owner, bound: 'perOwner' } : { kind: 'evict', key: own.handle, owner: step.owner, bound: 'perOwner' });
              } else if (sum + step.adding > total) {
                const max = Math.max(...owners().map(amountOf));
                expect(room.kind).not.toBe('fits');
                if (room.kind === 'evict') {
                  expect(room.bound).toBe('total');
                  if (room.owner !== step.owner) {
                    // Another owner's entry goes only when it holds the most, and more than the adder.
                    expect(amountOf(room.owner)).toBe(max);
                    expect(max).toBeGreaterThan(holds);
                  }
                  expect(room.key).toBe(oldest(room.owner)?.handle);
                }
                if (room.kind === 'full') expect(oldest(step.owner)).toBeUndefined();
              } else {
                expect(room).toEqual({ kind: 'fits' });
              }
              break;
            }
          }
          expect(shares.total).toBe(owners().reduce((s, o) => s + amountOf(o), 0));
          for (const who of ['a', 'b', 'c']) {
            expect(shares.amountOf(who)).toBe(amountOf(who));
            expect([...shares.entriesOf(who)].map((item) => item.key)).toEqual(entries.filter((e) => e.owner === who && !e.pinned).map((e) => e.key));
            expect(new Set([...shares.pinnedOf(who)].map((item) => item.key))).toEqual(new Set(entries.filter((e) => e.owner === who && e.pinned).map((e) => e.key)));
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('forgets an owner that holds nothing any more, and keeps one whose pinned entry is empty', () => {
    const shares = new OwnerShares<Item>({ total: 10, perOwner: 10 });
    const x: Item = { key: 1, ...unshared() };
    const y: Item = { key: 2, ...unshared() };
    shares.add('a', x, 3);
    shares.add('b', y, 0, true);
    expect(() => shares.add('b', y, 1)).toThrow(/counted twice/);
    shares.resize(y, 2);
    expect(shares.owners).toBe(2);
    expect([...shares.pinnedOf('b')]).toEqual([y]);
    shares.delete(x);
    shares.resize(y, -2);
    expect(shares.owners).toBe(1);
    expect(shares.total).toBe(0);
    expect(shares.room('b', 0)).toEqual({ kind: 'fits' });
    expect(shares.delete(y)).toBe(true);
    expect(shares.delete(y)).toBe(false);
    expect(shares.owners).toBe(0);
    // Deleted, an entry may count again (an imagine image moves from the drafts to the published).
    shares.add('c', y, 1);
    expect(shares.amountOf('c')).toBe(1);
  });
});
