// Error answers are bounded whatever a frame holds: values are described by a short preview, one
// task yields at most errorBounds.maxItems items, every text field is capped, and so an encoded
// error frame never exceeds MAX_ERROR_FRAME_BYTES. Checked on hostile cases and on arbitrary frames.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boundErrorItems,
  cutText,
  decodeClientFrame,
  describeValue,
  encodeErrorFrame,
  errorBounds,
  MAX_ERROR_FRAME_BYTES,
  MAX_ERROR_ITEM_BYTES,
  protocolError,
  taskTypes,
  validateTask,
  type FrameLimits,
  type ProtocolErrorItem,
} from '../../src/protocol/index.js';
import { TASK_UUID } from './fixtures.js';

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** `levels` arrays nested in each other, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

describe('describeValue', () => {
  it('shows a short preview of a long string, with its length', () => {
    const shown = describeValue('x'.repeat(1_000_000));
    expect(shown).toBe(`"${'x'.repeat(39)}…" (string of 1000000 characters)`);
  });

  it('never cuts a surrogate pair in half', () => {
    const emoji = '😀'.repeat(100);
    for (let offset = 0; offset < 3; offset++) {
      const shown = describeValue(`${'a'.repeat(offset)}${emoji}`);
      // A lone surrogate would survive JSON.stringify only as an escape: the preview has none.
      expect(JSON.stringify(shown)).not.toMatch(/\\ud[89a-f]/i);
    }
    expect(cutText('😀😀', 2)).toBe('…');
    expect(cutText('😀😀', 3)).toBe('😀…');
    expect(cutText('ab😀', 3)).toBe('ab…');
    expect(cutText('😀😀', 4)).toBe('😀😀');
  });

  it('describes arrays and objects by kind and size without walking them', () => {
    expect(describeValue(nested(100_000))).toBe('an array of 1');
    const wide: Record<string, number> = {};
    for (let i = 0; i < 300_000; i++) wide[`k${i}`] = i;
    expect(describeValue(wide)).toBe('an object with more than 1000 keys');
    expect(describeValue({ toString: 1, valueOf: 2 })).toBe('an object with 2 keys');
    expect(describeValue(JSON.parse('{"__proto__":1}'))).toBe('an object with 1 key');
  });

  it('shows numbers, booleans, null, and bigints bounded', () => {
    expect([describeValue(-1.5), describeValue(Number.NaN), describeValue(false), describeValue(null), describeValue(undefined)]).toEqual(['-1.5', 'NaN', 'false', 'null', 'nothing']);
    expect(describeValue(9_223_372_036_854_775_808n)).toBe('9223372036854775808');
    expect(describeValue(10n ** 100_000n)).toBe('an integer of about 100001 digits');
  });
});

describe('the items of one task', () => {
  it('are capped, the last one counting the problems left out, however many unknown keys a task has', () => {
    const task: Record<string, unknown> = { taskType: 'ping' };
    for (let i = 0; i < 300_000; i++) task[`k${i}`] = 1;
    const result = validateTask(task);
    if (result.ok) throw new Error('expected errors');
    expect(result.errors).toHaveLength(errorBounds.maxItems);
    expect(result.errors.slice(0, -1).every((item) => item.code === 'unknownParameter')).toBe(true);
    expect(result.errors.at(-1)).toEqual({
      code: 'tooManyErrors',
      message: `${300_000 - (errorBounds.maxItems - 1)} more problems were found and left out of this answer`,
      type: 'task',
      taskType: 'ping',
    });
    expect(bytes(encodeErrorFrame(result.errors))).toBeLessThan(8 * 1024);
  });

  it('quote a megabyte-long member name, taskUUID or taskType cut short', () => {
    const key = 'k'.repeat(1_000_000);
    const [item] = validateTask({ taskType: 'cancel', taskUUID: TASK_UUID, [key]: 1 }).ok ? [] : (validateTask({ taskType: 'cancel', taskUUID: TASK_UUID, [key]: 1 }) as { errors: ProtocolErrorItem[] }).errors;
    expect(item?.code).toBe('unknownParameter');
    expect(item?.parameter?.length).toBeLessThanOrEqual(64);
    expect(item?.message.length).toBeLessThan(200);
    const long = 'u'.repeat(1_000_000);
    const refused = validateTask({ taskType: long, taskUUID: long });
    if (refused.ok) throw new Error('expected errors');
    expect(refused.errors[0]).toMatchObject({ code: 'unknownTaskType' });
    expect(bytes(JSON.stringify(refused.errors))).toBeLessThan(1024);
  });

  it('describe a 100,000-level value without walking it (ping, outputType, every task type)', () => {
    const deep = nested(100_000);
    for (const [task, code] of [
      [{ taskType: 'ping', ping: deep }, 'invalidPing'],
      [{ taskType: 'imageInference', taskUUID: TASK_UUID, positivePrompt: 'a fox', model: 'runware:101@1', width: 512, height: 512, outputType: deep, ttl: 60 }, 'invalidOutputType'],
      [{ taskType: 'authentication', apiKey: deep }, 'invalidApiKey'],
      [{ taskType: deep }, 'unknownTaskType'],
    ] as const) {
      const result = validateTask(task);
      expect(result.ok ? [] : result.errors.map((error) => error.code)).toContain(code);
    }
  });
});

