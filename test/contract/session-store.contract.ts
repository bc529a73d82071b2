// The session store's contract (SessionStore, as the WebSocket face uses it), stated once and run
// against every implementation: ownership, held frames written exactly and in order once a socket
// attaches, sequence numbers and acknowledgements under ack, the session count bounds per key and in
// total with their eviction rule, and the resume window.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJsonWithin, stringifyJson } from '../../src/protocol/index.js';
import { heldSize, type ServerFrame } from '../../src/server/core/server-frame.js';
import { closeCodes } from '../../src/server/ws/close-codes.js';
import type { ServerLimits } from '../../src/server/limits.js';
import type { SessionFlags, SessionSocket } from '../../src/server/ws/session-record.js';
import type { Session, SessionStore } from '../../src/server/ws/session-store.js';
import { eventually } from '../helpers/eventually.js';
import { whileBefore } from './redis-fixture.js';

/** The bounds of the session store. */
export type SessionBounds = Pick<ServerLimits, 'maxHeldSessions' | 'maxHeldSessionsPerKey' | 'maxHeldBytesPerSession' | 'maxHeldBytesPerKey' | 'maxHeldBytesTotal'>;

/** An implementation as a contract drives it. */
export interface SessionStoreUnderTest {
  readonly store: SessionStore;
  /** Lets `ms` pass for resume windows: a fake clock moves, or real time passes (keep it short). */
  elapse(ms: number): Promise<void>;
  /** The clock resume windows run on. */
  now(): number;
  /** Lets work the store started in the background land (nothing to wait for in memory). */
  settle(): Promise<void>;
  /** Resolves once a socket attached to (or detached from) `session` counts as such in the store's bounds. */
  attached(session: Session, yes: boolean): Promise<void>;
  close(): Promise<void>;
}

const roomy: SessionBounds = { maxHeldSessions: 1_000, maxHeldSessionsPerKey: 100, maxHeldBytesPerSession: 1 << 24, maxHeldBytesPerKey: 1 << 25, maxHeldBytesTotal: 1 << 26 };

/** A socket that records what the store writes to it. */
export class RecordingSocket implements SessionSocket {
  writable = true;
  readonly written: { readonly frame: ServerFrame; readonly seq: number | undefined }[] = [];
  evicted: { readonly code: number; readonly reason: string } | undefined = undefined;

  writeTaskFrame(frame: ServerFrame, seq: number | undefined): boolean {
    if (!this.writable || this.evicted !== undefined) return false;
    this.written.push({ frame, seq });
    return true;
  }

  writePreview(): void {
    // Previews are best effort and not part of this contract.
  }

  evict(code: number, reason: string): void {
    this.evicted ??= { code, reason };
  }
}

/** A frame as a client reads it: items through JSON with exact big integers, image bytes as hex. */
function wire(frame: ServerFrame): unknown {
  const json = (value: unknown): unknown => {
    const parsed = parseJsonWithin(stringifyJson(value));
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.value;
  };
  switch (frame.kind) {
    case 'data':
      return { kind: 'data', items: json(frame.items) };
    case 'errors':
      return { kind: 'errors', errors: json(frame.errors) };
    case 'image':
      return { kind: 'image', item: json(frame.item), field: frame.field, mediaType: frame.mediaType, image: Buffer.from(frame.image).toString('hex') };
  }
}

let tasks = 0;
/** A task-output frame of its own task, with a seed a double cannot hold. */
const final = (): ServerFrame => ({ kind: 'data', items: [{ taskType: 'imageInference', taskUUID: randomUUID(), imageUUID: randomUUID(), imageURL: `http://127.0.0.1:1/i/${++tasks}.png`, seed: 2n ** 63n - 1n - BigInt(tasks) }] });
const imageFinal = (): ServerFrame => ({ kind: 'image', item: { taskType: 'imageInference', taskUUID: randomUUID(), imageUUID: randomUUID(), seed: 2n ** 53n + 1n }, field: 'imageBase64Data', mediaType: 'image/png', image: Uint8Array.from([0x89, 0x50, 0x00, 0xff, 0xed, 0xa0, 0x80, 0x0d, 0x0a]) });
const ack: SessionFlags = { ack: true, binary: false };

