// Inline images on the JSON path: the frame built by splicing the base64 into the stringified item
// is byte-for-byte the frame a plain JSON.stringify of the whole item gives.
import { describe, it, expect } from 'vitest';
import { encodeDataFrame } from '../../src/protocol/index.js';
import { encodeServerFrame, inlineImageItem, type ServerFrame } from '../../src/server/core/server-frame.js';

const image = Uint8Array.from({ length: 3000 }, (_, i) => (i * 37) % 256);

function imageFrame(field: 'imageBase64Data' | 'imageDataURI', extra: Record<string, unknown> = {}): Extract<ServerFrame, { kind: 'image' }> {
  return {
    kind: 'image',
    item: { taskType: 'imageInference', taskUUID: '0f6c3d4e-8a3b-4b8e-9d7a-2c1e5f9a0b11', imageUUID: 'a1b2', seed: 5, ...extra },
    field,
    mediaType: 'image/png',
    image,
  };
}

describe('encodeServerFrame of an inline image as JSON', () => {
  it.each(['imageBase64Data', 'imageDataURI'] as const)('matches stringifying the whole item (%s)', (field) => {
    for (const seq of [undefined, 42]) {
      const frame = imageFrame(field, { positivePrompt: 'say "imageBase64Data":"x"', cost: 0.01 });
      expect(encodeServerFrame(frame, { seq, binary: false })).toBe(encodeDataFrame([inlineImageItem(frame)], seq));
    }
  });

  it('falls back when the item already carries the field', () => {
    const frame = imageFrame('imageBase64Data', { imageBase64Data: 'QUJD' });
    expect(encodeServerFrame(frame, { binary: false })).toBe(encodeDataFrame([inlineImageItem(frame)]));
  });
});
