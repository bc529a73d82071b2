// The image store's contract (images by imageUUID: results and uploads), stated once and run against
// every implementation: exact bytes, lookups without case, the per-key and total byte bounds with
// their eviction rule, retention renewed by use, and delete.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageFormat } from '../../src/engine/index.js';
import { whileBefore } from './redis-fixture.js';
import { SharesModel, seenTieBreak } from './shares-model.js';

/** An image as read back: the fields every implementation returns. */
export interface ImageRead {
  readonly uuid: string;
  readonly bytes: Uint8Array;
  readonly format: ImageFormat;
  readonly owner: string;
}

/** The image store as a contract sees it: every call awaited, whatever the implementation answers. */
export interface ImageStoreUnderTest {
  put(uuid: string, bytes: Uint8Array, format: ImageFormat, owner: string): Promise<void>;
  /** Marks the image used (its retention starts again). */
  get(uuid: string): Promise<ImageRead | undefined>;
  /** True when it was there. */
  delete(uuid: string): Promise<boolean>;
  /** Forgets expired images. */
  sweep(): Promise<void>;
  /** Lets `ms` pass for retention: a fake clock moves, or real time passes (keep it short). */
  elapse(ms: number): Promise<void>;
  /** The clock retention runs on. */
  now(): number;
  close(): Promise<void>;
}

/** The bounds a suite builds a store with. */
export interface ImageStoreBounds {
  readonly maxBytes: number;
  readonly maxBytesPerKey: number;
  readonly retentionMs: number;
}

const roomy: ImageStoreBounds = { maxBytes: 1 << 24, maxBytesPerKey: 1 << 22, retentionMs: 600_000 };

/** Bytes every decoder trips on: NUL, 0xff, invalid UTF-8 sequences, a lone surrogate's encoding. */
const oddPrefix = [0x00, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x0d, 0x0a, 0x1a];

let uuids = 0;
const nextUuid = (): string => `00000000-0000-4000-8000-${String(++uuids).padStart(12, '0')}`;
const sized = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill);

/**
 * States the image store's promises for one implementation. `makeStore` builds an empty store
 * (its own namespace); `retentionMs` is short where the implementation waits in real time.
 */
