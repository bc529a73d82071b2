// An engine whose finals are fixed bytes, made at once: for tests about transport (large results,
// slow readers) rather than rendering. The server never decodes finals, so random bytes with a PNG
// signature stand in for an incompressible image.
import { resultSeed, type Engine, type EngineEvent, type EngineRequest } from '../../src/engine/index.js';

/** `bytes` of random data behind a PNG signature. */
export function randomImage(bytes: number): Uint8Array {
  const image = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65_536) crypto.getRandomValues(image.subarray(i, Math.min(bytes, i + 65_536)));
  image.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  return image;
}

/** Answers every request with `image` as each of its finals. */
export function fixedImageEngine(image: Uint8Array): Engine {
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
