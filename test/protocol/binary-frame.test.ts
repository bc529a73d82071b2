// The binaryResults frame: version byte, big-endian header length, UTF-8 JSON header, image bytes.
// Decoding returns a view into the frame and never throws, whatever the bytes.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { BINARY_FRAME_VERSION, MAX_BINARY_HEADER_BYTES, decodeBinaryResult, encodeBinaryResult, type BinaryResultHeader } from '../../src/protocol/index.js';
import { TASK_UUID } from './fixtures.js';

const header: BinaryResultHeader = {
  taskType: 'imageInference',
  taskUUID: TASK_UUID,
  imageUUID: 'b7db282d-2943-4f12-992f-77df3ad3ec71',
  imageFormat: 'PNG',
  index: 1,
  seed: 42,
  seq: 7,
  byteLength: 8,
};
const image = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Builds a frame by hand: version, declared header length, header bytes, then the rest. */
function rawFrame(version: number, declaredLength: number, headerBytes: Uint8Array, rest: Uint8Array = new Uint8Array(0)): Uint8Array {
  const frame = new Uint8Array(5 + headerBytes.byteLength + rest.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint8(0, version);
  view.setUint32(1, declaredLength, false);
  frame.set(headerBytes, 5);
  frame.set(rest, 5 + headerBytes.byteLength);
  return frame;
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

function expectRefused(frame: Uint8Array | ArrayBuffer, reason?: string): void {
  const decoded = decodeBinaryResult(frame);
  expect(decoded.ok).toBe(false);
  if (!decoded.ok && reason !== undefined) expect(decoded.reason).toContain(reason);
}

describe('encodeBinaryResult', () => {
  it('lays out version, big-endian header length, header JSON and image', () => {
    const frame = encodeBinaryResult(header, image);
    const headerBytes = json(header);
    expect(frame[0]).toBe(1);
    expect(BINARY_FRAME_VERSION).toBe(1);
    expect(new DataView(frame.buffer, frame.byteOffset).getUint32(1, false)).toBe(headerBytes.byteLength);
    expect(frame.subarray(5, 5 + headerBytes.byteLength)).toEqual(headerBytes);
    expect(frame.subarray(5 + headerBytes.byteLength)).toEqual(image);
    expect(frame.byteLength).toBe(5 + headerBytes.byteLength + image.byteLength);
  });
});

describe('decodeBinaryResult', () => {
  it('round-trips header and bytes', () => {
    const decoded = decodeBinaryResult(encodeBinaryResult(header, image));
    expect(decoded).toEqual({ ok: true, header, image });
  });

  it('round-trips a header with non-ASCII text and an empty image', () => {
    const fancy: BinaryResultHeader = { ...header, note: 'café ☕ 🐱' };
    const decoded = decodeBinaryResult(encodeBinaryResult(fancy, new Uint8Array(0)));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) {
      expect(decoded.header).toEqual(fancy);
      expect(decoded.image.byteLength).toBe(0);
    }
  });

  it('returns the image as a view into the frame, not a copy', () => {
    const frame = encodeBinaryResult(header, image);
    const decoded = decodeBinaryResult(frame);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.image.buffer).toBe(frame.buffer);
    expect(decoded.image.byteOffset).toBe(frame.byteLength - image.byteLength);
    frame[frame.byteLength - 1] = 0xee;
    expect(decoded.image[decoded.image.byteLength - 1]).toBe(0xee);
  });

  it('decodes an ArrayBuffer and a frame that sits inside a larger buffer', () => {
    const frame = encodeBinaryResult(header, image);
    const buffer = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer;
    expect(decodeBinaryResult(buffer)).toEqual({ ok: true, header, image });

    const outer = new Uint8Array(frame.byteLength + 16).fill(0xff);
    outer.set(frame, 9);
    const inner = outer.subarray(9, 9 + frame.byteLength);
    const decoded = decodeBinaryResult(inner);
    expect(decoded).toEqual({ ok: true, header, image });
    if (decoded.ok) expect(decoded.image.buffer).toBe(outer.buffer);
  });

  it('refuses every truncation that cuts into the prefix or the header', () => {
    const frame = encodeBinaryResult(header, image);
    const headerEnd = 5 + json(header).byteLength;
    for (let length = 0; length < headerEnd; length++) {
      expectRefused(frame.slice(0, length), length < 5 ? 'shorter than its prefix' : 'header length out of range');
    }
  });

  it.each([0, 2, 255])('refuses version %d', (version) => {
    const frame = encodeBinaryResult(header, image);
    frame[0] = version;
    expectRefused(frame, `unknown binary frame version ${version}`);
  });

  it('refuses a header length over the maximum, even when the bytes are there', () => {
    expect(MAX_BINARY_HEADER_BYTES).toBe(64 * 1024);
    const big = new Uint8Array(MAX_BINARY_HEADER_BYTES + 1).fill(0x20);
    expectRefused(rawFrame(1, MAX_BINARY_HEADER_BYTES + 1, big), 'header length out of range');
    expectRefused(rawFrame(1, 0xffffffff, json(header)), 'header length out of range');
  });

  it('accepts a header exactly at the maximum size', () => {
    const padded = json({ ...header, pad: '' });
    const fill = 'x'.repeat(MAX_BINARY_HEADER_BYTES - padded.byteLength);
    const headerBytes = json({ ...header, pad: fill });
    expect(headerBytes.byteLength).toBe(MAX_BINARY_HEADER_BYTES);
    expect(decodeBinaryResult(rawFrame(1, headerBytes.byteLength, headerBytes, image)).ok).toBe(true);
  });

  it.each([
    ['not JSON', new TextEncoder().encode('{"taskType":'), 'header is not JSON'],
    ['invalid UTF-8', new Uint8Array([0xc3, 0x28, 0xff]), 'header is not JSON'],
    ['an empty header', new Uint8Array(0), 'header is not JSON'],
    ['a JSON array', json([header]), 'header is not an object'],
    ['JSON null', json(null), 'header is not an object'],
    ['a JSON number', json(5), 'header is not an object'],
    ['a header without taskUUID', json({ taskType: 'imageInference' }), 'lacks taskType or taskUUID'],
    ['a header without taskType', json({ taskUUID: TASK_UUID }), 'lacks taskType or taskUUID'],
    ['a numeric taskUUID', json({ taskType: 'imageInference', taskUUID: 1 }), 'lacks taskType or taskUUID'],
  ])('refuses %s', (_label, headerBytes, reason) => {
    expectRefused(rawFrame(1, headerBytes.byteLength, headerBytes, image), reason);
  });

  it('refuses a declared length that ends inside a multi-byte character', () => {
    const headerBytes = json({ ...header, note: '€' });
    // Declare one byte less: the header JSON is cut and cannot parse.
    expectRefused(rawFrame(1, headerBytes.byteLength - 1, headerBytes), undefined);
  });
});

