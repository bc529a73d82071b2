// Resolves the image inputs of a task (seedImage, maskImage, guide images, imageUpload's image)
// to encoded bytes: an earlier imageUUID from the image store, a data URI, raw base64, or an
// http(s) URL fetched with a size cap and a timeout.
import { parseImageRef, type ErrorCode } from '../protocol/index.js';
import type { ImageStore } from './image-store.js';
import { TaskFailure } from './task-failure.js';

export interface ImageInputOptions {
  readonly images: ImageStore;
  readonly maxBytes: number;
  readonly fetchTimeoutMs: number;
  /** Decides which URLs the server may fetch (SSRF guard for self-hosters). */
  readonly allowUrl: (url: URL) => boolean;
  readonly signal: AbortSignal;
}

/** Which parameter an input is, for its errors. */
export interface InputRole {
  readonly parameter: string;
  /** Code for an input that is not an image (e.g. invalidSeedImage). */
  readonly invalid: ErrorCode;
}

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

async function fetchImage(url: string, role: InputRole, options: ImageInputOptions): Promise<Uint8Array> {
  const failed = (why: string, cause?: unknown): TaskFailure =>
    new TaskFailure('fetchFailed', `${role.parameter} could not be fetched from its URL: ${why}`, { parameter: role.parameter, type: 'string', cause });
  if (!options.allowUrl(new URL(url))) throw failed('this server does not fetch that URL');
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.fetchTimeoutMs)]);
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    throw failed(signal.aborted ? `no answer within ${options.fetchTimeoutMs} ms` : 'the request failed', error);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw failed(`HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(role, options.maxBytes, String(declared));
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    if (response.body !== null) {
      for await (const chunk of response.body) {
        total += chunk.byteLength;
        if (total > options.maxBytes) {
          await response.body.cancel().catch(() => undefined);
          throw tooLarge(role, options.maxBytes, `more than ${options.maxBytes}`);
        }
        chunks.push(chunk);
      }
    }
  } catch (error) {
    if (error instanceof TaskFailure) throw error;
    if (options.signal.aborted) throw options.signal.reason;
    throw failed('the download broke off', error);
  }
  return Buffer.concat(chunks, total);
}

/** The encoded bytes of an image input; throws TaskFailure with the role's parameter. */
export async function resolveImageInput(value: string, role: InputRole, options: ImageInputOptions): Promise<Uint8Array> {
  const ref = parseImageRef(value);
  switch (ref.kind) {
    case 'uuid': {
      const stored = options.images.get(ref.uuid);
      if (stored === undefined) throw new TaskFailure('imageNotFound', `${role.parameter} names image ${ref.uuid}, which this server does not have`, { parameter: role.parameter, type: 'string' });
      return stored.bytes;
    }
    case 'dataURI':
    case 'base64':
      return fromBase64(ref.base64, role, options.maxBytes);
    case 'url':
      return fetchImage(ref.url, role, options);
    case 'invalid':
      throw new TaskFailure(role.invalid, `${role.parameter}: ${ref.reason}`, { parameter: role.parameter, type: 'string' });
  }
}