describe('boundErrorItems', () => {
  const item = (n: number, taskUUID?: string): ProtocolErrorItem => protocolError('invalidWidth', `problem ${n}`, { parameter: 'width', type: 'integer', taskType: 'imageInference', taskUUID });

  it('returns the same list when it is within bounds', () => {
    const items = [item(1), item(2)];
    expect(boundErrorItems(items)).toBe(items);
  });

  it('keeps maxItems - 1 items and one summary of the rest, naming the task when all of them share it', () => {
    const items = Array.from({ length: 100 }, (_, n) => item(n, TASK_UUID));
    const bounded = boundErrorItems(items);
    expect(bounded).toHaveLength(errorBounds.maxItems);
    expect(bounded.at(-1)).toEqual({ code: 'tooManyErrors', message: '69 more problems were found and left out of this answer', type: 'task', taskType: 'imageInference', taskUUID: TASK_UUID });
    const mixed = boundErrorItems([...items, item(0, 'other')]);
    expect(mixed.at(-1)).not.toHaveProperty('taskUUID');
  });

  it('cuts every text field to its cap', () => {
    const huge = '\u0000'.repeat(100_000);
    const [bounded] = boundErrorItems([{ code: huge, message: huge, parameter: huge, type: huge, taskType: huge, taskUUID: huge }]);
    expect(bounded).toBeDefined();
    expect(bytes(JSON.stringify(bounded))).toBeLessThanOrEqual(MAX_ERROR_ITEM_BYTES);
    expect(bytes(encodeErrorFrame(Array.from({ length: 1_000 }, () => ({ code: huge, message: huge, parameter: huge, type: huge, taskType: huge, taskUUID: huge })), Number.MAX_SAFE_INTEGER))).toBeLessThanOrEqual(MAX_ERROR_FRAME_BYTES);
  });
});

// ---- Property: arbitrary frames give bounded error frames, and nothing throws -------------------

/** Every field of every task type, nested ones included: each gets arbitrary values below. */
const fieldsOf: Readonly<Record<string, readonly string[]>> = {
  authentication: ['apiKey', 'connectionSessionUUID', 'extensions', 'ack'],
  ping: ['ping', 'ack'],
  enableExtensions: ['extensions', 'ack'],
  cancel: ['taskUUID'],
  getResponse: ['taskUUID'],
  imageUpload: ['image'],
  imageInference: [
    'positivePrompt', 'negativePrompt', 'model', 'width', 'height', 'outputType', 'outputFormat', 'outputQuality', 'uploadEndpoint', 'checkNSFW',
    'includeCost', 'seedImage', 'maskImage', 'maskMargin', 'strength', 'outpaint', 'outpainting', 'vae', 'steps', 'scheduler', 'seed', 'CFGScale',
    'clipSkip', 'promptWeighting', 'usePromptWeighting', 'numberResults', 'refiner', 'embeddings', 'controlNet', 'lora', 'ipAdapters',
    'deliveryMethod', 'webhookURL', 'ttl', 'previews',
  ],
};

/** Members of the nested objects (outpaint, refiner, list entries, previews). */
const nestedFields = ['top', 'right', 'bottom', 'left', 'blur', 'model', 'startStep', 'startStepPercentage', 'endStep', 'endStepPercentage', 'weight', 'guideImage', 'controlMode', 'maxSide', 'format', 'count'];

