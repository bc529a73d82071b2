// Public API of the engine layer: the Engine interface other engines implement, its error type,
// the built-in procedural engine, and the lazy sharp loader (for an early missingDependency check).

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
export { loadSharp, missingSharpMessage, type Sharp } from './sharp.js';
