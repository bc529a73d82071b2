// A large inline image goes out as fragments of one WebSocket message: joined, they are exactly the
// frame encodeServerFrame builds, and a client receives one message it reads as before.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type ImagewireClient } from '../../src/index.js';
import { encodeServerFrame, encodeServerMessage, type ImageFrame, type WireMessage } from '../../src/server/core/server-frame.js';
import { fixedImageEngine, randomImage } from '../helpers/fixed-engine.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const KiB = 1024;

function joined(message: WireMessage): string | Uint8Array {
  if (!message.binary) return message.parts.map((part) => (typeof part === 'string' ? part : Buffer.from(part).toString('utf8'))).join('');
  return Buffer.concat(message.parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part)));
}

function imageFrame(image: Uint8Array, field: ImageFrame['field'], extra: Record<string, unknown>): ImageFrame {
  const item = { taskType: 'imageInference', taskUUID: '0f6c3d4e-8a3b-4b8e-9d7a-2c1e5f9a0b11', imageUUID: 'b5e0c3a2-7d14-4f0e-9a55-1c2d3e4f5a6b', ...extra };
  return { kind: 'image', item, field, mediaType: 'image/webp', image };
}

describe('encodeServerMessage', () => {
  it('joins to the frame encodeServerFrame builds, for any image size around the fragment thresholds', () => {
    const base = randomImage(128 * KiB + 3 * 48 * KiB + 3);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: base.byteLength }),
        fc.constantFrom('imageBase64Data' as const, 'imageDataURI' as const),
        fc.boolean(),
        fc.option(fc.integer({ min: 1, max: 2 ** 31 }), { nil: undefined }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 20 }), fc.double(), fc.boolean())),
        (size, field, binary, seq, extra) => {
          const frame = imageFrame(base.subarray(0, size), field, extra);
          const message = encodeServerMessage(frame, { seq, binary });
          const whole = encodeServerFrame(frame, { seq, binary });
          expect(message.binary).toBe(binary);
          const parts = joined(message);
          if (typeof whole === 'string') expect(parts).toBe(whole);
          else expect(Buffer.from(parts).equals(Buffer.from(whole))).toBe(true);
          expect(message.size).toBe(typeof whole === 'string' ? whole.length : whole.byteLength);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('writes a large image as fragments that never hold the image twice', () => {
    const image = randomImage(1024 * KiB);
    const binary = encodeServerMessage(imageFrame(image, 'imageBase64Data', {}), { binary: true });
    expect(binary.parts).toHaveLength(2);
    expect(binary.parts[1]).toBe(image);
    const json = encodeServerMessage(imageFrame(image, 'imageBase64Data', {}), { binary: false });
    expect(Math.max(...json.parts.map((part) => part.length))).toBeLessThanOrEqual(64 * KiB);
  });

  it('keeps small frames whole', () => {
    const message = encodeServerMessage(imageFrame(randomImage(100 * KiB), 'imageDataURI', {}), { binary: false });
    expect(message.parts).toHaveLength(1);
  });
});

describe('a large result written in fragments', () => {
  let server: TestServer | undefined;
  let client: ImagewireClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
    client = undefined;
    server = undefined;
  });

  const image = randomImage(700 * KiB + 1);

  it.each(['base64Data', 'dataURI'] as const)('reaches the client as the image it was (%s)', async (outputType) => {
    server = await startTestServer({ engine: fixedImageEngine(image) });
    client = createClient({ apiKey: 'key', url: server.url, networkEvents: false });
    const [result] = await client.imageInference({ positivePrompt: 'large', model: 'runware:101@1', width: 512, height: 512, outputType, numberResults: 1 }).result();
    expect(result?.base64).toBe(Buffer.from(image).toString('base64'));
    expect(Buffer.from(result?.bytes ?? []).equals(Buffer.from(image))).toBe(true);
  });

  it('reaches a binaryResults socket as one binary message', async () => {
    server = await startTestServer({ engine: fixedImageEngine(image) });
    const raw = await RawClient.connect(server.url);
    await raw.authenticate('key');
    await raw.enableExtensions(['ack', 'binaryResults']);
    const taskUUID = crypto.randomUUID();
    raw.send([{ taskType: 'imageInference', taskUUID, positivePrompt: 'large', model: 'runware:101@1', width: 512, height: 512, outputType: 'base64Data', numberResults: 1 }]);
    const frame = await raw.waitFor((f) => f.kind === 'binary' && f.header.taskUUID === taskUUID, { timeoutMs: 10_000 });
    if (frame.kind !== 'binary') throw new Error('expected a binary frame');
    expect(frame.seq).toBe(1);
    expect(Buffer.from(frame.image).equals(Buffer.from(image))).toBe(true);
    await raw.close();
  });
});
