// Public API of the engine layer: the Engine interface other engines implement, its error type,
// the built-in procedural engine, and the lazy sharp loader (for an early missingDependency check;
// typed without sharp's types, so apps type-check without sharp installed).

export type {
  Engine,
  EngineErrorCode,
  EngineEvent,
  FinalEvent,
  EngineModel,
  EngineRequest,
  ImageFormat,
  OutpaintSides,
  PreviewOptions,
} from './engine.js';
export { defaultMaxInputPixels, EngineError } from './engine.js';
export { resultSeed, requestSeed, type Seed } from './seeds.js';
export { createProceduralEngine, DEFAULT_STEP_DELAY_MS, type ProceduralEngineOptions } from './procedural/engine.js';
export { loadSharp, missingSharpMessage } from './sharp-loader.js';
