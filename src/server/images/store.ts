// Images by imageUUID: generated results and uploads, kept for URL outputs, getResponse answers and
// reuse as seedImage/maskImage/guideImage. Bounded by age (taskRetentionMs) and by bytes, in total
// and per key: a key past its share loses its own least recently used images, and past the total
// the key holding the most does, so one key's traffic never evicts another key's images.
import type { ImageFormat } from '../../engine/index.js';
import type { Clock } from '../../internal/clock.js';
import { OwnerShares, type ShareNode } from '../owner-shares.js';

/** One stored image. */
export interface StoredImage {
  readonly uuid: string;
  readonly bytes: Uint8Array;
  readonly format: ImageFormat;
  /** Key digest of the task that made or uploaded it. */
  readonly owner: string;
}

/**
 * The image store as the rest of the server uses it. A shared implementation would answer `put` and
 * `get` with promises (a task's finals and its input images by UUID, the image URLs); they are
 * synchronous here because the memory store needs no turn of the event loop on the task path.
 */
export interface ImageStore {
  /** Stores an image of `owner` under `uuid`; older images may go to make room, never this one. */
  put(uuid: string, bytes: Uint8Array, format: ImageFormat, owner: string): void;
  /** The image, kept longer as it was just used; undefined when unknown or expired. */
  get(uuid: string): StoredImage | undefined;
  /** Forgets expired images; the server calls it now and then. */
  sweep(): void;
  /** Forgets every image (a restart without keepState, or close). */
  clear(): void;
}

/** An image as the memory store keeps it: counted in its key's share, with its expiry. */
interface KeptImage extends StoredImage, ShareNode {
  expiresAt: number;
}

const extensions: Readonly<Record<ImageFormat, string>> = { PNG: 'png', JPG: 'jpg', WEBP: 'webp' };

/** The file extension used in image URLs. */
export function extensionOf(format: ImageFormat): string {
  return extensions[format];
}

/** The image store in this process's memory. */
export class MemoryImageStore implements ImageStore {
  readonly #images = new Map<string, KeptImage>();
  /** Bytes by owner, each owner's images least recently used first. */
  readonly #shares: OwnerShares<KeptImage>;
  readonly #retentionMs: number;
  readonly #clock: Clock;

  constructor(options: { maxBytes: number; maxBytesPerKey?: number; retentionMs: number; clock: Clock }) {
    this.#shares = new OwnerShares({ total: options.maxBytes, perOwner: options.maxBytesPerKey ?? options.maxBytes });
    this.#retentionMs = options.retentionMs;
    this.#clock = options.clock;
  }

  get bytes(): number {
    return this.#shares.total;
  }

  get size(): number {
    return this.#images.size;
  }

  put(uuid: string, bytes: Uint8Array, format: ImageFormat, owner: string): void {
    this.delete(uuid);
    const image: KeptImage = {
      uuid,
      bytes,
      format,
      owner,
      expiresAt: this.#clock.now() + this.#retentionMs,
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

  get(uuid: string): StoredImage | undefined {
    const key = uuid.toLowerCase();
    const image = this.#images.get(key);
    if (image === undefined) return undefined;
    const now = this.#clock.now();
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

  sweep(): void {
    const now = this.#clock.now();
    for (const [uuid, image] of this.#images) if (image.expiresAt <= now) this.delete(uuid);
  }

  clear(): void {
    this.#images.clear();
    this.#shares.clear();
  }
}