/** JSON text of a hostile or ordinary value. Deep ones are written as text: nothing here recurses. */
const valueText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
  {
    weight: 4,
    arbitrary: fc
      // 20,000 levels already overflow a recursive walk (JSON.stringify overflows near 6,000).
      .tuple(fc.constantFrom(20, 20_000, 100_000), fc.boolean())
      .map(([levels, array]) => (array ? `${'['.repeat(levels)}${']'.repeat(levels)}` : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`)),
  },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('x', '\u0000', '😀', '\ud800', '"', '\\'), fc.integer({ min: 100, max: 20_000 })).map(([unit, count]) => JSON.stringify(unit.repeat(count))) },
  { weight: 3, arbitrary: fc.constantFrom('9223372036854775807', '9223372036854775808', '-9007199254740993', '1e400', '-0', 'true', 'null', '{}', '[]') },
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...nestedFields)).map((keys) => `{${keys.map((key) => `"${key}":${JSON.stringify(key)}`).join(',')}}`) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.array(fc.constantFrom(...nestedFields), { maxLength: 4 }), { maxLength: 25 })
      .map((entries) => `[${entries.map((keys) => `{${keys.map((key) => `"${key}":[[["${key}"]]]`).join(',')}}`).join(',')}]`),
  },
);

/** A member name beside the task's own fields: a prototype name, a megabyte-long one, or anything. */
const strayKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'),
  fc.constantFrom('k'.repeat(50_000), '\u0000'.repeat(10_000)),
  fc.string({ maxLength: 30 }),
);

/** A task of a known or unknown type: any of its own fields with arbitrary values, and stray members. */
const taskText: fc.Arbitrary<string> = fc.constantFrom(...taskTypes, 'test', '').chain((taskType) =>
  fc
    .tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(JSON.stringify(taskType)) },
        { weight: 1, arbitrary: fc.constantFrom('42', 'null', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, JSON.stringify('t'.repeat(20_000))) },
      ),
      fc.oneof({ weight: 4, arbitrary: fc.constant(`"${TASK_UUID}"`) }, { weight: 1, arbitrary: fc.constantFrom('"not-a-uuid"', JSON.stringify('u'.repeat(20_000)), '7', '{}') }),
      fc.subarray([...(fieldsOf[taskType] ?? [])]).chain((fields) => fc.tuple(...fields.map((field) => valueText.map((value) => [JSON.stringify(field), value] as const)))),
      fc.array(fc.tuple(strayKey.map((key) => JSON.stringify(key)), valueText), { maxLength: 4 }),
    )
    .map(([type, uuid, own, stray]) => `{"taskType":${type},"taskUUID":${uuid}${[...own, ...stray].map(([key, value]) => `,${key}:${value}`).join('')}}`),
);

/** One task of every type with `value` at every one of its fields. */
function everyField(value: string): string {
  return `[${Object.entries(fieldsOf)
    .map(([taskType, fields]) => `{"taskType":"${taskType}"${fields.map((field) => `,"${field}":${value}`).join('')}}`)
    .join(',')}]`;
}

const frameText: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.array(taskText, { minLength: 1, maxLength: 4 }).map((tasks) => `[${tasks.join(',')}]`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      everyField(`${'['.repeat(20_000)}${']'.repeat(20_000)}`),
      everyField(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`),
      everyField(JSON.stringify('\u0000'.repeat(20_000))),
      everyField('9223372036854775808'),
      everyField('{"__proto__":{"constructor":1},"toString":[]}'),
    ),
  },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
);

describe('every error frame of an arbitrary frame (property)', () => {
  it(`is at most MAX_ERROR_FRAME_BYTES (${MAX_ERROR_FRAME_BYTES}), per task and for a whole frame's items, and nothing throws`, () => {
    // Default limits refuse deep frames at decoding; lifted limits make validation meet every value.
    const lifted: FrameLimits = { maxFrameDepth: 1_000_000, maxFrameValues: 10_000_000 };
    fc.assert(
      fc.property(frameText, (text) => {
        for (const limits of [{}, lifted]) {
          const decoded = decodeClientFrame(text, limits);
          const perTask = decoded.ok ? decoded.entries.map((entry, index) => validateTask(entry, index)).flatMap((result) => (result.ok ? [] : [result.errors])) : [[decoded.error]];
          for (const errors of perTask) {
            expect(errors.length).toBeLessThanOrEqual(errorBounds.maxItems);
            expect(bytes(encodeErrorFrame(errors, Number.MAX_SAFE_INTEGER))).toBeLessThanOrEqual(MAX_ERROR_FRAME_BYTES);
          }
          expect(bytes(encodeErrorFrame(perTask.flat(), Number.MAX_SAFE_INTEGER))).toBeLessThanOrEqual(MAX_ERROR_FRAME_BYTES);
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
