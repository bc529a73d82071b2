// The Redis session log against a real redis-server: sequence numbers, take-over between nodes,
// acknowledgements, the held-bytes and session bounds of the in-memory store, TTLs, durability.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { SessionLog, parseNodeMessage, type SessionLogLimits } from '../../src/server/cluster/session-log.js';
import type { ServerFrame } from '../../src/server/core/server-frame.js';
import { heldSize } from '../../src/server/core/server-frame.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { expectEveryKeyExpires, startStoreFixture, type StoreFixture } from './store-fixture.js';

const roomy: SessionLogLimits = { maxHeldSessions: 10_000, maxHeldSessionsPerKey: 2_500, maxHeldBytesPerSession: 64 << 20, maxHeldBytesPerKey: 128 << 20, maxHeldBytesTotal: 512 << 20 };

function text(taskUUID: string, n: number): ServerFrame {
  return { kind: 'data', items: [{ taskType: 'imageInference', taskUUID, imageUUID: `img-${n}`, imageURL: `http://x/${n}.png` }] };
}

function image(taskUUID: string, bytes: number): ServerFrame {
  return { kind: 'image', item: { taskType: 'imageInference', taskUUID, imageUUID: 'u' }, field: 'imageBase64Data', mediaType: 'image/png', image: Buffer.alloc(bytes, 7) };
}

let prefixCount = 0;
function freshPrefix(): string {
  return `t${++prefixCount}:`;
}

