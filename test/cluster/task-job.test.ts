// The queue's job data: an exact round trip of every task a node enqueues (bigint seeds included,
// and a bigint seed stays a bigint even when small), refusals of foreign data, and the job id.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeImageInference, type ImageInferenceTask } from '../../src/protocol/index.js';
import { decodeTaskJob, encodeTaskJob, jobIdOf, TaskJobError, type TaskJobFields } from '../../src/server/cluster/task-job.js';

const seedArb = fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

const inferenceArb = fc.record({
  taskUUID: fc.uuid(),
  positivePrompt: fc.string({ minLength: 2, maxLength: 60 }),
  width: fc.integer({ min: 1, max: 32 }).map((n) => n * 64),
  height: fc.integer({ min: 1, max: 32 }).map((n) => n * 64),
  steps: fc.integer({ min: 1, max: 100 }),
  numberResults: fc.integer({ min: 1, max: 20 }),
  seed: seedArb,
  seedImage: fc.option(fc.webUrl(), { nil: undefined }),
  webhookURL: fc.option(fc.webUrl(), { nil: undefined }),
});

function inferenceOf(fields: { taskUUID: string; positivePrompt: string; width: number; height: number; steps: number; numberResults: number; seed: number | bigint | undefined; seedImage: string | undefined; webhookURL: string | undefined }): TaskJobFields['task'] {
  const raw: ImageInferenceTask = { taskType: 'imageInference', taskUUID: fields.taskUUID, positivePrompt: fields.positivePrompt, model: 'imagewire:procedural@1', width: fields.width, height: fields.height, steps: fields.steps, numberResults: fields.numberResults };
  if (fields.seed !== undefined) raw.seed = fields.seed;
  if (fields.seedImage !== undefined) raw.seedImage = fields.seedImage;
  if (fields.webhookURL !== undefined) raw.webhookURL = fields.webhookURL;
  return normalizeImageInference(raw);
}

describe('TaskJob', () => {
  it('round-trips every imageInference task exactly, a bigint seed as a bigint and a number seed as a number', () => {
    fc.assert(
      fc.property(inferenceArb, fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 64 }), fc.boolean(), fc.boolean(), (fields, owner, previews, storeFinals) => {
        const input: TaskJobFields = { owner, task: inferenceOf(fields), previews, storeFinals, publicUrl: 'http://127.0.0.1:8080' };
        const job = encodeTaskJob(input);
        // BullMQ stores the data as JSON: the round trip goes through that too.
        const stored: unknown = JSON.parse(JSON.stringify(job));
        const back = decodeTaskJob(stored);
        expect(back).toEqual(input);
        expect(back.task.taskType === 'imageInference' ? typeof back.task.seed : 'n/a').toBe(typeof fields.seed);
        expect(job.taskUUID).toBe(fields.taskUUID);
      }),
    );
  });

  it('keeps a seed above 2^53 - 1 digit for digit', () => {
    const seed = 18_446_744_073_709_551_615n;
    const job = encodeTaskJob({ owner: 'o'.repeat(32), task: inferenceOf({ taskUUID: 'a0000000-0000-4000-8000-000000000000', positivePrompt: 'xx', width: 64, height: 64, steps: 4, numberResults: 1, seed, seedImage: undefined, webhookURL: undefined }), previews: false, storeFinals: true, publicUrl: '' });
    expect(job.task).toContain('"seed":"18446744073709551615"');
    const back = decodeTaskJob(JSON.parse(JSON.stringify(job)));
    expect(back.task.taskType === 'imageInference' && back.task.seed).toBe(seed);
  });

  it('round-trips imageUpload tasks', () => {
    const input: TaskJobFields = { owner: 'k'.repeat(40), task: { taskType: 'imageUpload', taskUUID: 'b0000000-0000-4000-8000-000000000000', image: 'data:image/png;base64,AAAA' }, previews: true, storeFinals: true, publicUrl: 'http://n' };
    expect(decodeTaskJob(JSON.parse(JSON.stringify(encodeTaskJob(input))))).toEqual(input);
  });

  it('refuses data it did not write with a TaskJobError', () => {
    const good = encodeTaskJob({ owner: 'o'.repeat(20), task: { taskType: 'imageUpload', taskUUID: 'c0000000-0000-4000-8000-000000000000', image: 'x' }, previews: false, storeFinals: true, publicUrl: '' });
    const bad: unknown[] = [null, 'x', [], { ...good, owner: '' }, { ...good, taskType: 'ping' }, { ...good, task: '{' }, { ...good, taskUUID: 'other' }, { ...good, previews: 'yes' }, { ...good, task: JSON.stringify({ taskType: 'imageUpload', taskUUID: good.taskUUID, seed: '12x' }) }];
    for (const data of bad) expect(() => decodeTaskJob(data)).toThrow(TaskJobError);
  });

  it('names a job by taskUUID and the first 16 characters of the owner', () => {
    expect(jobIdOf('0123456789abcdef0123', 'd0000000-0000-4000-8000-000000000000')).toBe('d0000000-0000-4000-8000-000000000000.0123456789abcdef');
  });
});
