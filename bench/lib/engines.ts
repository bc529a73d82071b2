// Engines for transport benchmarks: they return a fixed image at once, so the numbers measure the
// client, the server's task path and the socket, never rendering.
import { resultSeed, type Engine, type EngineEvent, type EngineRequest } from '../../src/engine/index.js';

/** A valid 1x1 PNG (67 bytes): the smallest real final image. */
export const TINY_PNG = Uint8Array.from(
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'),
);

/** Returns `image` as every final of every request, without awaiting anything. */
export function fixedImageEngine(image: Uint8Array = TINY_PNG): Engine {
  return {
    name: 'fixed',
    models: () => [{ id: 'runware:101@1', name: 'fixed', description: 'returns a fixed image', defaultSteps: 1, defaultCFGScale: 7, style: 'fixed' }],
    hasModel: () => true,
    async *generate(request: EngineRequest): AsyncGenerator<EngineEvent, void, undefined> {
      for (let index = 0; index < request.numberResults; index++) {
        yield { kind: 'final', index, seed: resultSeed(request.seed, index), image, format: 'PNG', width: request.width, height: request.height };
      }
    },
  };
}

/** Random bytes with a PNG signature: incompressible like real images; the server never decodes finals. */
export function randomImage(bytes: number): Uint8Array {
  const image = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65536) crypto.getRandomValues(image.subarray(i, Math.min(bytes, i + 65536)));
  image.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  return image;
}