describe.runIf(redisAvailable())('SessionLog on Redis', () => {
  let fixture: StoreFixture;
  let a: Redis;
  let b: Redis;
  beforeAll(async () => {
    fixture = await startStoreFixture();
    a = fixture.connect();
    b = fixture.connect();
  });
  afterAll(async () => fixture.close());

  function logs(limits: SessionLogLimits = roomy, resumeWindowMs = 120_000): [SessionLog, SessionLog, string] {
    const keyPrefix = freshPrefix();
    return [new SessionLog({ redis: a, limits, resumeWindowMs, keyPrefix }), new SessionLog({ redis: b, limits, resumeWindowMs, keyPrefix }), keyPrefix];
  }

  it('numbers frames densely and in order under concurrent appends from several connections', async () => {
    const [one, two, prefix] = logs();
    const created = await one.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    const s = created.session;
    const appends = [];
    for (let i = 0; i < 100; i++) appends.push((i % 2 === 0 ? one : two).append(s, 'owner', text('t', i)));
    const results = await Promise.all(appends);
    const seqs = results.map((r) => (r.kind === 'appended' ? r.seq : -1)).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const read = [...(await one.read(s, 0, 60)), ...(await two.read(s, 60, 60))];
    expect(read.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Each entry is the frame its append got the number for.
    for (const entry of read) {
      const result = results.findIndex((r) => r.kind === 'appended' && r.seq === entry.seq);
      expect(entry.frame).toEqual(text('t', result));
    }
    expect((await one.info(s))?.heldBytes).toBe(results.reduce((sum, _r, i) => sum + heldSize(text('t', i)), 0));
    await expectEveryKeyExpires(a, prefix);
  });

  it('keeps a 64-bit seed exact through append and read (text and image frames)', async () => {
    const [one] = logs();
    const created = await one.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    const s = created.session;
    const seed = 9223372036854775806n;
    const item = { taskType: 'imageInference', taskUUID: 't', imageUUID: 'u', seed };
    const frames: ServerFrame[] = [
      { kind: 'data', items: [item] },
      { kind: 'image', item, field: 'imageBase64Data', mediaType: 'image/png', image: Buffer.alloc(8, 1) },
    ];
    for (const frame of frames) await one.append(s, 'owner', frame);
    const read = await one.read(s, 0, 10);
    const seeds = read.map((entry) => (entry.frame.kind === 'image' ? entry.frame.item.seed : entry.frame.kind === 'data' ? entry.frame.items[0]?.seed : undefined));
    // Read back through a double, the seed would be 9223372036854775808.
    expect(seeds).toEqual([seed, seed]);
  });

  it('hands a session to another node: previous node, new generation, the old detach a no-op', async () => {
    const [one, two, prefix] = logs();
    const created = await one.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    const s = created.session;
    const sub = fixture.connections.create('subscriber');
    const heard: string[] = [];
    sub.on('message', (_channel: string, message: string) => heard.push(message));
    await sub.subscribe(one.keys.nodeChannel('A'));
    const first = await one.attach(s, 'owner', 'A');
    expect(first).toMatchObject({ found: true, ownerMatches: true, previousNode: '', gen: 1 });
    await one.append(s, 'owner', text('t', 1));
    const second = await two.attach(s, 'owner', 'B');
    expect(second).toMatchObject({ found: true, ownerMatches: true, previousNode: 'A', gen: 2, lastSeq: 1 });
    expect(await one.detach(s, 'A', 1)).toBe(false);
    expect(await one.refresh(s, 'A', 1)).toBe(false);
    expect((await one.info(s))?.node).toBe('B');
    expect(await two.detach(s, 'B', 2)).toBe(true);
    expect((await one.info(s))?.node).toBe('');
    // Another key's session is "not found" to it.
    expect(await two.attach(s, 'intruder', 'B')).toEqual({ found: true, ownerMatches: false });
    await expect.poll(() => heard.map((m) => parseNodeMessage(m))).toEqual([{ kind: 'wake', session: s }, { kind: 'evict', session: s, gen: 2 }]);
    await sub.quit();
    await expectEveryKeyExpires(a, prefix);
  });

  it('under ack: trims what the client acknowledged (clamped to what was written) and frees its bytes', async () => {
    const [log, , prefix] = logs();
    const created = await log.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    const s = created.session;
    const attached = await log.attach(s, 'owner', 'A', { asked: { ack: true, binary: false } });
    if (!attached.found || !attached.ownerMatches) throw new Error('not attached');
    for (let i = 1; i <= 5; i++) await log.append(s, 'owner', image('t', 1000));
    const each = heldSize(image('t', 1000));
    expect((await log.info(s))?.heldBytes).toBe(5 * each);
    // Nothing was written yet: an ack of 3 is clamped to 0.
    expect(await log.acknowledge(s, 3)).toBe(0);
    expect(await log.delivered(s, 'A', attached.gen, 4)).toBe(true);
    expect(await log.acknowledge(s, 3)).toBe(3 * each);
    expect((await log.read(s, 0, 10)).map((e) => e.seq)).toEqual([4, 5]);
    expect((await log.info(s))?.heldBytes).toBe(2 * each);
    expect(await log.ownerUsage('owner')).toEqual({ sessions: 1, heldBytes: 2 * each });
    // A resume with ack 4 on another node trims through 4 and replays from 5.
    const resumed = await log.attach(s, 'owner', 'B', { ack: 4 });
    expect(resumed).toMatchObject({ flags: { ack: false, binary: false } });
    // Flags asked by the authentication last for that socket only: without ack, nothing trimmed.
    expect((await log.read(s, 0, 10)).map((e) => e.seq)).toEqual([4, 5]);
    const again = await log.attach(s, 'owner', 'C', { ack: 4, asked: { ack: true, binary: true } });
    // B wrote nothing (and B's attach replays everything): as in memory, the ack is clamped to what was written.
    expect(again).toMatchObject({ acknowledged: 3, lastSeq: 5, flags: { ack: true, binary: true } });
    if (!again.found || !again.ownerMatches) throw new Error('not attached');
    await log.delivered(s, 'C', again.gen, 5);
    expect(await log.acknowledge(s, 4)).toBe(each);
    expect((await log.read(s, 0, 10)).map((e) => e.seq)).toEqual([5]);
    await expectEveryKeyExpires(a, prefix);
  });

  it('without ack: take hands each frame out once, even to two takers at the same time', async () => {
    const [one, two, prefix] = logs();
    const created = await one.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    const s = created.session;
    const attached = await one.attach(s, 'owner', 'A');
    if (!attached.found || !attached.ownerMatches) throw new Error('not attached');
    for (let i = 0; i < 20; i++) await one.append(s, 'owner', text('t', i));
    const takes = await Promise.all([one.take(s, 'A', attached.gen, 3), two.take(s, 'A', attached.gen, 3), one.take(s, 'A', attached.gen, 50), two.take(s, 'A', attached.gen, 50)]);
    const seqs = takes.flat().map((e) => e.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await one.info(s))?.heldBytes).toBe(0);
    // A node that lost the session takes nothing.
    await one.append(s, 'owner', text('t', 99));
    await two.attach(s, 'owner', 'B');
    expect(await one.take(s, 'A', attached.gen, 10)).toEqual([]);
    await expectEveryKeyExpires(a, prefix);
  });

  it('without ack: frames taken and never written go back in front, in order, with their bytes; not behind a later take', async () => {
    const [log, other, prefix] = logs();
    const created = await log.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    const s = created.session;
    const attached = await log.attach(s, 'owner', 'A');
    if (!attached.found || !attached.ownerMatches) throw new Error('not attached');
    for (let i = 1; i <= 3; i++) await log.append(s, 'owner', i === 2 ? image('t', 1000) : text('t', i));
    const taken = await log.take(s, 'A', attached.gen, 10);
    expect(taken.map((e) => e.seq)).toEqual([1, 2, 3]);
    // Frame 1 was written, then the socket went; 4 and 5 were appended before 2 and 3 came back.
    await log.append(s, 'owner', text('t', 4));
    await log.append(s, 'owner', text('t', 5));
    const held = (await log.info(s))?.heldBytes ?? 0;
    expect(await log.giveBack(s, 'owner', taken.slice(1))).toBe(true);
    expect((await log.info(s))?.heldBytes).toBe(held + heldSize(image('t', 1000)) + heldSize(text('t', 3)));
    const resumed = await other.attach(s, 'owner', 'B');
    if (!resumed.found || !resumed.ownerMatches) throw new Error('not attached');
    const again = await other.take(s, 'B', resumed.gen, 10);
    expect(again.map((e) => e.seq)).toEqual([2, 3, 4, 5]);
    expect(again[0]?.frame).toEqual(image('t', 1000));
    expect((await log.info(s))?.heldBytes).toBe(0);
    expect(await log.ownerUsage('owner')).toEqual({ sessions: 1, heldBytes: 0 });
    // Taken after them: frames given back now would follow newer ones, so they are not.
    await log.append(s, 'owner', text('t', 6));
    await log.append(s, 'owner', text('t', 7));
    const [six] = await other.take(s, 'B', resumed.gen, 1);
    await other.take(s, 'B', resumed.gen, 1);
    expect(await other.giveBack(s, 'owner', six === undefined ? [] : [six])).toBe(false);
    await log.append(s, 'owner', text('t', 8));
    expect((await other.take(s, 'B', resumed.gen, 10)).map((e) => e.seq)).toEqual([8]);
    await expectEveryKeyExpires(a, prefix);
  });

  it('under ack: the client numbers frames from 1 once ack is on, and frames held from before go out unnumbered and are forgotten once written', async () => {
    const [log, , prefix] = logs();
    const created = await log.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    const s = created.session;
    const first = await log.attach(s, 'owner', 'A');
    if (!first.found || !first.ownerMatches) throw new Error('not attached');
    // Two frames without ack: one taken (written), one still held when ack goes on.
    await log.append(s, 'owner', text('t', 1));
    await log.take(s, 'A', first.gen, 1);
    await log.append(s, 'owner', text('t', 2));
    expect(await log.enable(s, 'A', first.gen, { ack: true, binary: false })).toBe(true);
    await log.append(s, 'owner', text('t', 3));
    await log.append(s, 'owner', text('t', 4));
    const read = await log.read(s, 0, 10);
    expect(read.map((e) => [e.seq, e.clientSeq])).toEqual([
      [2, undefined],
      [3, 1],
      [4, 2],
    ]);
    // Written through position 3: the unnumbered frame goes; client ack 1 is position 3.
    await log.delivered(s, 'A', first.gen, 3);
    expect((await log.read(s, 0, 10)).map((e) => e.seq)).toEqual([3, 4]);
    expect(await log.acknowledge(s, 1)).toBeGreaterThan(0);
    expect((await log.read(s, 0, 10)).map((e) => e.clientSeq)).toEqual([2]);
    // A resume on another node reads the same numbers, prefetched with the attachment.
    const second = await log.attach(s, 'owner', 'B', { prefetch: 10 });
    expect(second).toMatchObject({ flags: { ack: true }, acknowledged: 3 });
    expect(second.found && second.ownerMatches ? (await second.entries)?.map((e) => e.clientSeq) : []).toEqual([2]);
    await expectEveryKeyExpires(a, prefix);
  });

  it('enableExtensions sets the flags for later sockets; turning ack off forgets written frames', async () => {
    const [log] = logs();
    const created = await log.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    const s = created.session;
    const first = await log.attach(s, 'owner', 'A');
    if (!first.found || !first.ownerMatches) throw new Error('not attached');
    expect(await log.enable(s, 'A', first.gen, { ack: true, binary: true })).toBe(true);
    await log.append(s, 'owner', text('t', 1));
    await log.append(s, 'owner', text('t', 2));
    await log.delivered(s, 'A', first.gen, 1);
    const second = await log.attach(s, 'owner', 'B');
    expect(second).toMatchObject({ flags: { ack: true, binary: true } });
    if (!second.found || !second.ownerMatches) throw new Error('not attached');
    await log.delivered(s, 'B', second.gen, 1);
    expect(await log.enable(s, 'B', second.gen, { ack: false, binary: false })).toBe(true);
    expect((await log.read(s, 0, 10)).map((e) => e.seq)).toEqual([2]);
    expect(await log.enable(s, 'A', first.gen, { ack: true, binary: true })).toBe(false);
  });

  it('per session: past maxHeldBytesPerSession written frames go first, then the session is dropped and its node told', async () => {
    const each = heldSize(image('t', 1000));
    const [log] = logs({ ...roomy, maxHeldBytesPerSession: 3 * each });
    const created = await log.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    const s = created.session;
    const attached = await log.attach(s, 'owner', 'A', { asked: { ack: true, binary: false } });
    if (!attached.found || !attached.ownerMatches) throw new Error('not attached');
    for (let i = 0; i < 3; i++) expect((await log.append(s, 'owner', image('t', 1000))).kind).toBe('appended');
    await log.delivered(s, 'A', attached.gen, 2);
    // The fourth passes the bound: the two written frames go, the session stays.
    expect(await log.append(s, 'owner', image('t', 1000))).toEqual({ kind: 'appended', seq: 4 });
    expect((await log.read(s, 0, 10)).map((e) => e.seq)).toEqual([3, 4]);
    await log.append(s, 'owner', image('t', 1000));
    // Nothing written is left to drop: the session goes.
    expect(await log.append(s, 'owner', image('t', 1000))).toEqual({ kind: 'dropped' });
    expect(await log.info(s)).toBeUndefined();
    expect(await log.ownerUsage('owner')).toEqual({ sessions: 0, heldBytes: 0 });
  });

  it('per key and in total: held bytes past a bound drop the oldest detached session of the key holding the most, never another key below it', async () => {
    const each = heldSize(image('t', 1000));
    const [log] = logs({ ...roomy, maxHeldBytesPerKey: 3 * each, maxHeldBytesTotal: 5 * each });
    const mk = async (owner: string): Promise<string> => {
      const created = await log.create(owner);
      if (created.kind !== 'created') throw new Error(created.kind);
      return created.session;
    };
    const a1 = await mk('A');
    const a2 = await mk('A');
    await log.append(a1, 'A', image('t', 1000));
    await log.append(a1, 'A', image('t', 1000));
    await log.append(a2, 'A', image('t', 1000));
    // A at its share: its own oldest detached session holding bytes goes.
    await log.append(a2, 'A', image('t', 1000));
    expect(await log.info(a1)).toBeUndefined();
    expect(await log.ownerUsage('A')).toEqual({ sessions: 1, heldBytes: 2 * each });
    const b1 = await mk('B');
    for (let i = 0; i < 3; i++) await log.append(b1, 'B', image('t', 1000));
    expect(await log.ownerUsage('B')).toEqual({ sessions: 1, heldBytes: 3 * each });
    // C's first frame passes the total (6 > 5): B holds the most (3 > C's 1) and gives way.
    const c1 = await mk('C');
    await log.append(c1, 'C', image('t', 1000));
    expect(await log.info(b1)).toBeUndefined();
    expect(await log.info(a2)).toBeDefined();
    await log.append(c1, 'C', image('t', 1000));
    await log.append(c1, 'C', image('t', 1000));
    // C past its own share: its own session goes (it is the only one), A's stays whole.
    expect(await log.append(c1, 'C', image('t', 1000))).toEqual({ kind: 'dropped' });
    expect(await log.ownerUsage('A')).toEqual({ sessions: 1, heldBytes: 2 * each });
    expect(await log.ownerUsage('C')).toEqual({ sessions: 0, heldBytes: 0 });
  });

  it('held bytes: an attached session is never dropped for another key; its written frames are trimmed instead', async () => {
    const each = heldSize(image('t', 1000));
    const [log] = logs({ ...roomy, maxHeldBytesPerKey: 10 * each, maxHeldBytesTotal: 4 * each });
    const a1 = await log.create('A');
    if (a1.kind !== 'created') throw new Error(a1.kind);
    const attached = await log.attach(a1.session, 'A', 'n', { asked: { ack: true, binary: false } });
    if (!attached.found || !attached.ownerMatches) throw new Error('not attached');
    for (let i = 0; i < 3; i++) await log.append(a1.session, 'A', image('t', 1000));
    await log.delivered(a1.session, 'n', attached.gen, 2);
    const b1 = await log.create('B');
    if (b1.kind !== 'created') throw new Error(b1.kind);
    await log.append(b1.session, 'B', image('t', 1000));
    await log.append(b1.session, 'B', image('t', 1000));
    // Total passed: A holds the most, has no detached session, so its two written frames go.
    expect((await log.read(a1.session, 0, 10)).map((e) => e.seq)).toEqual([3]);
    expect(await log.info(b1.session)).toBeDefined();
  });

  it('sessions per key: the oldest detached one makes room; with all attached, full', async () => {
    const [log] = logs({ ...roomy, maxHeldSessionsPerKey: 2, maxHeldSessions: 3 });
    const s1 = await log.create('A');
    const s2 = await log.create('A');
    if (s1.kind !== 'created' || s2.kind !== 'created') throw new Error('not created');
    const s3 = await log.create('A');
    expect(s3).toMatchObject({ kind: 'created', dropped: 1 });
    expect(await log.info(s1.session)).toBeUndefined();
    if (s3.kind !== 'created') throw new Error('not created');
    await log.attach(s2.session, 'A', 'n');
    await log.attach(s3.session, 'A', 'n');
    expect(await log.create('A')).toEqual({ kind: 'full', bound: 'perOwner' });
    // B may take the last place; then the total is reached and A (holding more, all attached) cannot give way: B's own go.
    const b1 = await log.create('B');
    expect(b1).toMatchObject({ kind: 'created', dropped: 0 });
    const b2 = await log.create('B');
    expect(b2).toMatchObject({ kind: 'created', dropped: 1 });
    expect(await log.ownerUsage('A')).toMatchObject({ sessions: 2 });
  });

  it('expires every key one resume window after the last use, and forgets the accounting', async () => {
    const [log, , prefix] = logs(roomy, 300);
    const created = await log.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    await log.append(created.session, 'owner', image('t', 100));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await log.info(created.session)).toBeUndefined();
    await log.sweep();
    const left = await a.keys(`${prefix}*`);
    expect(left).toEqual([]);
  });

  it('keeps an appended frame across a Redis SIGKILL and restart', async () => {
    const [log] = logs();
    const created = await log.create('owner');
    if (created.kind !== 'created') throw new Error(created.kind);
    await log.append(created.session, 'owner', image('t', 5000));
    await fixture.server.kill('SIGKILL');
    await fixture.server.restart();
    const reader = fixture.connect();
    const after = new SessionLog({ redis: reader, limits: roomy, keyPrefix: log.keys.prefix });
    await expect.poll(async () => (await after.read(created.session, 0, 10).catch(() => [])).length, { timeout: 5000 }).toBe(1);
    const [entry] = await after.read(created.session, 0, 10);
    expect(entry?.frame).toEqual(image('t', 5000));
    expect((await after.append(created.session, 'owner', text('t', 2))).kind).toBe('appended');
  });
});
