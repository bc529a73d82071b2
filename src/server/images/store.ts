// Images by imageUUID: generated results and uploads, kept for URL outputs, getResponse answers and
// reuse as seedImage/maskImage/guideImage. Bounded by age (taskRetentionMs) and by bytes, in total
// and per key: a key past its share loses its own least recently used images, and past the total
// the key holding the most does, so one key's traffic never evicts another key's images.
import type { ImageFormat } from '../../engine/index.js';
import { OwnerShares, type ShareNode } from '../owner-shares.js';

/** One stored image; it counts in its key's share of the store. */
export interface StoredImage extends ShareNode {
  readonly uuid: string;
  readonly bytes: Uint8Array;
  readonly format: ImageFormat;
  /** Key digest of the task that made or uploaded it. */
  readonly owner: string;
  expiresAt: number;
}

const extensions: Readonly<Record<ImageFormat, string>> = { PNG: 'png', JPG: 'jpg', WEBP: 'webp' };

/** The file extension used in image URLs. */
export function extensionOf(format: ImageFormat): string {
  return extensions[format];
}

export class ImageStore {
  readonly #images = new Map<string, StoredImage>();
  /** Bytes by owner, each owner's images least recently used first. */
  readonly #shares: OwnerShares<StoredImage>;
  readonly #retentionMs: number;

  constructor(options: { maxBytes: number; maxBytesPerKey?: number; retentionMs: number }) {
    this.#shares = new OwnerShares({ total: options.maxBytes, perOwner: options.maxBytesPerKey ?? options.maxBytes });
    this.#retentionMs = options.retentionMs;
  }

  get bytes(): number {
    return this.#shares.total;
  }

  get size(): number {
    return this.#images.size;
  }

  /** Stores an image of `owner`; older images go to make room (never the new one). */
  put(uuid: string, bytes: Uint8Array, format: ImageFormat, owner: string): void {
    this.delete(uuid);
    const image: StoredImage = {
      uuid,
      bytes,
      format,
      owner,
      expiresAt: Date.now() + this.#retentionMs,
      shareAccount: undefined,
      sharePrev: undefined,
      shareNext: undefined,
      sharePinned: false,
      shareAmount: 0,
    };
    this.#images.set(uuid, image);
    this.#shares.add(owner, image, bytes.byteLength);
    for (;;) {
      const room = this.#shares.room(owner, 0);
      if (room.kind !== 'evict' || room.key === image) break;
      this.delete(room.key.uuid);
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
    this.#shares.touch(image);
    image.expiresAt = now + this.#retentionMs;
    return image;
  }

  delete(uuid: string): void {
    const image = this.#images.get(uuid);
    if (image === undefined) return;
    this.#images.delete(uuid);
    this.#shares.delete(image);
  }

  /** Drops expired images; called by the server's sweep. */
  sweep(now = Date.now()): void {
    for (const [uuid, image] of this.#images) if (image.expiresAt <= now) this.delete(uuid);
  }

  clear(): void {
    this.#images.clear();
    this.#shares.clear();
  }
}
