// The imagine store's contract (ImagineStore, the images of POST /v1/images/imagine), stated once and
// run against every implementation: exact round trips, ownership, unpublished images bounded per key
// and in total by the eviction rule, publishing refused past its bounds, lifetimes, and delete.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImagineLimits, ImagineStore, ImaginedImage } from '../../src/server/imagine/store.js';
import { whileBefore } from './redis-fixture.js';
import { SharesModel, seenTieBreak } from './shares-model.js';

/** An implementation as a contract drives it. */
export interface ImagineStoreUnderTest {
  readonly store: ImagineStore;
  /** Lets `ms` pass for lifetimes: a fake clock moves, or real time passes (keep it short). */
  elapse(ms: number): Promise<void>;
  /** The clock lifetimes run on. */
  now(): number;
  close(): Promise<void>;
}

type NewImage = Omit<ImaginedImage, 'id' | 'published' | 'expiresAt'>;

const roomy: ImagineLimits = { maxPublished: 100, maxUnpublished: 100 };

const draft = (owner: string, extra: Partial<NewImage> = {}): NewImage => ({ owner, name: 'a kite', bytes: new Uint8Array([1, 2, 3]), width: 8, height: 8, format: 'png', createdAt: new Date(1_700_000_000_123), ...extra });

/** The fields a reader sees, bytes as a Buffer so that equality is by content. */
function seen(image: ImaginedImage | undefined): unknown {
  if (image === undefined) return undefined;
  const { id, owner, name, bytes, width, height, format, createdAt, published } = image;
  return { id, owner, name, bytes: Buffer.from(bytes), width, height, format, createdAt: createdAt.getTime(), published };
}

/**
 * States the imagine store's promises for one implementation. `makeStore` builds an empty store
 * with `limits`; `shortLifetimeMs` is the published lifetime a test waits out.
 */
