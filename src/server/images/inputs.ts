// Resolves the image inputs of a task (seedImage, maskImage, guide images, imageUpload's image)
// to encoded bytes: an earlier imageUUID from the image store, a data URI, raw base64, or an
// http(s) URL fetched under the outbound policy with a size cap and a timeout; bounded by pixels.
// Bytes an in-process face hands over directly get the same bounds.
import { parseImageRef, type ErrorCode } from '../../protocol/index.js';
import { guardedRequest, originOf, OutboundFailure } from '../outbound/guarded-http.js';
import { readImageHeader } from './header.js';
import type { ImageStore } from './store.js';
import type { Logger } from '../logger.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { TaskFailure } from '../task-failure.js';
import type { Clock } from '../../internal/clock.js';

export interface ImageInputOptions {
  /** Where images named by imageUUID are read. */
  readonly images: Pick<ImageStore, 'get'>;
  /** Largest input, decoded bytes (`imageTooLarge`; over a URL, `fetchFailed`). */
  readonly maxBytes: number;
  /** Largest width × height an input may declare (`imageDimensionsTooLarge`). */
  readonly maxPixels: number;
  readonly fetchTimeoutMs: number;
  /** Times `fetchTimeoutMs` (the server's clock). */
  readonly clock: Clock;
  /** Which URLs and addresses the server may fetch from. */
  readonly outbound: OutboundPolicy;
  /** Hears why a fetch failed; the client is only told that it did. */
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** Which parameter an input is, for its errors. */
export interface InputRole {
  readonly parameter: string;
  /** Code for an input that is not an image (e.g. invalidSeedImage). */
  readonly invalid: ErrorCode;
}

/** Redirects an input fetch follows; each hop is checked like the first. */
export const maxInputRedirects = 3;

function tooLarge(role: InputRole, max: number, got: string): TaskFailure {
  return new TaskFailure('imageTooLarge', `${role.parameter} must be at most ${max} bytes; got ${got}`, { parameter: role.parameter, type: 'string' });
}

function fromBase64(base64: string, role: InputRole, max: number): Uint8Array {
  // Base64 is 4 characters per 3 bytes; check before decoding so a huge string costs nothing more.
  const approx = Math.floor((base64.length * 3) / 4);
  if (approx > max) throw tooLarge(role, max, `about ${approx}`);
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.byteLength === 0) throw new TaskFailure(role.invalid, `${role.parameter} holds no image data`, { parameter: role.parameter, type: 'string' });
  return bytes;
}

/** Refuses an image whose header declares more than `maxPixels`; bytes that are no image are left to the decoder's checks. */
async function checkPixels(bytes: Uint8Array, role: InputRole, maxPixels: number): Promise<void> {
  const header = await readImageHeader(bytes);
  if (header === undefined) return;
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    throw new TaskFailure(
      'imageDimensionsTooLarge',
      `${role.parameter} is ${header.width}×${header.height} (${pixels} pixels); this server decodes at most ${maxPixels} pixels (limits.maxInputPixels)`,
      { parameter: role.parameter, type: 'string' },
    );
  }
}

/**
 * Fetches an image URL. Whatever goes wrong (a refused address, DNS, a closed port, an HTTP error,
 * a timeout, redirects, a body over the cap or one that is not an image) the client gets the same
 * code and message, so the server cannot be used to map what answers where; the cause is logged
 * with the URL's origin only. Bytes that are not an image are never returned, so never stored.
 */
async function fetchImage(url: string, role: InputRole, options: ImageInputOptions): Promise<Uint8Array> {
  try {
    const { body } = await guardedRequest(url, {
      kind: 'input',
      method: 'GET',
      policy: options.outbound,
      maxRedirects: maxInputRedirects,
      maxBodyBytes: options.maxBytes,
      timeoutMs: options.fetchTimeoutMs,
      clock: options.clock,
      signal: options.signal,
    });
    if ((await readImageHeader(body)) === undefined) throw new OutboundFailure('the body is not a PNG, JPG or WEBP image');
    return body;
  } catch (error) {
    if (!(error instanceof OutboundFailure)) throw error;
    options.logger.warn('input image not fetched', { parameter: role.parameter, origin: originOf(url), reason: error.message });
    throw new TaskFailure('fetchFailed', `${role.parameter} could not be fetched from its URL`, { parameter: role.parameter, type: 'string' });
  }
}

/**
 * Checks an input image given as bytes (an in-process face's, never base64-encoded on the way) by
 * the bounds a decoded data URI gets: not empty, at most `maxBytes`, at most `maxPixels`.
 */
export async function checkImageBytes(bytes: Uint8Array, role: InputRole, options: Pick<ImageInputOptions, 'maxBytes' | 'maxPixels'>): Promise<Uint8Array> {
  if (bytes.byteLength === 0) throw new TaskFailure(role.invalid, `${role.parameter} holds no image data`, { parameter: role.parameter, type: 'string' });
  if (bytes.byteLength > options.maxBytes) throw tooLarge(role, options.maxBytes, String(bytes.byteLength));
  await checkPixels(bytes, role, options.maxPixels);
  return bytes;
}

/** The encoded bytes of an image input; throws TaskFailure with the role's parameter. */
export async function resolveImageInput(value: string, role: InputRole, options: ImageInputOptions): Promise<Uint8Array> {
  const ref = parseImageRef(value);
  let bytes: Uint8Array;
  switch (ref.kind) {
    case 'uuid': {
      const stored = options.images.get(ref.uuid);
      if (stored === undefined) throw new TaskFailure('imageNotFound', `${role.parameter} names image ${ref.uuid}, which this server does not have`, { parameter: role.parameter, type: 'string' });
      // Stored images are results (at most 2048×2048) or uploads, which passed this check on the way in.
      return stored.bytes;
    }
    case 'dataURI':
    case 'base64':
      bytes = fromBase64(ref.base64, role, options.maxBytes);
      break;
    case 'url':
      bytes = await fetchImage(ref.url, role, options);
      break;
    case 'invalid':
      throw new TaskFailure(role.invalid, `${role.parameter}: ${ref.reason}`, { parameter: role.parameter, type: 'string' });
  }
  await checkPixels(bytes, role, options.maxPixels);
  return bytes;
}
