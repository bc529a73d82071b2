// The usage store's contract (UsageStore: tasks, images and cost per key and token, and the counters
// a token's scope is enforced with), stated once and run against every implementation: counting,
// the budget, tasks per minute, a final counted once however often it is recorded, and the report.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { shortOwnerId, type UsageStore } from '../../src/server/usage/usage-store.js';

/** An implementation as a contract drives it. */
export interface UsageStoreUnderTest {
  readonly store: UsageStore;
  close(): Promise<void>;
}

const ownerA = 'a'.repeat(64);
const ownerB = 'b'.repeat(64);
const token = (id: string, extra: { tasksPerMinute?: number; budget?: number } = {}): { id: string; expiresAtMs: number; tasksPerMinute?: number; budget?: number } => ({
  id: id.padStart(24, '0'),
  expiresAtMs: Date.now() + 600_000,
  ...extra,
});

/** States the usage store's promises for one implementation; `makeStore` builds an empty store. */
export function describeUsageStoreContract(name: string, makeStore: () => Promise<UsageStoreUnderTest>): void {
  describe(`UsageStore contract: ${name}`, () => {
    const open: UsageStoreUnderTest[] = [];
    const make = async (): Promise<UsageStore> => {
      const made = await makeStore();
      open.push(made);
      return made.store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((made) => made.close()));
    });

    it('counts tasks, images and cost per owner and per token, and reports owners by a short id only', async () => {
      const store = await make();
      const t = token('1');
      expect(await store.admit(ownerA, t)).toEqual({ ok: true });
      expect(await store.admit(ownerA, undefined)).toEqual({ ok: true });
      expect(await store.admit(ownerB, undefined)).toEqual({ ok: true });
      expect(await store.recordFinal(ownerA, t, 'task-1:0', 0.25)).toBe(true);
      expect(await store.recordFinal(ownerA, undefined, 'task-2:0', 0.5)).toBe(true);
      const report = await store.report();
      const byOwner = new Map(report.owners.map((entry) => [entry.owner, entry]));
      expect(byOwner.get(shortOwnerId(ownerA))).toMatchObject({ tasks: 2, images: 2, cost: 0.75 });
      expect(byOwner.get(shortOwnerId(ownerB))).toMatchObject({ tasks: 1, images: 0, cost: 0 });
      expect(report.tokens).toEqual([expect.objectContaining({ tokenId: t.id, owner: shortOwnerId(ownerA), tasks: 1, images: 1, cost: 0.25, expiresAt: new Date(t.expiresAtMs).toISOString() })]);
      expect(JSON.stringify(report)).not.toContain(ownerA);
    });

    it('counts a final once, however often and in whatever order its copies are recorded', async () => {
      const store = await make();
      const t = token('2');
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 1000 })), { minLength: 1, maxLength: 30 }), async (copies) => {
          const run = `run-${++runs}`;
          const counted = await Promise.all(copies.map(([index, cents]) => store.recordFinal(ownerA, t, `${run}:${index}`, cents / 100)));
          // Exactly one copy of each final counted (which one is up to the store when they race).
          const perIndex = new Map<number, number>();
          copies.forEach(([index], at) => perIndex.set(index, (perIndex.get(index) ?? 0) + (counted[at] === true ? 1 : 0)));
          for (const count of perIndex.values()) expect(count).toBe(1);
        }),
        { numRuns: 20 },
      );
      const before = (await store.report()).tokens[0];
      expect(await store.recordFinal(ownerA, t, 'once:0', 1)).toBe(true);
      expect(await store.recordFinal(ownerA, t, 'once:0', 1)).toBe(false);
      expect(await store.recordFinal(ownerB, undefined, 'once:0', 1)).toBe(true);
      const after = (await store.report()).tokens[0];
      expect((after?.images ?? 0) - (before?.images ?? 0)).toBe(1);
      expect((after?.cost ?? 0) - (before?.cost ?? 0)).toBeCloseTo(1, 9);
    });

    it('refuses a token whose spent cost reached its budget; another token of the owner runs on', async () => {
      const store = await make();
      const t = token('3', { budget: 1 });
      for (let i = 0; i < 3; i++) {
        expect(await store.admit(ownerA, t)).toEqual({ ok: true });
        await store.recordFinal(ownerA, t, `budget-${i}:0`, 0.4);
      }
      expect(await store.admit(ownerA, t)).toMatchObject({ ok: false, reason: 'budgetExhausted', budget: 1 });
      const refused = await store.admit(ownerA, t);
      expect(refused.ok === false && refused.reason === 'budgetExhausted' && refused.spent).toBeCloseTo(1.2, 9);
      expect(await store.admit(ownerA, token('4', { budget: 1 }))).toEqual({ ok: true });
      expect((await store.report()).tokens.find((entry) => entry.tokenId === t.id)).toMatchObject({ tasks: 3, budget: 1 });
    });

    it('keeps the spent total of a token past its expiry and retention while it is still used (a socket authenticated before it expired)', async () => {
      const store = await make();
      const t = { ...token('7', { budget: 1 }), expiresAtMs: Date.now() - 3_600_000 };
      expect(await store.admit(ownerA, t)).toEqual({ ok: true });
      await store.recordFinal(ownerA, t, 'late:0', 1.5);
      expect(await store.admit(ownerA, t)).toMatchObject({ ok: false, reason: 'budgetExhausted' });
    });

    it('holds tasksPerMinute: past it a token is refused with the time left in the minute; refusals count no task and move no window', async () => {
      const store = await make();
      const t = token('5', { tasksPerMinute: 3 });
      for (let attempt = 0; ; attempt++) {
        const minute = Math.floor(Date.now() / 60_000);
        const answers = [];
        for (let i = 0; i < 5; i++) answers.push(await store.admit(ownerA, t));
        if (Math.floor(Date.now() / 60_000) !== minute && attempt < 2) continue;
        expect(answers.filter((answer) => answer.ok)).toHaveLength(3);
        const refused = answers.find((answer) => !answer.ok);
        expect(refused).toMatchObject({ ok: false, reason: 'rateLimited', limit: 3 });
        expect(refused?.ok === false && refused.reason === 'rateLimited' && refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused?.ok === false && refused.reason === 'rateLimited' && refused.retryAfterMs).toBeLessThanOrEqual(60_000);
        const tasks = (await store.report()).tokens.find((entry) => entry.tokenId === t.id)?.tasks;
        expect(tasks).toBe(3 * (attempt + 1));
        break;
      }
      expect(await store.admit(ownerA, token('6', { tasksPerMinute: 3 }))).toEqual({ ok: true });
    });
  });
}
