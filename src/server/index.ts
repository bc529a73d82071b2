// Public API of `imagewire/server`: the reference server, its options and limits, and the engine
// pieces a self-hoster needs to plug in a renderer of their own.
export { createServer, type ImagewireServer, type ServerStats } from './server.js';
export type { ServerOptions } from './options.js';
export { createWorker, type ClusterWorker, type WorkerOptions } from './cluster/worker.js';
export type { OutboundKind, OutboundTarget } from './outbound/policy.js';
export { defaultLimits, limitCodes, perKeyShare, type ServerLimits } from './limits.js';
export type { Logger, LogFields } from './logger.js';
export { createPinoLogger, logLevels, type LogLevel, type PinoLogger, type PinoLoggerOptions } from './observability/pino-logger.js';
export type { NotReady } from './observability/ops-routes.js';
export { startWorkerMetrics, type WorkerMetrics, type WorkerMetricsOptions } from './observability/worker-metrics.js';
export type { TaskEnd } from './observability/events.js';
export type { ServerFaults } from './faults.js';
export type { ApiKeys } from './auth/auth.js';
export type { TokenOptions } from './auth/tokens.js';
export type { PageOptions } from './page/route.js';
export type { B64JsonForm, OpenAiImagesOptions } from './openai/images.js';
export { closeCodes } from './ws/close-codes.js';
export { costOf, isNsfwPrompt, nsfwWords } from './core/results.js';
export {
  createProceduralEngine,
  defaultMaxInputPixels,
  EngineError,
  resultSeed,
  type Seed,
  type Engine,
  type EngineErrorCode,
  type EngineEvent,
  type FinalEvent,
  type EngineModel,
  type EngineRequest,
  type ImageFormat,
  type OutpaintSides,
  type PreviewOptions,
  type ProceduralEngineOptions,
} from '../engine/index.js';
