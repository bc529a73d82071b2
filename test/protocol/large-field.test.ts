// The server-frame fast path: a large image string is cut out before JSON.parse and put back, and
// every frame the cut cannot handle exactly (escapes, repeated keys, odd shapes) is parsed whole.
import { describe, it, expect } from 'vitest';
import { decodeServerFrame } from '../../src/protocol/index.js';

const TASK_UUID = '0f6c3d4e-8a3b-4b8e-9d7a-2c1e5f9a0b11';
const base64 = 'QUJD'.repeat(40_000);

function frameOf(value: unknown): string {
  return JSON.stringify(value);
}

function expectSameAsJsonParse(text: string): void {
  const decoded = decodeServerFrame(text);
  if (!decoded.ok) return expect.fail(decoded.reason);
  const reference = JSON.parse(text) as { data: unknown };
  const items = Array.isArray(reference) ? reference.flatMap((frame: { data: unknown }) => frame.data) : reference.data;
  expect(decoded.data).toEqual(Array.isArray(items) ? items : [items]);
}

describe('decodeServerFrame with a large image field', () => {
  it('returns the same items as a whole parse for base64 data', () => {
    const text = frameOf({ seq: 3, data: [{ taskType: 'imageInference', taskUUID: TASK_UUID, imageUUID: 'u', imageBase64Data: base64, seed: 7, cost: 0.001 }] });
    expectSameAsJsonParse(text);
    const decoded = decodeServerFrame(text);
    expect(decoded.ok && decoded.seq).toBe(3);
    expect(decoded.ok && decoded.data[0]?.imageBase64Data).toBe(base64);
  });

  it('handles a data URI, the field last, and a data object instead of an array', () => {
    expectSameAsJsonParse(frameOf({ data: { taskType: 'imageInference', taskUUID: TASK_UUID, imageDataURI: `data:image/png;base64,${base64}` } }));
    expectSameAsJsonParse(frameOf({ data: [{ taskType: 'imageInference', taskUUID: TASK_UUID, imageBase64Data: base64 }] }));
  });

  it('falls back to a whole parse when the value holds escapes', () => {
    // JSON.stringify escapes "/" only when asked; write the escapes by hand as other servers do.
    const escaped = base64.replace(/QUJD/g, (m, i: number) => (i % 400 === 0 ? 'QU\\/D' : m));
    const text = `{"data":[{"taskType":"imageInference","taskUUID":"${TASK_UUID}","imageBase64Data":"${escaped}"}]}`;
    const decoded = decodeServerFrame(text);
    if (!decoded.ok) return expect.fail(decoded.reason);
    expect(decoded.data[0]?.imageBase64Data).toBe(JSON.parse(`"${escaped}"`));
    expect(decoded.data[0]?.imageBase64Data).toContain('QU/D');
    // An escaped quote must not end the cut early.
    const quoted = `{"data":[{"taskType":"imageInference","taskUUID":"${TASK_UUID}","imageBase64Data":"${base64}\\"tail"}]}`;
    const second = decodeServerFrame(quoted);
    expect(second.ok && second.data[0]?.imageBase64Data).toBe(`${base64}"tail`);
  });

  it('falls back when the key appears twice or somewhere other than a result item', () => {
    const twice = frameOf({ data: [
      { taskType: 'imageInference', taskUUID: TASK_UUID, imageBase64Data: base64 },
      { taskType: 'imageInference', taskUUID: TASK_UUID, imageBase64Data: 'QUJD' },
    ] });
    expectSameAsJsonParse(twice);
    const nested = frameOf({ data: [{ taskType: 'imageInference', taskUUID: TASK_UUID, extra: { imageBase64Data: base64 } }] });
    expectSameAsJsonParse(nested);
    const spaced = `{"data":[{"taskType":"imageInference","taskUUID":"${TASK_UUID}","imageBase64Data" : "${base64}"}]}`;
    expectSameAsJsonParse(spaced);
  });

  it('does not treat the key inside a string value as a member', () => {
    const prompt = `say "imageBase64Data":"x" please`;
    expectSameAsJsonParse(frameOf({ data: [{ taskType: 'imageInference', taskUUID: TASK_UUID, positivePrompt: prompt, imageBase64Data: base64 }] }));
  });

  it('reports malformed frames as a whole parse does', () => {
    const broken = `{"data":[{"taskType":"imageInference","imageBase64Data":"${base64}"}`;
    const decoded = decodeServerFrame(broken);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(/^malformed JSON/);
  });

  it('reads the same frame from UTF-8 bytes', () => {
    const text = frameOf({ data: [{ taskType: 'imageInference', taskUUID: TASK_UUID, imageBase64Data: base64 }] });
    const decoded = decodeServerFrame(new TextEncoder().encode(text));
    expect(decoded.ok && decoded.data[0]?.imageBase64Data).toBe(base64);
  });

  it('cuts the field out instead of parsing it (a raw control character there goes unseen)', () => {
    const text = `{"data":[{"taskType":"imageInference","taskUUID":"${TASK_UUID}","imageBase64Data":"${base64}\u0001"}]}`;
    expect(() => JSON.parse(text) as unknown).toThrow();
    const decoded = decodeServerFrame(text);
    expect(decoded.ok && decoded.data[0]?.imageBase64Data).toBe(`${base64}\u0001`);
  });
});
