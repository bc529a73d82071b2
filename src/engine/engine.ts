// The pluggable Engine interface the server drives, and the error type engines throw.
// Any renderer (the built-in procedural one, a GPU backend, a proxy) fits behind these types.
import type { ErrorCode } from '../protocol/index.js';
import type { Seed } from './seeds.js';

/** Encoded image formats an engine returns. */
export type ImageFormat = 'PNG' | 'JPG' | 'WEBP';

/** Outpainting: how many pixels the canvas grows on each side, and how wide the blurred seam is. */
export interface OutpaintSides {
  top: number;
  right: number;
  bottom: number;
  left: number;
  /** Width in pixels of the blurred seam between the seed image and the new area; 0 is a hard edge. */
  blur: number;
}

/** How previews are rendered while an image is being generated. */
export interface PreviewOptions {
  format: 'JPG' | 'WEBP';
  /** The longer side of a preview in pixels, e.g. 128; previews never exceed the final size. */
  maxSide: number;
  /** Encoder quality 1..100; engines pick a cheap default when absent. */
  quality?: number;
  /** Only these steps (1-based) get a preview; absent: every step. Unlisted steps cost no encoding. */
  steps?: readonly number[];
}

/**
 * One image-inference job as an engine sees it: parameters already validated and defaulted,
 * images already fetched and given as encoded bytes.
 */
export interface EngineRequest {
  taskUUID: string;
  /** AIR id, e.g. "runware:101@1". */
  model: string;
  /** May be the special token "__BLANK__" (no prompt guidance). */
  positivePrompt: string;
  negativePrompt?: string;
  /** Multiple of 64, 128..2048 (validated by the caller). */
  width: number;
  /** Multiple of 64, 128..2048 (validated by the caller). */
  height: number;
  /** 1..100. */
  steps: number;
  /** 0..30. */
  CFGScale: number;
  /**
   * Seed of image 0; image k uses seed + k. 1 to 9223372036854775807: a number when every result's
   * seed is at most `Number.MAX_SAFE_INTEGER` (2^53 - 1), else a bigint. With a bigint, add
   * `BigInt(index)`, or use {@link resultSeed}, which handles both.
   */
  seed: Seed;
  /** 1..20. */
  numberResults: number;
  /** 0..1 for image-to-image and inpainting: 0 keeps the seed image, 1 ignores it. */
  strength: number;
  scheduler?: string;
  /** Encoded PNG, JPG or WEBP bytes. */
  seedImage?: Uint8Array;
  /** Encoded PNG, JPG or WEBP bytes; white = repaint, black = keep. */
  maskImage?: Uint8Array;
  maskMargin?: number;
  /** The canvas grows: width must equal the seed image width + left + right, height likewise. */
  outpaint?: OutpaintSides;
  outputFormat: ImageFormat;
  /** 20..99, used by JPG and WEBP. */
  outputQuality: number;
  /** Absent: the engine renders no previews at all, which is cheaper. */
  previews?: PreviewOptions;
  /**
   * True when the client asked for a URL and the server needs no bytes of the finals (no
   * uploadEndpoint): an engine whose images already live at a public URL (an upstream service)
   * may then yield `imageURL` instead of `image`, and the server passes the URL on unchanged.
   */
  acceptsURL?: boolean;
  /**
   * Most pixels (width × height) the engine may decode from seedImage or maskImage, for sharp's
   * `limitInputPixels`. The server sets its `limits.maxInputPixels` and has already refused larger
   * headers; the engine's own bound is for engines used without it. @default defaultMaxInputPixels
   */
  maxInputPixels?: number;
}

/** The engine's bound on decoded input pixels when a request names none: 4096 × 4096. */
export const defaultMaxInputPixels = 4096 * 4096;

/** What `Engine.generate` yields: previews while an image forms, then its final. */
export type EngineEvent =
  | {
      kind: 'preview';
      /** Which result (0..numberResults-1) this preview belongs to. */
      index: number;
      /** 1..steps. */
      step: number;
      steps: number;
      image: Uint8Array;
      format: 'JPG' | 'WEBP';
      width: number;
      height: number;
    }
  | FinalEvent;

/** A final image: its bytes, or (only when the request {@link EngineRequest.acceptsURL}) a URL where it lives. */
export type FinalEvent = {
  kind: 'final';
  index: number;
  /** The seed this image was made with: request seed + index ({@link resultSeed}). */
  seed: Seed;
  format: ImageFormat;
  width: number;
  height: number;
  /**
   * What making the image cost in USD, when the engine knows it (an upstream service's reported
   * cost). The server reports it for `includeCost` instead of its own estimate, and counts it
   * against a token's budget.
   */
  cost?: number;
  /** The engine's own NSFW verdict; the server's prompt check stands in when absent. */
  NSFWContent?: boolean;
} & ({ image: Uint8Array; imageURL?: undefined } | { image?: undefined; imageURL: string });

/** A model an engine offers, as listed to clients. */
export interface EngineModel {
  /** AIR id. */
  id: string;
  name: string;
  description: string;
  defaultSteps: number;
  defaultCFGScale: number;
  /** Engine-specific look, e.g. "painterly". */
  style: string;
}

/** A renderer the server can run image-inference tasks on. */
export interface Engine {
  readonly name: string;
  /** Models this engine can run; the server rejects others with `unknownModel`. */
  models(): readonly EngineModel[];
  /** True when the engine can run this AIR id. */
  hasModel(model: string): boolean;
  /**
   * Yields previews (only when `request.previews` is set) and exactly `numberResults` finals;
   * stops promptly (throws `signal.reason`) when `signal` aborts.
   */
  generate(request: EngineRequest, options: { signal: AbortSignal }): AsyncIterable<EngineEvent>;
}

/**
 * Codes an engine reports; they match error codes of the wire protocol. An engine in front of
 * another service (an upstream) may also pass on any protocol code that service answered with.
 */
export type EngineErrorCode =
  | 'invalidSeedImage'
  | 'invalidMaskImage'
  | 'invalidOutpaint'
  | 'imageDimensionsTooLarge'
  | 'unknownModel'
  | 'missingDependency'
  | 'upstreamUnavailable'
  | 'upstreamTimeout'
  | 'upstreamAuthFailed'
  | 'upstreamRejected'
  | ErrorCode;

/** A failure the server can pass on to the client as an error item with `code` and `parameter`. */
export class EngineError extends Error {
  /** Stable error code, e.g. `invalidSeedImage`. */
  readonly code: EngineErrorCode;
  /** The request parameter at fault, when there is one. */
  readonly parameter?: string;

  constructor(code: EngineErrorCode, message: string, options: { parameter?: string; cause?: unknown } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'EngineError';
    this.code = code;
    if (options.parameter !== undefined) this.parameter = options.parameter;
  }
}
