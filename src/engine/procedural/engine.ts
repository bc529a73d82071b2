// The procedural engine: a fast, deterministic stand-in for a diffusion model with the same request
// shape, preview stream and timing knobs. It is not a neural network; it paints prompt-coloured noise,
// and its previews sharpen from a coarse version of the final picture as a diffusion model's do.

import { EngineError, type Engine, type EngineEvent, type EngineRequest } from '../engine.js';
import { loadSharp } from '../sharp.js';
import { resultSeed } from '../seeds.js';
import { sleep } from '../sleep.js';
import { compose } from './compose.js';
import { previewFrame, previewSize, previewSource } from './denoise.js';
import { encodeRgb, resizeRgb } from './images.js';
import { prepareImages } from './inputs.js';
import { catalogue, resolveModel, styles } from './models.js';
import { readPrompt } from './colour/prompt-palette.js';
import { hashParts } from './random.js';
import { renderScene } from './render.js';
import { buildScene } from './scene.js';

/** Options of {@link createProceduralEngine}. */
export interface ProceduralEngineOptions {
  /**
   * Delay per denoising step in milliseconds, with or without previews, so clients see realistic
   * timing and can cancel mid-task. Default 40; use 0 in tests.
   */
  stepDelayMs?: number;
}

/** Encoder quality of previews when the request does not give one. */
const defaultPreviewQuality = 50;

/** The delay per step when none is given, ms: slow enough to watch previews form. */
export const DEFAULT_STEP_DELAY_MS = 40;

/**
 * Creates the built-in procedural engine. The same request always yields byte-identical images, and
 * result k of seed s is the image of seed s + k. It runs the models in its catalogue and any other
 * `runware:`, `civitai:` or `imagewire:` AIR id (mapped onto a catalogue look).
 *
 * How it reads a request: colour words in the prompt (and, more weakly, scene words such as "sky")
 * make the palette, negative-prompt colours are pushed out, other words reshape the layout through a
 * hash; more `steps` add finer octaves of detail; a higher `CFGScale` raises saturation and contrast.
 * The seed image is stretched to width × height and blended by `strength`; a mask repaints where it is
 * white (≥ 128) and keeps everything else exactly, with `maskMargin` feathering the edge inward;
 * outpainting keeps the seed image's size, places it at (left, top) and blurs a seam of `blur` pixels.
 * `scheduler` is accepted and ignored. Seeds run to 2^63 - 1 exactly (bigints above 2^53 - 1):
 * neighbouring seeds, however large, give different pictures.
 */
export function createProceduralEngine(options: ProceduralEngineOptions = {}): Engine {
  const stepDelayMs = options.stepDelayMs ?? DEFAULT_STEP_DELAY_MS;
  if (!Number.isFinite(stepDelayMs) || stepDelayMs < 0) {
    throw new RangeError(`stepDelayMs must be a finite number of milliseconds >= 0; got ${stepDelayMs}`);
  }
  return {
    name: 'procedural',
    models: () => catalogue,
    hasModel: (model) => resolveModel(model) !== undefined,
    generate: (request, { signal }) => generate(request, signal, stepDelayMs),
  };
}

async function* generate(request: EngineRequest, signal: AbortSignal, stepDelayMs: number): AsyncGenerator<EngineEvent, void, undefined> {
  signal.throwIfAborted();
  const model = resolveModel(request.model);
  if (model === undefined) {
    throw new EngineError('unknownModel', `The procedural engine cannot run model ${request.model}`, { parameter: 'model' });
  }
  const sharp = await loadSharp();
  const prepared = await prepareImages(sharp, request);
  signal.throwIfAborted();
  const look = readPrompt(request.positivePrompt, request.negativePrompt);
  const style = styles[model.style];
  const { width, height, steps, previews } = request;
  const previewAt = previews?.steps === undefined ? undefined : new Set(previews.steps);

  for (let index = 0; index < request.numberResults; index++) {
    const seed = resultSeed(request.seed, index);
    const scene = buildScene(look, style, {
      width,
      height,
      steps,
      CFGScale: request.CFGScale,
      // The negative prompt is left out so that it changes colours, not the composition.
      seed: hashParts(seed, request.positivePrompt, request.model),
    });
    const picture = compose(renderScene(scene), prepared, request.strength);

    let source: ReturnType<typeof previewSource> | undefined;
    if (previews !== undefined) {
      const size = previewSize(width, height, previews.maxSide);
      source = previewSource(await resizeRgb(sharp, picture, size.width, size.height));
    }
    for (let step = 1; step <= steps; step++) {
      if (stepDelayMs > 0) await sleep(stepDelayMs, signal);
      else signal.throwIfAborted();
      if (source === undefined || previews === undefined || (previewAt !== undefined && !previewAt.has(step))) continue;
      const frame = previewFrame(source, step, steps);
      const image = await encodeRgb(sharp, frame, previews.format, previews.quality ?? defaultPreviewQuality);
      signal.throwIfAborted();
      yield { kind: 'preview', index, step, steps, image, format: previews.format, width: frame.width, height: frame.height };
    }

    const image = await encodeRgb(sharp, picture, request.outputFormat, request.outputQuality);
    signal.throwIfAborted();
    yield { kind: 'final', index, seed, image, format: request.outputFormat, width, height };
  }
}