/** A final of a known held size (every one the same), for the byte bounds. */
const sizedFinal = (): ServerFrame => ({ kind: 'image', item: { taskType: 'imageInference', taskUUID: randomUUID(), imageUUID: randomUUID() }, field: 'imageBase64Data', mediaType: 'image/png', image: new Uint8Array(1_000).fill(9) });
const frameBytes = heldSize(sizedFinal());

/** Waits until `socket` holds `count` frames, then lets the store settle and checks that no more came. */
async function expectWritten(made: SessionStoreUnderTest, socket: RecordingSocket, count: number): Promise<void> {
  await eventually(() => socket.written.length, (n) => n >= count, 3_000);
  await made.settle();
  expect(socket.written).toHaveLength(count);
}

/**
 * States the session store's promises for one implementation. `makeStore` builds an empty store
 * with `bounds` and `resumeWindowMs` (short where the implementation waits in real time).
 */
export function describeSessionStoreContract(name: string, makeStore: (bounds: SessionBounds, resumeWindowMs: number) => Promise<SessionStoreUnderTest>, options: { readonly shortWindowMs: number }): void {
  describe(`SessionStore contract: ${name}`, () => {
    const open: SessionStoreUnderTest[] = [];
    const make = async (bounds: Partial<SessionBounds> = {}, resumeWindowMs = 600_000): Promise<SessionStoreUnderTest> => {
      const made = await makeStore({ ...roomy, ...bounds }, resumeWindowMs);
      open.push(made);
      return made;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((made) => made.close()));
    });

    const create = async (store: SessionStore, owner: string): Promise<Session> => {
      const session = await store.create(owner);
      if (session === undefined) throw new Error(`no session for ${owner}: ${store.refusal(owner)}`);
      return session;
    };

    it("finds a session by its UUID in any case for its owner only; another key's is not found", async () => {
      const { store } = await make();
      const session = await create(store, 'owner-a');
      expect(session.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect((await store.find(session.uuid, 'owner-a'))?.uuid).toBe(session.uuid);
      expect((await store.find(session.uuid.toUpperCase(), 'owner-a'))?.uuid).toBe(session.uuid);
      expect(await store.find(session.uuid, 'owner-b')).toBeUndefined();
      expect(await store.find(randomUUID(), 'owner-a')).toBeUndefined();
    });

    it('holds frames delivered without a socket and writes them once a socket attaches: exactly, in order, once', async () => {
      const made = await make();
      const { store } = made;
      const session = await create(store, 'owner-a');
      const frames = [final(), imageFinal(), { kind: 'errors', errors: [{ code: 'internalServerError', message: 'boom ☃ \u0000', taskUUID: randomUUID() }] } satisfies ServerFrame, final()];
      for (const frame of frames) session.deliver(frame);
      await made.settle();
      const socket = new RecordingSocket();
      store.attach(session, socket, undefined, undefined);
      await expectWritten(made, socket, frames.length);
      expect(socket.written.map((w) => wire(w.frame))).toEqual(frames.map(wire));
      expect(socket.written.map((w) => w.seq)).toEqual(frames.map(() => undefined));
      // Without ack a written frame is gone: a socket that resumes gets only what came since.
      store.detach(session, socket);
      await made.settle();
      const later = final();
      session.deliver(later);
      await made.settle();
      const again = new RecordingSocket();
      const found = await store.find(session.uuid, 'owner-a');
      if (found === undefined) throw new Error('the session was lost');
      store.attach(found, again, undefined, undefined);
      await expectWritten(made, again, 1);
      expect(wire(again.written[0]?.frame ?? final())).toEqual(wire(later));
    });

    it('writes frames delivered to an attached session at once, in order', async () => {
      const made = await make();
      const { store } = made;
      const session = await create(store, 'owner-a');
      const socket = new RecordingSocket();
      store.attach(session, socket, undefined, undefined);
      await made.settle();
      const frames = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? imageFinal() : final()));
      for (const frame of frames) session.deliver(frame);
      await expectWritten(made, socket, frames.length);
      expect(socket.written.map((w) => wire(w.frame))).toEqual(frames.map(wire));
    });

    it('under ack: frames numbered from 1 in order; a resume with ack k gets the frames after k again, with their numbers', async () => {
      const made = await make();
      const { store } = made;
      const session = await create(store, 'owner-a');
      const first = new RecordingSocket();
      store.attach(session, first, ack, undefined);
      await made.settle();
      const frames = [final(), imageFinal(), final()];
      for (const frame of frames) session.deliver(frame);
      await expectWritten(made, first, 3);
      expect(first.written.map((w) => w.seq)).toEqual([1, 2, 3]);
      store.detach(session, first);
      await made.settle();
      const fourth = final();
      session.deliver(fourth);
      await made.settle();
      const second = new RecordingSocket();
      // Told what the socket will ask, a shared store attaches during the lookup itself.
      const found = await store.find(session.uuid, 'owner-a', { asked: ack, ack: 2 });
      if (found === undefined) throw new Error('the session was lost');
      store.attach(found, second, ack, 2);
      await expectWritten(made, second, 2);
      expect(second.written.map((w) => w.seq)).toEqual([3, 4]);
      expect(second.written.map((w) => wire(w.frame))).toEqual([frames[2], fourth].map((f) => wire(f ?? fourth)));
      // Acknowledged frames are forgotten: the next resume (with no ack) gets nothing again.
      store.acknowledge(found, 4);
      await made.settle();
      store.detach(found, second);
      await made.settle();
      const third = new RecordingSocket();
      const last = await store.find(session.uuid, 'owner-a');
      if (last === undefined) throw new Error('the session was lost');
      store.attach(last, third, ack, undefined);
      await made.settle();
      expect(third.written).toEqual([]);
    });

    it('enableExtensions flags belong to the session: a resume that asks for none carries them', async () => {
      const made = await make();
      const { store } = made;
      const session = await create(store, 'owner-a');
      const socket = new RecordingSocket();
      store.attach(session, socket, undefined, undefined);
      await made.settle();
      store.enable(session, ack, undefined);
      await made.settle();
      expect(session.flags).toEqual(ack);
      store.detach(session, socket);
      await made.settle();
      expect((await store.find(session.uuid, 'owner-a'))?.carriedFlags).toEqual(ack);
      // Flags an older client's authentication asked for last for that socket only.
      const other = await create(store, 'owner-a');
      const asked = new RecordingSocket();
      store.attach(other, asked, ack, undefined);
      await made.settle();
      store.detach(other, asked);
      await made.settle();
      expect((await store.find(other.uuid, 'owner-a'))?.carriedFlags).toEqual({ ack: false, binary: false });
    });

    it("sessions per key: past its share a key's oldest session without a socket goes, never another key's; with all attached, refused", async () => {
      const made = await make({ maxHeldSessionsPerKey: 2 });
      const { store } = made;
      const b1 = await create(store, 'owner-b');
      const a1 = await create(store, 'owner-a');
      const a2 = await create(store, 'owner-a');
      const a3 = await create(store, 'owner-a');
      expect(await store.find(a1.uuid, 'owner-a')).toBeUndefined();
      for (const [session, owner] of [[a2, 'owner-a'], [a3, 'owner-a'], [b1, 'owner-b']] as const) expect(await store.find(session.uuid, owner)).toBeDefined();
      store.attach(a2, new RecordingSocket(), undefined, undefined);
      store.attach(a3, new RecordingSocket(), undefined, undefined);
      await made.settle();
      expect(await store.create('owner-a')).toBeUndefined();
      expect(store.refusal('owner-a')).toContain('limits.maxHeldSessionsPerKey');
      for (const session of [a2, a3]) expect(await store.find(session.uuid, 'owner-a')).toBeDefined();
      expect(await store.create('owner-b')).toBeDefined();
    });

    it('sessions in total: the key holding the most loses its oldest session without a socket if it holds more than the adder', async () => {
      const made = await make({ maxHeldSessions: 3, maxHeldSessionsPerKey: 3 });
      const { store } = made;
      const a1 = await create(store, 'owner-a');
      const a2 = await create(store, 'owner-a');
      const b1 = await create(store, 'owner-b');
      const b2 = await create(store, 'owner-b');
      expect(await store.find(a1.uuid, 'owner-a')).toBeUndefined();
      // A and B hold 1 and 2 now: C (holding none) takes from B.
      const c1 = await create(store, 'owner-c');
      expect(await store.find(b1.uuid, 'owner-b')).toBeUndefined();
      for (const [session, owner] of [[a2, 'owner-a'], [b2, 'owner-b'], [c1, 'owner-c']] as const) expect(await store.find(session.uuid, owner)).toBeDefined();
    });

    it('held bytes per session: past maxHeldBytesPerSession a session is dropped (not found, its socket closed with 1008); written frames awaiting an ack go first', async () => {
      const made = await make({ maxHeldBytesPerSession: Math.floor(frameBytes * 2.5) });
      const { store } = made;
      const idle = await create(store, 'owner-a');
      idle.deliver(sizedFinal());
      idle.deliver(sizedFinal());
      await made.settle();
      expect(await store.find(idle.uuid, 'owner-a')).toBeDefined();
      idle.deliver(sizedFinal());
      await made.settle();
      expect(await store.find(idle.uuid, 'owner-a')).toBeUndefined();
      // A socket that takes nothing (a stalled client): dropped with the session, closed with 1008.
      const stalled = await create(store, 'owner-a');
      const frozen = new RecordingSocket();
      frozen.writable = false;
      store.attach(stalled, frozen, undefined, undefined);
      await made.settle();
      for (let i = 0; i < 3; i++) stalled.deliver(sizedFinal());
      await eventually(() => frozen.evicted, (evicted) => evicted !== undefined, 3_000);
      expect(frozen.evicted?.code).toBe(closeCodes.policyViolation);
      expect(await store.find(stalled.uuid, 'owner-a')).toBeUndefined();
      // Under ack, written frames wait for their acknowledgement: past the bound they go first, then the session.
      const acked = await create(store, 'owner-a');
      const socket = new RecordingSocket();
      store.attach(acked, socket, ack, undefined);
      await made.settle();
      // One at a time: a frame counts as written once the socket has it (a cluster node writes a moment after the append).
      for (let i = 1; i <= 3; i++) {
        acked.deliver(sizedFinal());
        await expectWritten(made, socket, i);
      }
      expect(socket.evicted).toBeUndefined();
      expect(await store.find(acked.uuid, 'owner-a')).toBeDefined();
    });

    it("held bytes per key: past its share a key's oldest session without a socket holding results goes, never another key's", async () => {
      const made = await make({ maxHeldBytesPerKey: Math.floor(frameBytes * 2.5) });
      const { store } = made;
      const [b1, a1, a2] = [await create(store, 'owner-b'), await create(store, 'owner-a'), await create(store, 'owner-a')];
      b1.deliver(sizedFinal());
      b1.deliver(sizedFinal());
      a1.deliver(sizedFinal());
      a1.deliver(sizedFinal());
      await made.settle();
      a2.deliver(sizedFinal());
      await made.settle();
      expect(await store.find(a1.uuid, 'owner-a')).toBeUndefined();
      expect(await store.find(a2.uuid, 'owner-a')).toBeDefined();
      expect(await store.find(b1.uuid, 'owner-b')).toBeDefined();
    });

    it('held bytes in total: the key holding the most gives way if it holds more than the adder; a session with a socket is never dropped for another key', async () => {
      const made = await make({ maxHeldBytesTotal: Math.floor(frameBytes * 3.5) });
      const { store } = made;
      const [a1, b1] = [await create(store, 'owner-a'), await create(store, 'owner-b')];
      for (let i = 0; i < 3; i++) a1.deliver(sizedFinal());
      await made.settle();
      b1.deliver(sizedFinal());
      await made.settle();
      expect(await store.find(a1.uuid, 'owner-a')).toBeUndefined();
      expect(await store.find(b1.uuid, 'owner-b')).toBeDefined();
      // C's session holds written frames awaiting an ack: B past the total cannot drop it.
      const c1 = await create(store, 'owner-c');
      const socket = new RecordingSocket();
      store.attach(c1, socket, ack, undefined);
      await made.settle();
      for (let i = 1; i <= 3; i++) {
        c1.deliver(sizedFinal());
        await expectWritten(made, socket, i);
      }
      const b2 = await create(store, 'owner-b');
      b2.deliver(sizedFinal());
      await made.settle();
      expect(socket.evicted).toBeUndefined();
      expect(await store.find(c1.uuid, 'owner-c')).toBeDefined();
    });

    it('matches the model of the session count bounds over random creates, attaches and detaches by three keys (small bounds)', async () => {
      type Op = { readonly op: 'create'; readonly owner: string } | { readonly op: 'attach' | 'detach'; readonly pick: number };
      const owner = fc.constantFrom('owner-a', 'owner-b', 'owner-c');
      const op: fc.Arbitrary<Op> = fc.oneof(
        { weight: 4, arbitrary: fc.record({ op: fc.constant('create' as const), owner }) },
        { weight: 2, arbitrary: fc.record({ op: fc.constant('attach' as const), pick: fc.nat() }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('detach' as const), pick: fc.nat() }) },
      );
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 5 }), fc.array(op, { minLength: 1, maxLength: 14 }), async (perKey, total, ops) => {
          const made = await make({ maxHeldSessionsPerKey: perKey, maxHeldSessions: total });
          const { store } = made;
          const model = new SessionCountModel(perKey, total);
          const sessions = new Map<string, { session: Session; socket: RecordingSocket | undefined }>();
          for (const step of ops) {
            if (step.op === 'create') {
              const before = model.ids();
              const session = await store.create(step.owner);
              const present = new Set<string>();
              for (const id of before) if ((await store.find(id, model.ownerOf(id) ?? '')) !== undefined) present.add(id);
              const expected = model.create(step.owner, session?.uuid, present);
              expect(session === undefined ? 'refused' : 'created').toBe(expected);
              if (session !== undefined) sessions.set(session.uuid, { session, socket: undefined });
              expect([...present, ...(session === undefined ? [] : [session.uuid])].sort()).toEqual(model.ids().sort());
              continue;
            }
            const candidates = model.ids().filter((id) => model.isAttached(id) === (step.op === 'detach'));
            const id = candidates[step.pick % Math.max(1, candidates.length)];
            const held = id === undefined ? undefined : sessions.get(id);
            if (id === undefined || held === undefined) continue;
            if (step.op === 'attach') {
              const socket = new RecordingSocket();
              store.attach(held.session, socket, undefined, undefined);
              held.socket = socket;
              await made.attached(held.session, true);
              model.attach(id);
            } else if (held.socket !== undefined) {
              store.detach(held.session, held.socket);
              held.socket = undefined;
              await made.attached(held.session, false);
              model.detach(id);
            }
          }
        }),
        { numRuns: 20 },
      );
    });

    it('the resume window: a session without a socket is kept for it, then not found; one with a socket stays', async () => {
      const windowMs = options.shortWindowMs;
      const made = await make({}, windowMs);
      const { store } = made;
      const now = (): number => made.now();
      const createdAt = now();
      const idle = await create(store, 'owner-a');
      const createDone = now();
      const held = await create(store, 'owner-a');
      const socket = new RecordingSocket();
      store.attach(held, socket, undefined, undefined);
      await made.elapse(windowMs * 0.5);
      await whileBefore(now, createdAt + windowMs, async () => expect(await store.find(idle.uuid, 'owner-a')).toBeDefined());
      await made.elapse(windowMs * 0.8);
      expect(now()).toBeGreaterThan(createDone + windowMs);
      expect(await store.find(idle.uuid, 'owner-a')).toBeUndefined();
      await made.elapse(windowMs * 0.8);
      expect(await store.find(held.uuid, 'owner-a')).toBeDefined();
      const frame = final();
      held.deliver(frame);
      await expectWritten(made, socket, 1);
      expect(socket.evicted).toBeUndefined();
    });
  });
}

