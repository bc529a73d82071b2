// The Redis image and imagine stores against a real redis-server, beyond their contracts
// (test/contract/): byte accounts and eviction counts, a held frame's bytes, bursts within one
// millisecond, and TTLs on every key.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisImageStore } from '../../src/server/cluster/image-store.js';
import { RedisImagineStore } from '../../src/server/cluster/imagine-store.js';
import { SessionLog } from '../../src/server/cluster/session-log.js';
import type { ServerFrame } from '../../src/server/core/server-frame.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { expectEveryKeyExpires, startStoreFixture, type StoreFixture } from './store-fixture.js';

let prefixes = 0;
const fresh = (): string => `img${++prefixes}:`;

describe.runIf(redisAvailable())('image stores on Redis', () => {
  let fixture: StoreFixture;
  let redis: Redis;
  beforeAll(async () => {
    fixture = await startStoreFixture();
    redis = fixture.connect();
  });
  afterAll(async () => fixture.close());

  it('round-trips any bytes exactly, through the image store and a held frame', async () => {
    const keyPrefix = fresh();
    const images = new RedisImageStore({ redis, limits: { maxStoredImageBytes: 1 << 30, maxStoredImageBytesPerKey: 1 << 28 }, keyPrefix });
    const log = new SessionLog({ redis, limits: { maxHeldSessions: 100, maxHeldSessionsPerKey: 100, maxHeldBytesPerSession: 1 << 26, maxHeldBytesPerKey: 1 << 27, maxHeldBytesTotal: 1 << 28 }, keyPrefix });
    const created = await log.create('A');
    if (created.kind !== 'created') throw new Error(created.kind);
    const bytes = fc.uint8Array({ minLength: 0, maxLength: 4096 }).map((random) => Buffer.concat([Buffer.from([0x00, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from(random)]));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(bytes, async (data) => {
        const uuid = `u-${n++}`;
        await images.put(uuid, data, 'PNG', 'A');
        expect((await images.get(uuid))?.bytes.equals(data)).toBe(true);
        const frame: ServerFrame = { kind: 'image', item: { taskType: 'imageInference', taskUUID: 't', imageUUID: uuid }, field: 'imageDataURI', mediaType: 'image/png', image: data };
        const appended = await log.append(created.session, 'A', frame);
        if (appended.kind !== 'appended') throw new Error(appended.kind);
        const [entry] = await log.read(created.session, appended.seq - 1, 1);
        expect(entry?.frame.kind === 'image' && Buffer.from(entry.frame.image).equals(data)).toBe(true);
      }),
      { numRuns: 60 },
    );
    await expectEveryKeyExpires(redis, keyPrefix);
  });

  it('keeps its byte accounts per key and in total, and counts what each put evicted, as the eviction rule runs', async () => {
    const keyPrefix = fresh();
    const images = new RedisImageStore({ redis, limits: { maxStoredImageBytes: 350, maxStoredImageBytesPerKey: 300 }, keyPrefix });
    const kb = (n: number): Buffer => Buffer.alloc(100, n);
    await images.put('a1', kb(1), 'PNG', 'A');
    await images.put('a2', kb(2), 'PNG', 'A');
    await images.put('a3', kb(3), 'PNG', 'A');
    // a1 used recently: a2 is now the least recently used of A.
    await images.get('a1');
    expect(await images.put('a4', kb(4), 'PNG', 'A')).toBe(1);
    expect(await images.get('a2')).toBeUndefined();
    expect(await images.usage('A')).toEqual({ owner: 300, total: 300 });
    // 400 > 350: A holds more than B (300 > 100), so A's least recently used goes, not B's.
    expect(await images.put('b1', kb(5), 'PNG', 'B')).toBe(1);
    expect(await images.get('a3')).toBeUndefined();
    expect(await images.get('b1')).toBeDefined();
    expect(await images.usage('A')).toEqual({ owner: 200, total: 300 });
    // 400 > 350 again, but A no longer holds more than B (200 each): B gives up its own.
    expect(await images.put('b2', kb(6), 'PNG', 'B')).toBe(1);
    expect(await images.get('b1')).toBeUndefined();
    expect(await images.get('a1')).toBeDefined();
    expect(await images.get('a4')).toBeDefined();
    expect(await images.usage('B')).toEqual({ owner: 100, total: 300 });
    expect(await images.delete('a4')).toBe(true);
    expect(await images.usage('A')).toEqual({ owner: 100, total: 200 });
    await expectEveryKeyExpires(redis, keyPrefix);
  });

  it('forgets expired images and their accounting', async () => {
    const keyPrefix = fresh();
    const images = new RedisImageStore({ redis, limits: { maxStoredImageBytes: 500, maxStoredImageBytesPerKey: 300 }, keyPrefix, retentionMs: 200 });
    await images.put('a1', Buffer.alloc(100), 'JPG', 'A');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await images.get('a1')).toBeUndefined();
    await images.sweep();
    expect(await images.usage('A')).toEqual({ owner: 0, total: 0 });
  });

  it('imagine: unpublished bounded per key (own oldest goes) and in total, publish refused past its bounds, published kept without TTL', async () => {
    const keyPrefix = fresh();
    const store = new RedisImagineStore({ redis, limits: { maxPublished: 3, maxPublishedPerKey: 2, maxUnpublished: 4, maxUnpublishedPerKey: 2 }, keyPrefix });
    const add = (owner: string): Promise<string> => store.add({ owner, name: 'x', bytes: Buffer.from([1, 2, 3]), width: 8, height: 8, createdAt: new Date(1_000) });
    const a1 = await add('A');
    const a2 = await add('A');
    const a3 = await add('A');
    expect(await store.get(a1, 'A')).toBeUndefined();
    expect(await store.get(a2, 'A')).toMatchObject({ owner: 'A', width: 8, published: false, createdAt: new Date(1_000) });
    expect(await store.get(a2, 'B')).toBeUndefined();
    expect(await store.publish(a2, 'B')).toEqual({ ok: false, reason: 'notFound' });
    expect(await store.publish(a2, 'A')).toEqual({ ok: true, expiresAt: Number.POSITIVE_INFINITY });
    expect(await store.publish(a2, 'A')).toEqual({ ok: true, expiresAt: Number.POSITIVE_INFINITY });
    expect(await store.publish(a3, 'A')).toMatchObject({ ok: true });
    const a4 = await add('A');
    expect(await store.publish(a4, 'A')).toEqual({ ok: false, reason: 'shareFull' });
    const b1 = await add('B');
    expect(await store.publish(b1, 'B')).toMatchObject({ ok: true });
    const b2 = await add('B');
    expect(await store.publish(b2, 'B')).toEqual({ ok: false, reason: 'full' });
    expect(await store.getPublished(a2)).toMatchObject({ id: a2, published: true });
    expect(await store.getPublished(a4)).toBeUndefined();
    expect(await store.delete(a2, 'B')).toBe(false);
    expect(await store.delete(a2, 'A')).toBe(true);
    expect(await store.publish(b2, 'B')).toMatchObject({ ok: true });
    expect(await store.publishedCount('B')).toEqual({ owner: 2, total: 3 });
    // Only published images (and their accounts, with an unlimited lifetime) may lack a TTL.
    const publishedKeys = new Set([a3, b1, b2].map((id) => store.keys.imagine(id)));
    await expectEveryKeyExpires(redis, keyPrefix, (key) => publishedKeys.has(key) || /(ip:(amt|tot|exp)|:pub)$/.test(key));
  });

  it('evicts in the order of arrival even when many arrive within one millisecond', async () => {
    const keyPrefix = fresh();
    const images = new RedisImageStore({ redis, limits: { maxStoredImageBytes: 1_000, maxStoredImageBytesPerKey: 300 }, keyPrefix });
    const drafts = new RedisImagineStore({ redis, limits: { maxPublished: 10, maxUnpublished: 100, maxUnpublishedPerKey: 3 }, keyPrefix });
    // Sent together, so Redis runs them back to back, mostly within the same millisecond.
    const uuids = Array.from({ length: 40 }, (_, index) => `burst-${index}`);
    await Promise.all(uuids.map((uuid) => images.put(uuid, Buffer.alloc(100), 'PNG', 'A')));
    const ids = await Promise.all(Array.from({ length: 40 }, () => drafts.add({ owner: 'A', name: 'x', bytes: Buffer.from([1]), width: 1, height: 1, createdAt: new Date() })));
    const kept = await Promise.all(uuids.map(async (uuid) => (await images.get(uuid)) !== undefined));
    expect(kept).toEqual(uuids.map((_, index) => index >= 37));
    const keptDrafts = await Promise.all(ids.map(async (id) => (await drafts.get(id, 'A')) !== undefined));
    expect(keptDrafts).toEqual(ids.map((_, index) => index >= 37));
  });

  it('imagine: a published lifetime gives published images a TTL', async () => {
    const keyPrefix = fresh();
    const store = new RedisImagineStore({ redis, limits: { maxPublished: 3, maxUnpublished: 4, publishedLifetimeMs: 60_000 }, keyPrefix });
    const id = await store.add({ owner: 'A', name: 'x', bytes: Buffer.from([1]), width: 1, height: 1, createdAt: new Date() });
    const published = await store.publish(id, 'A');
    expect(published.ok && published.expiresAt > Date.now()).toBe(true);
    await expectEveryKeyExpires(redis, keyPrefix);
  });
});
