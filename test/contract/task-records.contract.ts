// The task records' contract (what getResponse, conflictTaskUUID and the in-flight bound read), stated
// once and run against every implementation: admission and conflicts per key, results kept exactly
// (64-bit seeds too), getResponse's items in every state, ends and cancels once, retention, and the
// finished records bounded per key and in total by the eviction rule.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageFormat } from '../../src/engine/index.js';
import { parseJsonWithin, protocolError, stringifyJson, type ProtocolErrorItem, type ServerDataItem } from '../../src/protocol/index.js';
import type { StoredResult, TaskRecordState } from '../../src/server/core/task-registry.js';
import { whileBefore } from './redis-fixture.js';
import { SharesModel, seenTieBreak } from './shares-model.js';

/** What admission answers: as TaskRouter (in memory) or TaskStore.admit (Redis) decide it. */
export type Admission = 'admitted' | 'conflict' | 'tooManyInFlight';

/** The task records as a contract drives them, each call as the task core makes it. */
export interface TaskRecordsUnderTest {
  admit(owner: string, taskUUID: string, options: { readonly async: boolean; readonly taskType?: string }): Promise<Admission>;
  /** Records a final of a running task (ignored once it ended). */
  result(owner: string, taskUUID: string, index: number, result: StoredResult): Promise<void>;
  progress(owner: string, taskUUID: string, percent: number): Promise<void>;
  /** Ends a running task; false when it had ended already. */
  finish(owner: string, taskUUID: string, state: Exclude<TaskRecordState, 'running'>, errors?: readonly ProtocolErrorItem[]): Promise<boolean>;
  /** The record's state; undefined when not found (never admitted, another key's, evicted, past retention). */
  state(owner: string, taskUUID: string): Promise<TaskRecordState | undefined>;
  /** getResponse's items; undefined when the record is not found. */
  response(owner: string, taskUUID: string): Promise<ServerDataItem[] | undefined>;
  /** The image store getResponse reads inline results from. */
  putImage(uuid: string, bytes: Uint8Array, format: ImageFormat, owner: string): Promise<void>;
  deleteImage(uuid: string): Promise<void>;
  /** Lets `ms` pass for retention: a fake clock moves, or real time passes (keep it short). */
  elapse(ms: number): Promise<void>;
  /** The clock retention runs on. */
  now(): number;
  close(): Promise<void>;
}

/** The bounds a suite builds the records with. */
export interface TaskRecordBounds {
  readonly maxRecords: number;
  readonly maxRecordsPerKey: number;
  readonly maxInFlightPerKey: number;
  readonly retentionMs: number;
}

const roomy: TaskRecordBounds = { maxRecords: 10_000, maxRecordsPerKey: 1_000, maxInFlightPerKey: 100, retentionMs: 600_000 };

let counter = 0;
const nextTask = (): string => `aaaaaaaa-0000-4000-8000-${String(++counter).padStart(12, '0')}`;
const nextImage = (): string => `bbbbbbbb-0000-4000-8000-${String(++counter).padStart(12, '0')}`;

/** A URL result as the runner keeps it, with a seed the JSON number type cannot hold. */
function urlResult(taskUUID: string, index: number, seed: bigint): StoredResult {
  const imageUUID = nextImage();
  return { item: { taskType: 'imageInference', taskUUID, imageUUID, imageURL: `http://127.0.0.1:1/images/${imageUUID}.png`, seed, cost: 0 } };
}

/**
 * Items as a client reads them off the wire: a seed is the same number whether an implementation
 * holds it as a number or a bigint, and one past 2^53 must come back exact.
 */