/**
 * The session count bounds as a plain model: sessions with a socket count but never go; the others
 * go oldest first (by creation, or by when their socket left). Room is made before a session is
 * added; when nothing may go, the create is refused.
 */
class SessionCountModel {
  readonly #perKey: number;
  readonly #total: number;
  /** Sessions in eviction order among those without a socket. */
  readonly #entries: { readonly id: string; readonly owner: string; attached: boolean }[] = [];

  constructor(perKey: number, total: number) {
    this.#perKey = perKey;
    this.#total = total;
  }

  ids(): string[] {
    return this.#entries.map((e) => e.id);
  }

  ownerOf(id: string): string | undefined {
    return this.#entries.find((e) => e.id === id)?.owner;
  }

  isAttached(id: string): boolean {
    return this.#entries.find((e) => e.id === id)?.attached === true;
  }

  attach(id: string): void {
    const entry = this.#entries.find((e) => e.id === id);
    if (entry !== undefined) entry.attached = true;
  }

  /** Its socket left: it may go now, as the newest of its key. */
  detach(id: string): void {
    const at = this.#entries.findIndex((e) => e.id === id);
    const [entry] = at < 0 ? [] : this.#entries.splice(at, 1);
    if (entry === undefined) return;
    entry.attached = false;
    this.#entries.push(entry);
  }