export function describeImagineStoreContract(name: string, makeStore: (limits: ImagineLimits) => Promise<ImagineStoreUnderTest>, options: { readonly shortLifetimeMs: number }): void {
  describe(`ImagineStore contract: ${name}`, () => {
    const open: ImagineStoreUnderTest[] = [];
    const make = async (limits: ImagineLimits = roomy): Promise<ImagineStoreUnderTest> => {
      const made = await makeStore(limits);
      open.push(made);
      return made;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((made) => made.close()));
    });

    it('gives its owner back exactly what was added (any bytes and names, the creation time to the ms), unpublished', async () => {
      const { store } = await make();
      const images = fc.record({
        bytes: fc.uint8Array({ maxLength: 1024 }).map((random) => Uint8Array.from([0x00, 0xff, 0xc3, 0x28, ...random])),
        name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }),
        side: fc.integer({ min: 1, max: 4096 }),
        createdAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      });
      await fc.assert(
        fc.asyncProperty(images, async ({ bytes, name, side, createdAt }) => {
          const added = await store.add(draft('owner-a', { bytes, name, width: side, height: side + 1, createdAt: new Date(createdAt) }));
          expect(added.id).toMatch(/^image_[0-9a-f]{32}$/);
          expect(added.published).toBe(false);
          const read = await store.get(added.id, 'owner-a');
          expect(seen(read)).toEqual(seen(added));
          expect(seen(read)).toMatchObject({ owner: 'owner-a', name, bytes: Buffer.from(bytes), width: side, height: side + 1, createdAt, published: false });
        }),
        { numRuns: 30 },
      );
      // A name is any JSON string the request held, lone surrogates too.
      const odd = await store.add(draft('owner-a', { name: 'kite \ud800 \udfff \u0000 end' }));
      expect((await store.get(odd.id, 'owner-a'))?.name).toBe('kite \ud800 \udfff \u0000 end');
    });

    it("another key's image is not found: get, publish and delete answer as for an unknown id, and it stays its owner's", async () => {
      const { store } = await make();
      const image = await store.add(draft('owner-a'));
      expect(await store.get(image.id, 'owner-b')).toBeUndefined();
      expect(await store.publish(image.id, 'owner-b')).toEqual({ ok: false, reason: 'notFound' });
      expect(await store.delete(image.id, 'owner-b')).toBe(false);
      expect(await store.get(image.id, 'owner-a')).toBeDefined();
      expect(await store.getPublished(image.id)).toBeUndefined();
      const unknown = `image_${'0'.repeat(32)}`;
      expect(await store.get(unknown, 'owner-a')).toBeUndefined();
      expect(await store.publish(unknown, 'owner-a')).toEqual({ ok: false, reason: 'notFound' });
      expect(await store.get('not an id', 'owner-a')).toBeUndefined();
    });

    it('publish makes an image public to anyone; publishing again changes nothing', async () => {
      const { store } = await make();
      const image = await store.add(draft('owner-a'));
      const first = await store.publish(image.id, 'owner-a');
      expect(first.ok && first.image.published).toBe(true);
      const again = await store.publish(image.id, 'owner-a');
      expect(again.ok && again.image.id).toBe(image.id);
      expect(seen(await store.getPublished(image.id))).toEqual({ ...(seen(image) as object), published: true });
      expect((await store.get(image.id, 'owner-a'))?.published).toBe(true);
    });

    it('delete: an owner deletes its own, published or not, once (then false); a published one stops being public', async () => {
      const { store } = await make();
      const draftImage = await store.add(draft('owner-a'));
      const public_ = await store.add(draft('owner-a'));
      await store.publish(public_.id, 'owner-a');
      for (const id of [draftImage.id, public_.id]) {
        expect(await store.delete(id, 'owner-a')).toBe(true);
        expect(await store.delete(id, 'owner-a')).toBe(false);
        expect(await store.get(id, 'owner-a')).toBeUndefined();
      }
      expect(await store.getPublished(public_.id)).toBeUndefined();
    });

    it('publishing past the total is refused with full, past the key\'s share with shareFull; a delete frees a place', async () => {
      const { store } = await make({ maxPublished: 3, maxPublishedPerKey: 2, maxUnpublished: 10 });
      const [a1, a2, a3] = [await store.add(draft('owner-a')), await store.add(draft('owner-a')), await store.add(draft('owner-a'))];
      const [b1, b2] = [await store.add(draft('owner-b')), await store.add(draft('owner-b'))];
      expect((await store.publish(a1.id, 'owner-a')).ok).toBe(true);
      expect((await store.publish(a2.id, 'owner-a')).ok).toBe(true);
      expect(await store.publish(a3.id, 'owner-a')).toEqual({ ok: false, reason: 'shareFull' });
      expect((await store.publish(b1.id, 'owner-b')).ok).toBe(true);
      expect(await store.publish(b2.id, 'owner-b')).toEqual({ ok: false, reason: 'full' });
      // A refused image stays its owner's, unpublished.
      expect((await store.get(b2.id, 'owner-b'))?.published).toBe(false);
      expect(await store.delete(a1.id, 'owner-a')).toBe(true);
      expect((await store.publish(b2.id, 'owner-b')).ok).toBe(true);
      expect(await store.publish(a3.id, 'owner-a')).toEqual({ ok: false, reason: 'full' });
    });

    it('a published image is public for its lifetime, then gone for everyone, and its place is free again', async () => {
      const lifetime = options.shortLifetimeMs;
      const { store, elapse, now } = await make({ maxPublished: 10, maxPublishedPerKey: 1, maxUnpublished: 10, publishedLifetimeMs: lifetime });
      const first = await store.add(draft('owner-a'));
      const second = await store.add(draft('owner-a'));
      const publishedAt = now();
      const published = await store.publish(first.id, 'owner-a');
      const publishDone = now();
      expect(published.ok && published.image.expiresAt).toBeGreaterThan(0);
      await whileBefore(now, publishedAt + lifetime, async () => expect(await store.publish(second.id, 'owner-a')).toEqual({ ok: false, reason: 'shareFull' }));
      await elapse(lifetime * 0.5);
      await whileBefore(now, publishedAt + lifetime, async () => expect(await store.getPublished(first.id)).toBeDefined());
      await elapse(lifetime * 0.7);
      expect(now()).toBeGreaterThan(publishDone + lifetime);
      store.sweep();
      expect(await store.getPublished(first.id)).toBeUndefined();
      expect(await store.get(first.id, 'owner-a')).toBeUndefined();
      expect((await store.publish(second.id, 'owner-a')).ok).toBe(true);
    });

    it('without a lifetime a published image stays; publishing takes it out of the unpublished bound', async () => {
      const { store } = await make({ maxPublished: 10, maxUnpublished: 2, maxUnpublishedPerKey: 2 });
      const kept = await store.add(draft('owner-a'));
      const published = await store.publish(kept.id, 'owner-a');
      expect(published.ok && published.image.expiresAt).toBe(Number.POSITIVE_INFINITY);
      const drafts = [await store.add(draft('owner-a')), await store.add(draft('owner-a')), await store.add(draft('owner-a'))];
      expect(await store.getPublished(kept.id)).toBeDefined();
      // The published one does not count: only the oldest draft made room.
      expect(await Promise.all(drafts.map(async (d) => (await store.get(d.id, 'owner-a')) !== undefined))).toEqual([false, true, true]);
    });

    it('matches the model of the eviction rule for unpublished images over random adds, publishes and deletes (small bounds)', async () => {
      type Op = { readonly op: 'add'; readonly owner: string } | { readonly op: 'publish' | 'delete'; readonly pick: number };
      const owner = fc.constantFrom('owner-a', 'owner-b', 'owner-c');
      const op: fc.Arbitrary<Op> = fc.oneof(
        { weight: 5, arbitrary: fc.record({ op: fc.constant('add' as const), owner }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('publish' as const), pick: fc.nat() }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }) },
      );
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.array(op, { minLength: 1, maxLength: 25 }), async (perKey, total, maxPublished, ops) => {
          const { store } = await make({ maxPublished, maxUnpublished: total, maxUnpublishedPerKey: perKey });
          const drafts = new SharesModel({ perOwner: perKey, total });
          const published = new Map<string, string>();
          for (const step of ops) {
            const ids = drafts.ids();
            if (step.op === 'add') {
              const added = await store.add(draft(step.owner));
              const present = new Set<string>();
              for (const id of [...ids, added.id]) if ((await store.get(id, drafts.ownerOf(id) ?? step.owner)) !== undefined) present.add(id);
              drafts.add(step.owner, added.id, 1, { keepNew: true, tieBreak: seenTieBreak(present) });
              expect([...present].sort()).toEqual(drafts.ids().sort());
              continue;
            }
            const picked = ids[step.pick % Math.max(1, ids.length)];
            const who = picked === undefined ? undefined : drafts.ownerOf(picked);
            if (picked === undefined || who === undefined) continue;
            if (step.op === 'delete') {
              expect(await store.delete(picked, who)).toBe(true);
              drafts.delete(picked);
              continue;
            }
            const result = await store.publish(picked, who);
            const mine = [...published.values()].filter((o) => o === who).length;
            const expected = published.size >= maxPublished ? 'full' : mine >= maxPublished ? 'shareFull' : 'ok';
            expect(result.ok ? 'ok' : result.reason).toBe(expected);
            if (!result.ok) continue;
            drafts.delete(picked);
            published.set(picked, who);
          }
          for (const [id, who] of published) expect((await store.get(id, who))?.published).toBe(true);
        }),
        { numRuns: 25 },
      );
    });
  });
}
