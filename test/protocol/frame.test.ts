// Client and server frames: decoding never throws, frame-level problems become single error items,
// one bad entry does not stop the others, limits count UTF-8 bytes, and encode/decode round trip.
import { describe, it, expect } from 'vitest';
import {
  decodeAndValidate,
  decodeClientFrame,
  decodeServerFrame,
  defaultFrameLimits,
  encodeClientFrame,
  encodeDataFrame,
  encodeErrorFrame,
  parseJson,
  type ProtocolErrorItem,
  type ServerDataItem,
} from '../../src/protocol/index.js';
import { baseRequest, OTHER_TASK_UUID, TASK_UUID } from './fixtures.js';

const utf8 = new TextEncoder();

function frameError(data: Parameters<typeof decodeClientFrame>[0], limits?: Parameters<typeof decodeClientFrame>[1]): ProtocolErrorItem {
  const decoded = decodeClientFrame(data, limits);
  if (decoded.ok) return expect.fail(`expected a frame error, decoded ${decoded.entries.length} entries`);
  // Frame-level errors belong to no task.
  expect(decoded.error).not.toHaveProperty('taskType');
  expect(decoded.error).not.toHaveProperty('taskUUID');
  return decoded.error;
}

describe('decodeClientFrame', () => {
  it('decodes a JSON array of tasks', () => {
    const frame = JSON.stringify([{ taskType: 'authentication', apiKey: 'k' }, baseRequest()]);
    const decoded = decodeClientFrame(frame);
    expect(decoded).toEqual({ ok: true, entries: [{ taskType: 'authentication', apiKey: 'k' }, baseRequest()] });
  });

  it.each(['[{', '', ' ', 'undefined', "[{'taskType':'ping'}]", '[1,]', '{"a":1}}', 'NaN'])('answers malformed JSON %j with invalidJSON', (text) => {
    const error = frameError(text);
    expect(error.code).toBe('invalidJSON');
    expect(error.type).toBe('frame');
    expect(error.message).toContain('the frame is not valid JSON');
  });

  it('never quotes the frame in an invalidJSON message, so an API key cannot leak', () => {
    for (const text of [
      '[{"taskType":"authentication","apiKey":"sk-TOPSECRET"},]',
      '[{"taskType":"authentication","apiKey":"sk-TOPSECRET"}',
      '[{"taskType":"authentication","apiKey":"sk-TOPSECRET" x}]',
      '[{"apiKey":"TOPSECRET"',
      'TOPSECRET',
    ]) {
      const error = frameError(text);
      expect(error.code).toBe('invalidJSON');
      expect(error.message).not.toContain('TOPSECRET');
      expect(error.message).not.toContain('TOPSEC');
      expect(error.message).not.toContain('SECRET');
    }
  });

  it.each([
    ['an object', '{"taskType":"ping","ping":true}', 'got object'],
    ['a number', '42', 'got number'],
    ['null', 'null', 'got null'],
    ['a string', '"ping"', 'got string'],
    ['a boolean', 'true', 'got boolean'],
  ])('answers %s with invalidFrame', (_label, text, got) => {
    const error = frameError(text);
    expect(error).toEqual({ code: 'invalidFrame', message: `a frame must be a JSON array of task objects; ${got}`, type: 'array' });
  });

  it('answers an empty array with invalidFrame', () => {
    expect(frameError('[]')).toEqual({ code: 'invalidFrame', message: 'a frame must hold at least one task; got an empty array', type: 'array' });
    expect(frameError(' [ ] ').code).toBe('invalidFrame');
  });

  it('passes non-object entries through to validation, which refuses only those', () => {
    const frame = JSON.stringify([baseRequest(), 5, { taskType: 'ping', ping: true }, null, baseRequest({ taskUUID: OTHER_TASK_UUID, width: 500 })]);
    const { frameError: problem, results } = decodeAndValidate(frame);
    expect(problem).toBeUndefined();
    expect(results).toHaveLength(5);
    expect(results[0]?.ok).toBe(true);
    expect(results[1]).toEqual({ ok: false, errors: [{ code: 'invalidTask', message: 'task [1] must be an object; got number', parameter: '[1]', type: 'object' }] });
    expect(results[2]?.ok).toBe(true);
    expect(results[3]).toEqual({ ok: false, errors: [{ code: 'invalidTask', message: 'task [3] must be an object; got null', parameter: '[3]', type: 'object' }] });
    const last = results[4];
    expect(last?.ok).toBe(false);
    if (last !== undefined && !last.ok) {
      expect(last.errors).toHaveLength(1);
      expect(last.errors[0]).toMatchObject({ code: 'invalidWidth', parameter: 'width', taskUUID: OTHER_TASK_UUID, taskType: 'imageInference' });
    }
  });

  it('returns the frame error and no results from decodeAndValidate', () => {
    expect(decodeAndValidate('{')).toMatchObject({ frameError: { code: 'invalidJSON' }, results: [] });
    expect(decodeAndValidate('[]')).toMatchObject({ frameError: { code: 'invalidFrame' }, results: [] });
  });

  describe('frameTooLarge', () => {
    it('uses a default limit of 8 MiB', () => {
      expect(defaultFrameLimits.maxFrameBytes).toBe(8 * 1024 * 1024);
      const body = 'a'.repeat(8 * 1024 * 1024 - 4);
      const exactly = `["${body}"]`;
      expect(utf8.encode(exactly).byteLength).toBe(8 * 1024 * 1024);
      expect(decodeClientFrame(exactly).ok).toBe(true);
      const over = `["${body}a"]`;
      const error = frameError(over);
      expect(error.code).toBe('frameTooLarge');
      expect(error.message).toContain('a frame must be at most 8388608 bytes');
      expect(error.message).toContain('got at least 8388609');
    });

    it('counts UTF-8 bytes, not UTF-16 units, near the boundary (3-byte characters)', () => {
      // '€' is one UTF-16 unit and three UTF-8 bytes: ["€€€€€€€€€€"] is 4 + 30 = 34 bytes, 14 units.
      const frame = `["${'€'.repeat(10)}"]`;
      expect(frame.length).toBe(14);
      expect(decodeClientFrame(frame, { maxFrameBytes: 34 }).ok).toBe(true);
      const error = frameError(frame, { maxFrameBytes: 33 });
      expect(error).toEqual({ code: 'frameTooLarge', message: 'a frame must be at most 33 bytes; got 34', type: 'frame' });
    });

    it('counts UTF-8 bytes of astral characters (4 bytes, 2 units)', () => {
      const frame = `["${'😀'.repeat(10)}"]`;
      expect(utf8.encode(frame).byteLength).toBe(44);
      expect(decodeClientFrame(frame, { maxFrameBytes: 44 }).ok).toBe(true);
      expect(frameError(frame, { maxFrameBytes: 43 })).toMatchObject({ code: 'frameTooLarge', message: 'a frame must be at most 43 bytes; got 44' });
      // Only one byte over, in the middle of the range where the cheap bounds cannot decide.
      const mixed = `["${'é'.repeat(20)}a"]`;
      const bytes = utf8.encode(mixed).byteLength;
      expect(decodeClientFrame(mixed, { maxFrameBytes: bytes }).ok).toBe(true);
      expect(frameError(mixed, { maxFrameBytes: bytes - 1 }).code).toBe('frameTooLarge');
    });

    it('checks binary frames by their byte length', () => {
      const bytes = utf8.encode(`["${'€'.repeat(10)}"]`);
      expect(decodeClientFrame(bytes, { maxFrameBytes: 34 }).ok).toBe(true);
      expect(frameError(bytes, { maxFrameBytes: 33 })).toEqual({ code: 'frameTooLarge', message: 'a frame must be at most 33 bytes; got 34', type: 'frame' });
      expect(frameError(bytes.buffer as ArrayBuffer, { maxFrameBytes: 10 }).code).toBe('frameTooLarge');
    });

    it('checks the size before parsing, so a huge malformed frame is frameTooLarge', () => {
      expect(frameError('{'.repeat(200), { maxFrameBytes: 100 }).code).toBe('frameTooLarge');
    });
  });

  describe('tooManyTasks', () => {
    it('refuses more tasks than maxTasksPerFrame', () => {
      const three = JSON.stringify([{ taskType: 'ping', ping: true }, { taskType: 'ping', ping: true }, { taskType: 'ping', ping: true }]);
      expect(decodeClientFrame(three, { maxTasksPerFrame: 3 }).ok).toBe(true);
      expect(frameError(three, { maxTasksPerFrame: 2 })).toEqual({ code: 'tooManyTasks', message: 'a frame may hold at most 2 tasks; got 3', type: 'array' });
    });

    it('allows 256 tasks by default', () => {
      expect(defaultFrameLimits.maxTasksPerFrame).toBe(256);
      const ping = { taskType: 'ping', ping: true };
      expect(decodeClientFrame(JSON.stringify(Array.from({ length: 256 }, () => ping))).ok).toBe(true);
      expect(frameError(JSON.stringify(Array.from({ length: 257 }, () => ping)))).toMatchObject({ code: 'tooManyTasks', message: 'a frame may hold at most 256 tasks; got 257' });
    });
  });

  describe('binary input', () => {
    const text = JSON.stringify([baseRequest({ positivePrompt: 'un café ☕ 🐱' })]);

    it('decodes a Uint8Array', () => {
      expect(decodeClientFrame(utf8.encode(text))).toEqual({ ok: true, entries: [baseRequest({ positivePrompt: 'un café ☕ 🐱' })] });
    });

    it('decodes an ArrayBuffer', () => {
      const bytes = utf8.encode(text);
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      expect(decodeClientFrame(buffer)).toEqual({ ok: true, entries: [baseRequest({ positivePrompt: 'un café ☕ 🐱' })] });
    });

    it('decodes a view into a larger buffer and a Node Buffer', () => {
      const inner = utf8.encode(text);
      const outer = new Uint8Array(inner.byteLength + 20);
      outer.fill(0x7b); // '{' around the frame: must not be read.
      outer.set(inner, 10);
      expect(decodeClientFrame(outer.subarray(10, 10 + inner.byteLength)).ok).toBe(true);
      expect(decodeClientFrame(Buffer.from(text)).ok).toBe(true);
    });

    it('answers invalid UTF-8 and binary garbage without throwing', () => {
      expect(frameError(new Uint8Array([0xff, 0xfe, 0x00, 0x80])).code).toBe('invalidJSON');
      // A broken UTF-8 sequence inside a string becomes U+FFFD; the entry is then refused by validation.
      expect(decodeClientFrame(new Uint8Array([0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d]))).toEqual({ ok: true, entries: ['\uFFFD('] });
    });

    it('answers an empty binary frame with invalidJSON', () => {
      expect(frameError(new Uint8Array(0)).code).toBe('invalidJSON');
      expect(frameError(new ArrayBuffer(0)).code).toBe('invalidJSON');
    });
  });
});