  /** What a create does: 'created' (after making room), or 'refused'. `present`: what the store kept, for ties. */
  create(owner: string, id: string | undefined, present: ReadonlySet<string>): 'created' | 'refused' {
    for (;;) {
      const from = this.#pressed(owner, present);
      if (from === undefined) break;
      const victim = this.#oldest(from) ?? (from === owner ? undefined : this.#oldest(owner));
      if (victim === undefined) return 'refused';
      this.#entries.splice(this.#entries.findIndex((e) => e.id === victim), 1);
    }
    this.#entries.push({ id: id ?? `refused-${this.#entries.length}`, owner, attached: false });
    return 'created';
  }

  #count(owner: string): number {
    return this.#entries.filter((e) => e.owner === owner).length;
  }

  #oldest(owner: string): string | undefined {
    return this.#entries.find((e) => e.owner === owner && !e.attached)?.id;
  }

  /** The key that gives way before `owner` adds one; undefined when it fits. */
  #pressed(owner: string, present: ReadonlySet<string>): string | undefined {
    const holds = this.#count(owner);
    if (holds + 1 > this.#perKey) return owner;
    if (this.#entries.length + 1 <= this.#total) return undefined;
    const owners = [...new Set(this.#entries.map((e) => e.owner))];
    const top = Math.max(...owners.map((o) => this.#count(o)));
    if (top <= holds) return owner;
    const largest = owners.filter((o) => this.#count(o) === top);
    // The rule does not say which of several largest holders gives way: the one the store chose.
    // One whose oldest went; when none went, the store chose one with nothing evictable (else it
    // would have taken that one's oldest), and the rule then leaves it to the adder's own entries.
    return (
      largest.find((o) => {
        const oldest = this.#oldest(o);
        return oldest !== undefined && !present.has(oldest);
      }) ??
      largest.find((o) => this.#oldest(o) === undefined) ??
      largest[0]
    );
  }
}