function wire(items: readonly ServerDataItem[] | undefined): unknown {
  if (items === undefined) return undefined;
  const parsed = parseJsonWithin(stringifyJson(items));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

/** Asserts getResponse's items as the client would read them. */
function expectItems(actual: readonly ServerDataItem[] | undefined, expected: readonly ServerDataItem[]): void {
  expect(wire(actual)).toEqual(wire(expected));
}

/**
 * States the task records' promises for one implementation. `makeRecords` builds empty records
 * (and an image store) with `bounds`; `shortRetentionMs` is a retention a test waits out.
 */
export function describeTaskRecordsContract(name: string, makeRecords: (bounds: TaskRecordBounds) => Promise<TaskRecordsUnderTest>, options: { readonly shortRetentionMs: number }): void {
  describe(`task records contract: ${name}`, () => {
    const open: TaskRecordsUnderTest[] = [];
    const make = async (bounds: Partial<TaskRecordBounds> = {}): Promise<TaskRecordsUnderTest> => {
      const made = await makeRecords({ ...roomy, ...bounds });
      open.push(made);
      return made;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((made) => made.close()));
    });

    it('a taskUUID conflicts, in any case, while its record is running or kept; another key may use it', async () => {
      const records = await make();
      const task = nextTask();
      expect(await records.admit('owner-a', task, { async: false })).toBe('admitted');
      expect(await records.admit('owner-a', task.toUpperCase(), { async: false })).toBe('conflict');
      expect(await records.admit('owner-b', task, { async: true })).toBe('admitted');
      expect(await records.finish('owner-a', task, 'success')).toBe(true);
      expect(await records.admit('owner-a', task, { async: false })).toBe('conflict');
      expect(await records.state('owner-a', task.toUpperCase())).toBe('success');
    });

    it("another key's record is not found, and ending it from another key does nothing", async () => {
      const records = await make();
      const task = nextTask();
      await records.admit('owner-a', task, { async: false });
      expect(await records.state('owner-b', task)).toBeUndefined();
      expect(await records.response('owner-b', task)).toBeUndefined();
      expect(await records.finish('owner-b', task, 'cancelled')).toBe(false);
      expect(await records.state('owner-a', task)).toBe('running');
      expect(await records.response('owner-a', nextTask())).toBeUndefined();
    });

    it('the in-flight bound is per key: past it tooManyInFlight, and an end frees a place', async () => {
      const records = await make({ maxInFlightPerKey: 2 });
      const [t1, t2, t3] = [nextTask(), nextTask(), nextTask()];
      expect(await records.admit('owner-a', t1, { async: false })).toBe('admitted');
      expect(await records.admit('owner-a', t2, { async: true })).toBe('admitted');
      expect(await records.admit('owner-a', t3, { async: false })).toBe('tooManyInFlight');
      expect(await records.admit('owner-b', t3, { async: false })).toBe('admitted');
      await records.finish('owner-a', t1, 'error', [protocolError('internalServerError', 'boom', { taskType: 'imageInference', taskUUID: t1 })]);
      expect(await records.admit('owner-a', t3, { async: false })).toBe('admitted');
      // A refused admission leaves no record behind.
      expect(await records.state('owner-a', nextTask())).toBeUndefined();
    });

    it('getResponse while running: the results so far in order, exactly (64-bit seeds), then processing with the progress', async () => {
      const records = await make();
      const task = nextTask();
      await records.admit('owner-a', task, { async: true });
      expectItems(await records.response('owner-a', task), [{ taskType: 'imageInference', taskUUID: task, status: 'processing', progress: 0 }]);
      const seeds = [2n ** 63n - 1n, 2n ** 53n + 1n];
      const results = seeds.map((seed, index) => urlResult(task, index, seed));
      for (const [index, result] of results.entries()) await records.result('owner-a', task, index, result);
      await records.progress('owner-a', task, 50);
      const items = await records.response('owner-a', task);
      expectItems(items, [...results.map((r) => ({ ...r.item, status: 'success' })), { taskType: 'imageInference', taskUUID: task, status: 'processing', progress: 50 }]);
      expect(items?.map((item) => item.seed)).toEqual([...seeds, undefined]);
    });

    it('getResponse after the end: success lists the results only; error and cancelled end with the first error', async () => {
      const records = await make();
      const [ok, failed, cancelled, silent] = [nextTask(), nextTask(), nextTask(), nextTask()];
      for (const task of [ok, failed, cancelled, silent]) await records.admit('owner-a', task, { async: false });
      const result = urlResult(ok, 0, 42n);
      await records.result('owner-a', ok, 0, result);
      expect(await records.finish('owner-a', ok, 'success')).toBe(true);
      expectItems(await records.response('owner-a', ok), [{ ...result.item, status: 'success' }]);
      const partial = urlResult(failed, 0, 7n);
      await records.result('owner-a', failed, 0, partial);
      const errors = [protocolError('invalidSeedImage', 'seedImage: not an image', { parameter: 'seedImage', type: 'string', taskType: 'imageInference', taskUUID: failed }), protocolError('internalServerError', 'second', { taskUUID: failed })];
      expect(await records.finish('owner-a', failed, 'error', errors)).toBe(true);
      expectItems(await records.response('owner-a', failed), [
        { ...partial.item, status: 'success' },
        { taskType: 'imageInference', taskUUID: failed, status: 'error', error: { code: 'invalidSeedImage', message: 'seedImage: not an image', parameter: 'seedImage' } },
      ]);
      const reason = protocolError('taskCancelled', 'the task was cancelled', { taskType: 'imageInference', taskUUID: cancelled });
      expect(await records.finish('owner-a', cancelled, 'cancelled', [reason])).toBe(true);
      expectItems(await records.response('owner-a', cancelled), [{ taskType: 'imageInference', taskUUID: cancelled, status: 'error', error: { code: 'taskCancelled', message: 'the task was cancelled' } }]);
      // Ended without errors given: answered as cancelled.
      expect(await records.finish('owner-a', silent, 'cancelled')).toBe(true);
      expectItems(await records.response('owner-a', silent), [{ taskType: 'imageInference', taskUUID: silent, status: 'error', error: { code: 'taskCancelled', message: 'the task was cancelled' } }]);
    });

    it('a task ends once: a second end (or a cancel after it) answers false and changes nothing; no result is kept after the end', async () => {
      const records = await make();
      const task = nextTask();
      await records.admit('owner-a', task, { async: false });
      expect(await records.finish('owner-a', task, 'cancelled')).toBe(true);
      expect(await records.finish('owner-a', task, 'cancelled')).toBe(false);
      expect(await records.finish('owner-a', task, 'success')).toBe(false);
      await records.result('owner-a', task, 0, urlResult(task, 0, 1n));
      expect(await records.state('owner-a', task)).toBe('cancelled');
      expect(await records.response('owner-a', task)).toHaveLength(1);
    });

    it('getResponse names the task as it was admitted, whatever case it is asked in', async () => {
      const records = await make();
      const task = nextTask().toUpperCase();
      await records.admit('owner-a', task, { async: true });
      expect(await records.response('owner-a', task.toLowerCase())).toEqual([{ taskType: 'imageInference', taskUUID: task, status: 'processing', progress: 0 }]);
      const imageUUID = nextImage();
      await records.putImage(imageUUID, Uint8Array.from([1, 2, 3]), 'PNG', 'owner-a');
      await records.result('owner-a', task, 0, { item: { taskType: 'imageInference', taskUUID: task, imageUUID }, inline: { field: 'imageBase64Data', imageUUID, mediaType: 'image/png' } });
      await records.finish('owner-a', task, 'error', [protocolError('internalServerError', 'boom', { taskUUID: task })]);
      const items = await records.response('owner-a', task.toLowerCase());
      expect(items?.map((item) => item.taskUUID)).toEqual([task, task]);
    });

    it('inline results are read back from the image store, exactly; a result whose image is gone answers imageNotFound', async () => {
      const records = await make();
      const task = nextTask();
      await records.admit('owner-a', task, { async: false });
      const bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xed, 0xa0, 0x80]);
      const [kept, gone] = [nextImage(), nextImage()];
      await records.putImage(kept, bytes, 'PNG', 'owner-a');
      await records.putImage(gone, bytes, 'PNG', 'owner-a');
      await records.result('owner-a', task, 0, { item: { taskType: 'imageInference', taskUUID: task, imageUUID: kept, seed: 2n ** 63n - 1n }, inline: { field: 'imageDataURI', imageUUID: kept, mediaType: 'image/png' } });
      await records.result('owner-a', task, 1, { item: { taskType: 'imageInference', taskUUID: task, imageUUID: gone }, inline: { field: 'imageBase64Data', imageUUID: gone, mediaType: 'image/png' } });
      await records.finish('owner-a', task, 'success');
      await records.deleteImage(gone);
      expectItems(await records.response('owner-a', task), [
        { taskType: 'imageInference', taskUUID: task, imageUUID: kept, imageDataURI: `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`, seed: 2n ** 63n - 1n, status: 'success' },
        { taskType: 'imageInference', taskUUID: task, imageUUID: gone, status: 'error', error: { code: 'imageNotFound', message: 'the image is no longer kept by the server' } },
      ]);
    });

    it('a finished record is kept one retention time, then not found and its taskUUID free again; a running one never expires', async () => {
      const retentionMs = options.shortRetentionMs;
      const records = await make({ retentionMs });
      const [ended, running] = [nextTask(), nextTask()];
      await records.admit('owner-a', ended, { async: false });
      await records.admit('owner-a', running, { async: false });
      const now = (): number => records.now();
      const endedAt = now();
      await records.finish('owner-a', ended, 'success');
      const endDone = now();
      await records.elapse(retentionMs * 0.6);
      await whileBefore(now, endedAt + retentionMs, async () => expect(await records.state('owner-a', ended)).toBe('success'));
      await records.elapse(retentionMs * 0.6);
      expect(now()).toBeGreaterThan(endDone + retentionMs);
      expect(await records.state('owner-a', ended)).toBeUndefined();
      expect(await records.response('owner-a', ended)).toBeUndefined();
      expect(await records.state('owner-a', running)).toBe('running');
      expect(await records.admit('owner-a', ended, { async: false })).toBe('admitted');
    });

    it("finished records: a key past its share loses its own oldest, never another key's; running ones never go", async () => {
      const records = await make({ maxRecords: 100, maxRecordsPerKey: 2 });
      const [b1, a1, a2, a3, run] = [nextTask(), nextTask(), nextTask(), nextTask(), nextTask()];
      await records.admit('owner-a', run, { async: false });
      for (const [owner, task] of [['owner-b', b1], ['owner-a', a1], ['owner-a', a2], ['owner-a', a3]] as const) {
        await records.admit(owner, task, { async: false });
        await records.finish(owner, task, 'success');
      }
      expect(await records.state('owner-a', a1)).toBeUndefined();
      expect(await records.admit('owner-a', a1, { async: false })).toBe('admitted');
      expect(await records.state('owner-a', a2)).toBe('success');
      expect(await records.state('owner-a', a3)).toBe('success');
      expect(await records.state('owner-b', b1)).toBe('success');
      expect(await records.state('owner-a', run)).toBe('running');
    });

    it('matches the model of the eviction rule for finished records over random admissions and ends by three keys (small bounds)', async () => {
      type Op = { readonly op: 'admit'; readonly owner: string } | { readonly op: 'finish'; readonly pick: number };
      const owner = fc.constantFrom('owner-a', 'owner-b', 'owner-c');
      const op: fc.Arbitrary<Op> = fc.oneof({ weight: 2, arbitrary: fc.record({ op: fc.constant('admit' as const), owner }) }, { weight: 3, arbitrary: fc.record({ op: fc.constant('finish' as const), pick: fc.nat() }) });
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.array(op, { minLength: 1, maxLength: 30 }), async (perKey, total, ops) => {
          const records = await make({ maxRecords: total, maxRecordsPerKey: perKey });
          const finished = new SharesModel({ perOwner: perKey, total });
          const running: { owner: string; task: string }[] = [];
          for (const step of ops) {
            if (step.op === 'admit') {
              const task = nextTask();
              expect(await records.admit(step.owner, task, { async: true })).toBe('admitted');
              running.push({ owner: step.owner, task });
              continue;
            }
            const [picked] = running.splice(step.pick % Math.max(1, running.length), 1);
            if (picked === undefined) continue;
            const before = finished.ids();
            expect(await records.finish(picked.owner, picked.task, 'success')).toBe(true);
            const present = new Set<string>();
            for (const task of [...before, picked.task]) if ((await records.state(finished.ownerOf(task) ?? picked.owner, task)) !== undefined) present.add(task);
            finished.add(picked.owner, picked.task, 1, { keepNew: false, tieBreak: seenTieBreak(present) });
            expect([...present].sort()).toEqual(finished.ids().sort());
          }
          for (const { owner: who, task } of running) expect(await records.state(who, task)).toBe('running');
        }),
        { numRuns: 25 },
      );
    });
  });
}