describe('parseJson', () => {
  it('parses valid JSON and reports malformed JSON without throwing or quoting', () => {
    expect(parseJson('{"a":[1,2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
    const bad = parseJson('{"apiKey":"sk-SECRET"');
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.reason).toMatch(/^syntax error/);
      expect(bad.reason).not.toContain('SECRET');
    }
  });
});

describe('decodeServerFrame', () => {
  const image: ServerDataItem = { taskType: 'imageInference', taskUUID: TASK_UUID, imageUUID: 'b7db282d-2943-4f12-992f-77df3ad3ec71', imageURL: 'https://im.example.com/a.jpg', cost: 0.0013 };
  const pong: ServerDataItem = { taskType: 'ping', pong: true };
  const invalidKey: ProtocolErrorItem = { code: 'invalidApiKey', message: 'Invalid API key. Get one at https://my.runware.ai/signup', parameter: 'apiKey', type: 'string', taskType: 'authentication' };

  it('reads data as an array', () => {
    expect(decodeServerFrame(JSON.stringify({ data: [image, pong] }))).toEqual({ ok: true, data: [image, pong], errors: [] });
  });

  it('reads data as a single object', () => {
    expect(decodeServerFrame(JSON.stringify({ data: pong }))).toEqual({ ok: true, data: [pong], errors: [] });
  });

  it('reads errors, as in the protocol example', () => {
    expect(decodeServerFrame(JSON.stringify({ errors: [invalidKey] }))).toEqual({ ok: true, data: [], errors: [invalidKey] });
  });

  it('reads a singular error as an object and as an array', () => {
    expect(decodeServerFrame(JSON.stringify({ error: invalidKey }))).toEqual({ ok: true, data: [], errors: [invalidKey] });
    const other = { code: 'invalidWidth', message: 'width must be a multiple of 64 from 128 to 2048; got 500', parameter: 'width', taskUUID: TASK_UUID };
    expect(decodeServerFrame(JSON.stringify({ error: [invalidKey, other] }))).toEqual({ ok: true, data: [], errors: [invalidKey, other] });
  });

  it('reads a frame wrapped in an array, merging its parts', () => {
    expect(decodeServerFrame(JSON.stringify([{ errors: [invalidKey] }]))).toEqual({ ok: true, data: [], errors: [invalidKey] });
    expect(decodeServerFrame(JSON.stringify([{ data: [image] }, { data: [pong], errors: [invalidKey] }]))).toEqual({ ok: true, data: [image, pong], errors: [invalidKey] });
  });

  it('reads seq when it is a safe integer', () => {
    expect(decodeServerFrame(JSON.stringify({ seq: 7, data: [image] }))).toEqual({ ok: true, data: [image], errors: [], seq: 7 });
    expect(decodeServerFrame(JSON.stringify({ seq: 0, errors: [invalidKey] }))).toMatchObject({ ok: true, seq: 0 });
    for (const seq of [1.5, '7', 2 ** 60, null]) {
      const decoded = decodeServerFrame(JSON.stringify({ seq, data: [image] }));
      expect(decoded.ok).toBe(true);
      expect(decoded).not.toHaveProperty('seq');
    }
  });

  it('fills in what a lenient server leaves out of an error', () => {
    const decoded = decodeServerFrame(JSON.stringify({ errors: [{ error: 'something broke' }, { code: 'x', parameter: ['width', 'height', 3] }, 'not an object'] }));
    expect(decoded).toEqual({
      ok: true,
      data: [],
      errors: [
        { code: 'unknownError', message: 'something broke' },
        { code: 'x', message: 'the server reported an error', parameter: 'width,height' },
      ],
    });
  });

  it('drops data items without a taskType', () => {
    expect(decodeServerFrame(JSON.stringify({ data: [image, { taskUUID: TASK_UUID }, 3, null] }))).toEqual({ ok: true, data: [image], errors: [] });
  });

  it.each([
    ['malformed JSON', '{"data":'],
    ['an empty string', ''],
    ['null', 'null'],
    ['a number', '5'],
    ['a string', '"data"'],
    ['an array of non-objects', '[1,2]'],
    ['an empty array', '[]'],
    ['an object with neither data nor errors', '{"taskType":"ping"}'],
    ['an empty data list', '{"data":[]}'],
    ['data without task items', '{"data":[1,"x",null]}'],
  ])('answers %s with ok:false and a reason', (_label, text) => {
    const decoded = decodeServerFrame(text);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason.length).toBeGreaterThan(0);
  });

  it('decodes binary input', () => {
    const text = JSON.stringify({ data: [image] });
    expect(decodeServerFrame(utf8.encode(text))).toEqual({ ok: true, data: [image], errors: [] });
    const bytes = utf8.encode(text);
    expect(decodeServerFrame(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).ok).toBe(true);
  });
});

