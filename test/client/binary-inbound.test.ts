// Binary results as the client receives them: an imagewire server sends a large image as two
// fragments (header, image), which the Node client takes as they came, without joining them into
// one more buffer; small images and other splits still decode, and a kept image never pins a
// socket's shared read block.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type ImagewireClient } from '../../src/index.js';
import type { Engine, EngineEvent, EngineRequest } from '../../src/engine/index.js';
import { decodeInbound } from '../../src/client/socket/inbound.js';
import { encodeBinaryResult, encodeBinaryResultHead, type BinaryResultHeader } from '../../src/protocol/index.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const header: BinaryResultHeader = { taskType: 'imageInference', taskUUID: '3b8a4d4e-6f0e-4d9a-9c43-1f2b3c4d5e6f', imageUUID: 'u', index: 0, byteLength: 4 };

function imageOf(bytes: number, salt: number): Uint8Array {
  const image = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) image[i] = (i * 31 + salt) & 0xff;
  return image;
}

function engineOf(images: readonly Uint8Array[]): Engine {
  return {
    name: 'fixed',
    models: () => [{ id: 'runware:101@1', name: 'fixed', description: 'fixed images', defaultSteps: 1, defaultCFGScale: 7, style: 'fixed' }],
    hasModel: () => true,
    async *generate(request: EngineRequest): AsyncGenerator<EngineEvent, void, undefined> {
      for (let index = 0; index < request.numberResults; index++) {
        yield { kind: 'final', index, seed: 1, image: images[index] as Uint8Array, format: 'PNG', width: request.width, height: request.height };
      }
    },
  };
}

describe('binary results in the client', () => {
  let server: TestServer | undefined;
  let client: ImagewireClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
    client = undefined;
    server = undefined;
  });

  it('delivers a fragmented 1 MiB image and a small one byte for byte, as plain Uint8Arrays', async () => {
    const images = [imageOf(1024 * 1024, 7), imageOf(3000, 11)];
    server = await startTestServer({ engine: engineOf(images) });
    client = createClient({ apiKey: 'k'.repeat(32), url: server.url, extensions: { binaryResults: true } });
    await client.connect();
    expect(client.serverExtensions).toContain('binaryResults');
    const results = await client.imageInference({ positivePrompt: 'a fox', model: 'runware:101@1', width: 512, height: 512, numberResults: 2 }).result();
    expect(results.map((result) => result.index)).toEqual([0, 1]);
    for (const [i, result] of results.entries()) {
      expect(result.bytes.constructor).toBe(Uint8Array);
      expect(Buffer.from(result.bytes).equals(Buffer.from(images[i] as Uint8Array))).toBe(true);
      expect(result.item).not.toHaveProperty('imageBase64Data');
    }
  });
});

describe('decodeInbound on binary messages', () => {
  it('takes a header fragment and an image fragment without copying the image', () => {
    const image = new Uint8Array([1, 2, 3, 4]);
    const inbound = decodeInbound([encodeBinaryResultHead(header), image]);
    if (inbound.kind !== 'binary') throw new Error(`not binary: ${JSON.stringify(inbound)}`);
    expect(inbound.header.taskUUID).toBe(header.taskUUID);
    expect(inbound.image.buffer).toBe(image.buffer);
    expect([...inbound.image]).toEqual([1, 2, 3, 4]);
  });

  it('joins any other split of a message once', () => {
    const frame = encodeBinaryResult(header, new Uint8Array([5, 6, 7, 8]));
    const parts = [frame.subarray(0, 3), frame.subarray(3, frame.byteLength - 2), frame.subarray(frame.byteLength - 2)];
    const inbound = decodeInbound(parts);
    if (inbound.kind !== 'binary') throw new Error(`not binary: ${JSON.stringify(inbound)}`);
    expect([...inbound.image]).toEqual([5, 6, 7, 8]);
  });

  it('copies an image that shares a larger block, and keeps one that has its block alone', () => {
    const frame = encodeBinaryResult(header, new Uint8Array([9, 9, 9, 9]));
    const block = new Uint8Array(frame.byteLength + 100);
    block.set(frame, 50);
    const shared = decodeInbound(block.subarray(50, 50 + frame.byteLength));
    if (shared.kind !== 'binary') throw new Error('not binary');
    expect(shared.image.buffer).not.toBe(block.buffer);
    expect(shared.image.buffer.byteLength).toBe(4);
    const alone = decodeInbound(frame.buffer);
    if (alone.kind !== 'binary') throw new Error('not binary');
    expect(alone.image.buffer).toBe(frame.buffer);
    expect([...alone.image]).toEqual([9, 9, 9, 9]);
  });

  it('refuses a header fragment that is not a binary result', () => {
    expect(decodeInbound([new Uint8Array([2, 0, 0, 0, 0]), new Uint8Array([1])]).kind).toBe('invalid');
  });
});
