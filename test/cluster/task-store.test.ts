// The Redis task store against a real redis-server: conflicts and the per-key in-flight bound across
// connections, results recorded once per index, ends and cancels, retention, and durability.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { SessionLog, type SessionLogLimits } from '../../src/server/cluster/session-log.js';
import { TaskStore, type TaskStoreLimits } from '../../src/server/cluster/task-store.js';
import type { ServerFrame } from '../../src/server/core/server-frame.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { expectEveryKeyExpires, startStoreFixture, type StoreFixture } from './store-fixture.js';

const sessionLimits: SessionLogLimits = { maxHeldSessions: 10_000, maxHeldSessionsPerKey: 2_500, maxHeldBytesPerSession: 64 << 20, maxHeldBytesPerKey: 128 << 20, maxHeldBytesTotal: 512 << 20 };
const taskLimits: TaskStoreLimits = { maxInFlightPerKey: 128, maxTaskRecords: 100_000, maxTaskRecordsPerKey: 25_000 };

function final(taskUUID: string, index: number): ServerFrame {
  return { kind: 'data', items: [{ taskType: 'imageInference', taskUUID, imageUUID: `img-${index}`, imageURL: `http://x/${index}.png` }] };
}

let prefixes = 0;

describe.runIf(redisAvailable())('TaskStore on Redis', () => {
  let fixture: StoreFixture;
  let a: Redis;
  let b: Redis;
  beforeAll(async () => {
    fixture = await startStoreFixture();
    a = fixture.connect();
    b = fixture.connect();
  });
  afterAll(async () => fixture.close());

  function stores(limits: TaskStoreLimits = taskLimits, retentionMs = 600_000): { one: TaskStore; two: TaskStore; log: SessionLog; prefix: string } {
    const keyPrefix = `task${++prefixes}:`;
    const log = new SessionLog({ redis: a, limits: sessionLimits, keyPrefix });
    const logB = new SessionLog({ redis: b, limits: sessionLimits, keyPrefix });
    return { one: new TaskStore({ redis: a, sessions: log, limits, retentionMs }), two: new TaskStore({ redis: b, sessions: logB, limits, retentionMs }), log, prefix: keyPrefix };
  }

  /** Running tasks (their records, and their index while it holds only running ones) are the keys allowed to have no TTL. */
  const running = (store: TaskStore) => async (key: string) => {
    if (key.endsWith(':tr')) {
      const members = await a.zrange(key, '0', '-1');
      const states = await Promise.all(members.map(async (m) => (await store.get(m.split(' ')[0] ?? '', m.split(' ')[1] ?? ''))?.state));
      return states.every((state) => state === 'running');
    }
    return key.includes(':t:{') && (await store.get(key.split('{')[1]?.split(':')[0] ?? '', key.split(':').at(-1)?.replace('}', '') ?? ''))?.state === 'running';
  };

  it('refuses a taskUUID the key already used, from any node, and the per-key bound across connections', async () => {
    const { one, two, prefix } = stores({ ...taskLimits, maxInFlightPerKey: 3 });
    expect(await one.admit('A', 'T1', 'imageInference', { async: true, target: '' })).toEqual({ kind: 'admitted' });
    expect(await two.admit('A', 't1', 'imageInference', { async: true, target: '' })).toEqual({ kind: 'conflict' });
    // Another key may use the same taskUUID.
    expect(await two.admit('B', 'T1', 'imageInference', { async: true, target: '' })).toEqual({ kind: 'admitted' });
    const racing = await Promise.all(['T2', 'T3', 'T4', 'T5'].map((t, i) => (i % 2 === 0 ? one : two).admit('A', t, 'imageInference', { async: true, target: '' })));
    expect(racing.filter((r) => r.kind === 'admitted')).toHaveLength(2);
    expect(racing.filter((r) => r.kind === 'tooManyInFlight')).toHaveLength(2);
    expect(await one.inFlight('A')).toBe(3);
    expect(await one.finish('A', 'T1', 'success')).toBe(true);
    expect(await two.admit('A', 'T9', 'imageInference', { async: true, target: '' })).toEqual({ kind: 'admitted' });
    // A finished record still conflicts for its retention.
    expect(await two.admit('A', 'T1', 'imageInference', { async: true, target: '' })).toEqual({ kind: 'conflict' });
    const keys = await a.keys(`${prefix}*`);
    const isRunning = running(one);
    for (const key of keys) {
      const ttl = await a.pttl(key);
      if (ttl <= 0) expect(await isRunning(key)).toBe(true);
    }
  });

  it('records each result index once: a re-run appends nothing to the session', async () => {
    const { one, two, log, prefix } = stores();
    const created = await log.create('A');
    if (created.kind !== 'created') throw new Error(created.kind);
    const s = created.session;
    await one.admit('A', 'T', 'imageInference', { async: false, target: s });
    const first = await one.emitFinal('A', 'T', 0, '{"i":0}', final('T', 0));
    expect(first).toEqual({ kind: 'appended', seq: 1 });
    // The worker died after emitting and the queue ran the task again on another worker.
    expect(await two.emitFinal('A', 'T', 0, '{"i":0,"rerun":true}', final('T', 0))).toEqual({ kind: 'duplicate' });
    expect(await two.emitFinal('A', 'T', 1, '{"i":1}', final('T', 1))).toEqual({ kind: 'appended', seq: 2 });
    // Concurrent emits of one index: exactly one appends.
    const raced = await Promise.all([one.emitFinal('A', 'T', 2, '{"i":2}', final('T', 2)), two.emitFinal('A', 'T', 2, '{"i":2}', final('T', 2))]);
    expect(raced.filter((r) => r.kind === 'appended')).toHaveLength(1);
    expect((await log.read(s, 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3]);
    const record = await one.get('A', 'T');
    expect(record?.results).toEqual([
      { index: 0, json: '{"i":0}' },
      { index: 1, json: '{"i":1}' },
      { index: 2, json: '{"i":2}' },
    ]);
    expect(await one.finish('A', 'T', 'success')).toBe(true);
    expect(await one.emitFinal('A', 'T', 3, '{}', final('T', 3))).toEqual({ kind: 'notRunning' });
    await expectEveryKeyExpires(a, prefix);
  });

  it('cancel: only a running task, its errors frame delivered with the end, no result after, workers told', async () => {
    const { one, log } = stores();
    const created = await log.create('A');
    if (created.kind !== 'created') throw new Error(created.kind);
    await one.admit('A', 'T', 'imageInference', { async: false, target: created.session });
    const sub = fixture.connections.create('subscriber');
    const heard: string[] = [];
    sub.on('message', (_c: string, m: string) => heard.push(m));
    await sub.subscribe(log.keys.cancelChannel());
    const errors = [{ code: 'taskCancelled', message: 'cancelled', taskType: 'imageInference', taskUUID: 'T' }];
    expect(await one.cancel('A', 'T', { errors: JSON.stringify(errors), frame: { kind: 'errors', errors } })).toBe(true);
    expect(await one.cancel('A', 'T')).toBe(false);
    expect(await one.emitFinal('A', 'T', 0, '{}', final('T', 0))).toEqual({ kind: 'notRunning' });
    const held = await log.read(created.session, 0, 10);
    expect(held.map((e) => e.frame)).toEqual([{ kind: 'errors', errors }]);
    expect(await one.get('A', 'T')).toMatchObject({ state: 'cancelled', target: '', errors: JSON.stringify(errors) });
    await expect.poll(() => heard).toEqual(['A t']);
    await sub.quit();
  });

  it('getResponse re-attach moves outputs to another session; async tasks have no target', async () => {
    const { one, log } = stores();
    const s1 = await log.create('A');
    const s2 = await log.create('A');
    if (s1.kind !== 'created' || s2.kind !== 'created') throw new Error('not created');
    await one.admit('A', 'T', 'imageInference', { async: false, target: s1.session });
    expect(await one.retarget('A', 'T', s2.session)).toBe(true);
    await one.progress('A', 'T', 40);
    await one.emitFinal('A', 'T', 0, '{}', final('T', 0));
    expect(await log.read(s1.session, 0, 10)).toEqual([]);
    expect((await log.read(s2.session, 0, 10)).map((e) => e.seq)).toEqual([1]);
    expect(await one.get('A', 'T')).toMatchObject({ progress: 40, target: s2.session, state: 'running' });
    await one.admit('A', 'U', 'imageInference', { async: true, target: s1.session });
    expect(await one.retarget('A', 'U', s2.session)).toBe(false);
    expect(await one.emitFinal('A', 'U', 0, '{}', final('U', 0))).toEqual({ kind: 'stored' });
    // Another key's record is not found.
    expect(await one.get('B', 'T')).toBeUndefined();
  });

  it('finished records per key: past the share the key\'s own oldest go; retention expires the rest', async () => {
    const { one, prefix } = stores({ ...taskLimits, maxTaskRecordsPerKey: 2 }, 400);
    for (const t of ['T1', 'T2', 'T3']) {
      await one.admit('A', t, 'imageInference', { async: true, target: '' });
      await one.finish('A', t, 'success');
    }
    expect(await one.get('A', 'T1')).toBeUndefined();
    expect(await one.get('A', 'T2')).toBeDefined();
    expect(await one.admit('A', 'T1', 'imageInference', { async: true, target: '' })).toEqual({ kind: 'admitted' });
    await one.finish('A', 'T1', 'error', { errors: '[]' });
    await expectEveryKeyExpires(a, prefix);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await one.get('A', 'T1')).toBeUndefined();
  });

  it('keeps a task record across a Redis SIGKILL and restart', async () => {
    const { one, log } = stores();
    await one.admit('A', 'T', 'imageInference', { async: true, target: '' });
    await one.emitFinal('A', 'T', 0, '{"kept":true}', final('T', 0));
    await fixture.server.kill('SIGKILL');
    await fixture.server.restart();
    const after = new TaskStore({ redis: fixture.connect(), sessions: new SessionLog({ redis: fixture.connect(), limits: sessionLimits, keyPrefix: log.keys.prefix }), limits: taskLimits });
    await expect.poll(async () => (await after.get('A', 'T').catch(() => undefined))?.results, { timeout: 5000 }).toEqual([{ index: 0, json: '{"kept":true}' }]);
    expect(await after.emitFinal('A', 'T', 0, '{}', final('T', 0))).toEqual({ kind: 'duplicate' });
  });
});
