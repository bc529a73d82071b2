// Numeric and textual limits of the protocol, from the parameter tables; one place for both
// validation and docs. Where the older document disagrees, the newer one wins.

export const limits = {
  /** width and height: multiples of 64 from 128 to 2048. */
  dimension: { min: 128, max: 2048, multipleOf: 64 },
  /** Characters; the special token __BLANK__ asks for no prompt guidance. */
  positivePrompt: { minLength: 2, maxLength: 3000 },
  negativePrompt: { minLength: 2, maxLength: 2000 },
  steps: { min: 1, max: 100, default: 20 },
  /**
   * Integers from 1 to 2^63 - 1, and result k carries seed + k, so seed + numberResults - 1 must
   * not pass the top either. Above 2^53 - 1 a seed is read and written as an exact bigint.
   */
  seed: { min: 1, max: 9_223_372_036_854_775_807n },
  CFGScale: { min: 0, max: 30, default: 7 },
  clipSkip: { min: 0, max: 2 },
  numberResults: { min: 1, max: 20, default: 1 },
  outputQuality: { min: 20, max: 99, default: 95 },
  maskMargin: { min: 32, max: 128 },
  strength: { min: 0, max: 1, default: 0.8 },
  outpaintSide: { min: 0, multipleOf: 64 },
  outpaintBlur: { min: 0, max: 32, default: 0 },
  refinerStartStep: { min: 2 },
  refinerStartStepPercentage: { min: 1, max: 99 },
  embeddingWeight: { min: -4, max: 4, default: 1 },
  loraWeight: { min: -4, max: 4, default: 1 },
  controlNetWeight: { min: 0, max: 1, default: 1 },
  controlNetStartStep: { min: 1 },
  controlNetStartStepPercentage: { min: 0, max: 99 },
  controlNetEndStepPercentage: { max: 100 },
  ipAdapterWeight: { min: 0, max: 1, default: 1 },
  ttl: { min: 60 },
  previewMaxSide: { min: 32, max: 512, default: 128 },
  /** Previews per result when `previews.count` is given; absent means one per step. */
  previewCount: { min: 1, max: 100 },
  scheduler: { maxLength: 100 },
  /** Any model-like string (AIR ids). */
  air: { maxLength: 200 },
  /** URLs given as uploadEndpoint, webhookURL or image inputs. */
  url: { maxLength: 2048 },
} as const;

export const BLANK_PROMPT = '__BLANK__';

export const outputTypes = ['base64Data', 'dataURI', 'URL'] as const;
export const outputFormats = ['JPG', 'PNG', 'WEBP'] as const;
export const deliveryMethods = ['sync', 'async'] as const;
export const promptWeightings = ['compel', 'sdEmbeds'] as const;
export const controlModes = ['prompt', 'controlnet', 'balanced'] as const;
export const previewFormats = ['JPG', 'WEBP'] as const;

/** The IP-Adapter models the protocol lists as supported. */
export const ipAdapterModels = [
  'runware:55@1',
  'runware:55@2',
  'runware:55@3',
  'runware:55@4',
  'runware:55@5',
  'runware:55@6',
  'runware:55@7',
  'runware:55@8',
  'runware:55@10',
] as const;

/** Defaults applied by {@link normalizeImageInference}, as the parameter tables give them. */
export const imageInferenceDefaults = {
  outputType: 'URL',
  outputFormat: 'JPG',
  outputQuality: limits.outputQuality.default,
  steps: limits.steps.default,
  CFGScale: limits.CFGScale.default,
  numberResults: limits.numberResults.default,
  strength: limits.strength.default,
  deliveryMethod: 'sync',
  checkNSFW: false,
  includeCost: false,
} as const;

/** Protocol timings from the connection documentation. */
export const protocolTimings = {
  /** The server closes a socket after this long without a message. */
  idleTimeoutMs: 120_000,
  /** Undelivered results are kept this long for a resuming client. */
  resumeWindowMs: 120_000,
} as const;