describe('encode/decode round trips', () => {
  it('round-trips a client frame', () => {
    const tasks = [{ taskType: 'authentication', apiKey: 'k' }, baseRequest(), { taskType: 'ping', ping: true }];
    const encoded = encodeClientFrame(tasks);
    expect(decodeClientFrame(encoded)).toEqual({ ok: true, entries: tasks });
    const { frameError: problem, results } = decodeAndValidate(encoded);
    expect(problem).toBeUndefined();
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('round-trips data frames with and without seq', () => {
    const items: ServerDataItem[] = [{ taskType: 'imageInference', taskUUID: TASK_UUID, imageUUID: 'i', index: 0, final: true }];
    expect(JSON.parse(encodeDataFrame(items))).toEqual({ data: items });
    expect(decodeServerFrame(encodeDataFrame(items))).toEqual({ ok: true, data: items, errors: [] });
    expect(decodeServerFrame(encodeDataFrame(items, 12))).toEqual({ ok: true, data: items, errors: [], seq: 12 });
  });

  it('round-trips error frames with and without seq', () => {
    const errors: ProtocolErrorItem[] = [
      { code: 'invalidWidth', message: 'width must be a multiple of 64 from 128 to 2048; got 500', parameter: 'width', type: 'integer', taskType: 'imageInference', taskUUID: TASK_UUID },
      { code: 'invalidJSON', message: 'the frame is not valid JSON (syntax error)', type: 'frame' },
    ];
    expect(JSON.parse(encodeErrorFrame(errors))).toEqual({ errors });
    expect(decodeServerFrame(encodeErrorFrame(errors))).toEqual({ ok: true, data: [], errors });
    expect(decodeServerFrame(encodeErrorFrame(errors, 3))).toEqual({ ok: true, data: [], errors, seq: 3 });
  });
});