export function describeImageStoreContract(name: string, makeStore: (bounds: ImageStoreBounds) => Promise<ImageStoreUnderTest>, options: { readonly shortRetentionMs: number }): void {
  describe(`ImageStore contract: ${name}`, () => {
    const open: ImageStoreUnderTest[] = [];
    const make = async (bounds: Partial<ImageStoreBounds> = {}): Promise<ImageStoreUnderTest> => {
      const store = await makeStore({ ...roomy, ...bounds });
      open.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
    });

    it('gives back exactly the bytes, format and owner it was given, for any bytes (empty and odd binaries too)', async () => {
      const store = await make();
      const bytes = fc.uint8Array({ maxLength: 2048 }).map((random) => Uint8Array.from([...oddPrefix, ...random]));
      await fc.assert(
        fc.asyncProperty(bytes, fc.constantFrom<ImageFormat>('PNG', 'JPG', 'WEBP'), async (data, format) => {
          const uuid = nextUuid();
          await store.put(uuid, data, format, 'owner-a');
          const read = await store.get(uuid);
          expect(read?.format).toBe(format);
          expect(read?.owner).toBe('owner-a');
          expect(read?.uuid).toBe(uuid);
          expect(Buffer.from(read?.bytes ?? []).equals(Buffer.from(data))).toBe(true);
        }),
        { numRuns: 40 },
      );
      const empty = nextUuid();
      await store.put(empty, new Uint8Array(0), 'PNG', 'owner-a');
      expect((await store.get(empty))?.bytes.byteLength).toBe(0);
    });

    it('finds an image by its UUID in any case; an unknown UUID is not found', async () => {
      const store = await make();
      const uuid = `abcdef01-2345-4678-9abc-${String(++uuids).padStart(12, '0')}`;
      await store.put(uuid, sized(3), 'PNG', 'owner-a');
      expect((await store.get(uuid.toUpperCase()))?.uuid).toBe(uuid);
      expect(await store.get(nextUuid())).toBeUndefined();
    });

    it('serves an image to whoever names its UUID (the UUID is the capability) and reports its owner', async () => {
      const store = await make();
      const uuid = nextUuid();
      await store.put(uuid, sized(3), 'JPG', 'owner-b');
      expect((await store.get(uuid))?.owner).toBe('owner-b');
    });

    it('replaces an image put again under the same UUID, counting its bytes once', async () => {
      const store = await make({ maxBytes: 100, maxBytesPerKey: 100 });
      const uuid = nextUuid();
      await store.put(uuid, sized(60, 1), 'PNG', 'owner-a');
      await store.put(uuid, sized(60, 2), 'WEBP', 'owner-a');
      const read = await store.get(uuid);
      expect(read?.format).toBe('WEBP');
      expect(read?.bytes[0]).toBe(2);
    });

    it('delete: true once, then false (idempotent), and the image is gone', async () => {
      const store = await make();
      const uuid = nextUuid();
      await store.put(uuid, sized(3), 'PNG', 'owner-a');
      expect(await store.delete(uuid)).toBe(true);
      expect(await store.delete(uuid)).toBe(false);
      expect(await store.get(uuid)).toBeUndefined();
      expect(await store.delete(nextUuid())).toBe(false);
    });

    it('keeps an image one retention time after its last use, then forgets it', async () => {
      const retentionMs = options.shortRetentionMs;
      const store = await make({ retentionMs });
      const now = (): number => store.now();
      const used = nextUuid();
      const unused = nextUuid();
      const putAt = now();
      await store.put(used, sized(3), 'PNG', 'owner-a');
      await store.put(unused, sized(3), 'PNG', 'owner-a');
      const putDone = now();
      await store.elapse(retentionMs * 0.5);
      const touchedAt = now();
      const read = await store.get(used);
      await whileBefore(now, putAt + retentionMs, async () => expect(read).toBeDefined());
      await store.elapse(retentionMs * 0.7);
      expect(now()).toBeGreaterThan(putDone + retentionMs);
      expect(await store.get(unused)).toBeUndefined();
      if (read !== undefined) await whileBefore(now, touchedAt + retentionMs, async () => expect(await store.get(used)).toBeDefined());
      await store.elapse(retentionMs * 1.1);
      await store.sweep();
      expect(await store.get(used)).toBeUndefined();
    });

    it('a key past its share loses its own least recently used image, never another key\'s', async () => {
      const store = await make({ maxBytes: 1000, maxBytesPerKey: 300 });
      const [b1, a1, a2, a3, a4] = [nextUuid(), nextUuid(), nextUuid(), nextUuid(), nextUuid()];
      await store.put(b1, sized(100), 'PNG', 'owner-b');
      await store.put(a1, sized(100), 'PNG', 'owner-a');
      await store.put(a2, sized(100), 'PNG', 'owner-a');
      await store.put(a3, sized(100), 'PNG', 'owner-a');
      await store.get(a1);
      await store.put(a4, sized(100), 'PNG', 'owner-a');
      expect(await store.get(a2)).toBeUndefined();
      for (const kept of [a1, a3, a4, b1]) expect(await store.get(kept)).toBeDefined();
    });

    it('past the total the largest holder gives way if it holds more than the adder, else the adder its own', async () => {
      const store = await make({ maxBytes: 350, maxBytesPerKey: 300 });
      const [a1, a2, a3, b1, b2] = [nextUuid(), nextUuid(), nextUuid(), nextUuid(), nextUuid()];
      await store.put(a1, sized(100), 'PNG', 'owner-a');
      await store.put(a2, sized(100), 'PNG', 'owner-a');
      await store.put(a3, sized(100), 'PNG', 'owner-a');
      // 400 > 350 and A holds 300 > B's 0: A's oldest goes.
      await store.put(b1, sized(100), 'PNG', 'owner-b');
      expect(await store.get(a1)).toBeUndefined();
      // 400 > 350 and A holds 200, B 200: not more, so B gives up its own.
      await store.put(b2, sized(100), 'PNG', 'owner-b');
      expect(await store.get(b1)).toBeUndefined();
      for (const kept of [a2, a3, b2]) expect(await store.get(kept)).toBeDefined();
    });

    it('keeps the image just put even when it alone is over the share', async () => {
      const store = await make({ maxBytes: 1000, maxBytesPerKey: 100 });
      const [small, big] = [nextUuid(), nextUuid()];
      await store.put(small, sized(50), 'PNG', 'owner-a');
      await store.put(big, sized(150), 'PNG', 'owner-a');
      expect(await store.get(small)).toBeUndefined();
      expect(await store.get(big)).toBeDefined();
    });

    it('matches the model of the eviction rule over random puts, uses and deletes by three keys (small bounds)', async () => {
      type Op = { readonly op: 'put'; readonly owner: string; readonly size: number } | { readonly op: 'get' | 'delete'; readonly pick: number };
      const owner = fc.constantFrom('owner-a', 'owner-b', 'owner-c');
      const op: fc.Arbitrary<Op> = fc.oneof(
        { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), owner, size: fc.integer({ min: 1, max: 4 }) }) },
        { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), pick: fc.nat() }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }) },
      );
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 3, max: 10 }), fc.array(op, { minLength: 1, maxLength: 30 }), async (perKey, total, ops) => {
          const store = await make({ maxBytes: total * 10, maxBytesPerKey: perKey * 10 });
          const model = new SharesModel({ perOwner: perKey * 10, total: total * 10 });
          for (const step of ops) {
            const ids = model.ids();
            if (step.op === 'put') {
              const uuid = nextUuid();
              await store.put(uuid, sized(step.size * 10), 'PNG', step.owner);
              // What the store kept, read oldest first, so the reads (which mark use) keep each key's order.
              const present = new Set<string>();
              for (const id of [...ids, uuid]) if ((await store.get(id)) !== undefined) present.add(id);
              model.add(step.owner, uuid, step.size * 10, { keepNew: true, tieBreak: seenTieBreak(present) });
              expect([...present].sort()).toEqual(model.ids().sort());
              continue;
            }
            const picked = ids[step.pick % Math.max(1, ids.length)];
            if (picked === undefined) continue;
            if (step.op === 'get') {
              expect(await store.get(picked)).toBeDefined();
              model.touch(picked);
            } else {
              expect(await store.delete(picked)).toBe(true);
              model.delete(picked);
            }
          }
        }),
        { numRuns: 25 },
      );
    });
  });
}