describe('decodeBinaryResult fuzzing', () => {
  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const decoded = decodeBinaryResult(bytes);
        expect(typeof decoded.ok).toBe('boolean');
        if (!decoded.ok) expect(typeof decoded.reason).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on random bytes behind a valid version byte and a plausible length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.uint8Array({ maxLength: 500 }), (declared, rest) => {
        const frame = new Uint8Array(5 + rest.byteLength);
        frame[0] = 1;
        new DataView(frame.buffer).setUint32(1, declared, false);
        frame.set(rest, 5);
        const decoded = decodeBinaryResult(frame);
        if (decoded.ok) {
          expect(typeof decoded.header.taskType).toBe('string');
          expect(typeof decoded.header.taskUUID).toBe('string');
          expect(decoded.image.byteLength).toBe(rest.byteLength - declared);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on a valid frame with random bytes flipped, and round-trips when untouched', () => {
    const headerArb = fc.record({
      taskType: fc.constantFrom('imageInference', 'imageUpload'),
      taskUUID: fc.uuid({ version: 4 }),
      seq: fc.nat(),
      extra: fc.jsonValue({ maxDepth: 2 }),
    });
    fc.assert(
      fc.property(headerArb, fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 4 }), (h, bytes, flips) => {
        const frame = encodeBinaryResult(h, bytes);
        const clean = decodeBinaryResult(frame);
        expect(clean.ok).toBe(true);
        if (clean.ok) {
          expect(clean.header).toEqual(JSON.parse(JSON.stringify(h)));
          expect(clean.image).toEqual(bytes);
        }
        const corrupted = frame.slice();
        for (const at of flips) {
          const index = at % corrupted.byteLength;
          corrupted[index] = (corrupted[index] ?? 0) ^ 0xa5;
        }
        const decoded = decodeBinaryResult(corrupted);
        expect(typeof decoded.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });
});
