// An engine request as the imageInference request sent upstream: the same taskUUID and parameters,
// cost always asked for, and the output the server needs (a URL only when the client's can be it).
import type { ImageInferenceRequest } from '../index.js';
import type { EngineRequest, PreviewOptions } from '../engine/index.js';
import type { PreviewsOption } from '../protocol/index.js';

/** The base64 data URI of encoded image bytes, as the protocol takes input images inline. */
function dataURI(bytes: Uint8Array): string {
  return `data:${mediaTypeOf(bytes)};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

/** The media type of encoded bytes by their signature; the server has already checked they are PNG, JPG or WEBP. */
function mediaTypeOf(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[8] === 0x57) return 'image/webp';
  return 'image/png';
}

function previewsOption(previews: PreviewOptions): PreviewsOption {
  const count = previews.steps?.length;
  return count === undefined ? { maxSide: previews.maxSide, format: previews.format } : { maxSide: previews.maxSide, format: previews.format, count };
}

/**
 * The upstream request of `request`, under its taskUUID (so a retried or recovered task is asked
 * about, never paid for twice), with `includeCost` on (budgets count the upstream's cost).
 * Previews are asked for only when the client wants them; a base-protocol service never hears of
 * them (the client asks only servers that offer the extension).
 */
export function upstreamRequest(request: EngineRequest, signal: AbortSignal, timeoutMs: number): ImageInferenceRequest {
  const upstream: ImageInferenceRequest = {
    taskUUID: request.taskUUID,
    signal,
    timeoutMs,
    positivePrompt: request.positivePrompt,
    model: request.model,
    width: request.width,
    height: request.height,
    steps: request.steps,
    CFGScale: request.CFGScale,
    seed: request.seed,
    numberResults: request.numberResults,
    outputType: request.acceptsURL === true ? 'URL' : 'base64Data',
    outputFormat: request.outputFormat,
    outputQuality: request.outputQuality,
    includeCost: true,
  };
  if (request.negativePrompt !== undefined) upstream.negativePrompt = request.negativePrompt;
  if (request.scheduler !== undefined) upstream.scheduler = request.scheduler;
  if (request.seedImage !== undefined) {
    upstream.seedImage = dataURI(request.seedImage);
    upstream.strength = request.strength;
  }
  if (request.maskImage !== undefined) upstream.maskImage = dataURI(request.maskImage);
  if (request.maskMargin !== undefined) upstream.maskMargin = request.maskMargin;
  if (request.outpaint !== undefined) upstream.outpaint = request.outpaint;
  if (request.previews !== undefined) upstream.previews = previewsOption(request.previews);
  return upstream;
}
