// Images by imageUUID: generated results and uploads, kept for URL outputs, getResponse answers and
// reuse as seedImage/maskImage/guideImage. Bounded by total bytes (least recently used go first)
// and by age (limits and taskRetentionMs).
import type { ImageFormat } from '../engine/index.js';

/** One stored image. */
export interface StoredImage {
  readonly bytes: Uint8Array;
  readonly format: ImageFormat;
  expiresAt: number;
}

const mediaTypes: Readonly<Record<ImageFormat, string>> = { PNG: 'image/png', JPG: 'image/jpeg', WEBP: 'image/webp' };
const extensions: Readonly<Record<ImageFormat, string>> = { PNG: 'png', JPG: 'jpg', WEBP: 'webp' };

/** The media type of an encoded format. */
export function mediaTypeOf(format: ImageFormat): string {
  return mediaTypes[format];
}

/** The file extension used in image URLs. */
export function extensionOf(format: ImageFormat): string {
  return extensions[format];
}

/** The format of image bytes by their signature, or undefined for anything but PNG, JPG and WEBP. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'PNG';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'JPG';
  if (bytes.length >= 12 && String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP') return 'WEBP';
  return undefined;
}

export class ImageStore {
  /** Map order is recency: a read moves the entry to the end. */
  readonly #images = new Map<string, StoredImage>();
  readonly #maxBytes: number;
  readonly #retentionMs: number;
  #bytes = 0;

  constructor(options: { maxBytes: number; retentionMs: number }) {
    this.#maxBytes = options.maxBytes;
    this.#retentionMs = options.retentionMs;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#images.size;
  }

  put(uuid: string, bytes: Uint8Array, format: ImageFormat): void {
    this.delete(uuid);
    this.#images.set(uuid, { bytes, format, expiresAt: Date.now() + this.#retentionMs });
    this.#bytes += bytes.byteLength;
    for (const [oldest] of this.#images) {
      if (this.#bytes <= this.#maxBytes || oldest === uuid) break;
      this.delete(oldest);
    }
  }

  /** The image, refreshed as recently used, or undefined when unknown or expired. */
  get(uuid: string): StoredImage | undefined {
    const key = uuid.toLowerCase();
    const image = this.#images.get(key);
    if (image === undefined) return undefined;
    const now = Date.now();
    if (image.expiresAt <= now) {
      this.delete(key);
      return undefined;
    }
    this.#images.delete(key);
    image.expiresAt = now + this.#retentionMs;
    this.#images.set(key, image);
    return image;
  }

  delete(uuid: string): void {
    const image = this.#images.get(uuid);
    if (image === undefined) return;
    this.#images.delete(uuid);
    this.#bytes -= image.bytes.byteLength;
  }

  /** Drops expired images; called by the server's sweep. */
  sweep(now = Date.now()): void {
    for (const [uuid, image] of [...this.#images]) if (image.expiresAt <= now) this.delete(uuid);
  }

  clear(): void {
    this.#images.clear();
    this.#bytes = 0;
  }
}
