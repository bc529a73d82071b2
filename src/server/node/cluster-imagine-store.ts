// The imagine endpoint's ImagineStore on Redis (RedisImagineStore), so every node serves an owner's
// images and the public URLs of published ones.
import type { Redis } from 'ioredis';
import { RedisImagineStore, type RedisImaginedImage } from '../cluster/imagine-store.js';
import type { ImagineLimits, ImagineStore, ImaginedImage, PublishResult } from '../imagine/store.js';
import type { ResolvedServerOptions } from '../options.js';
import { errorMessage, type Logger } from '../logger.js';

/** A kept image as the endpoint reads it. */
function imageOf(image: RedisImaginedImage): ImaginedImage {
  return { ...image };
}

/** The imagine store of a cluster node. */
export class ClusterImagineStore implements ImagineStore {
  readonly #store: RedisImagineStore;
  readonly #logger: Logger;
  readonly limits: Required<ImagineLimits>;

  constructor(redis: Redis, options: ResolvedServerOptions) {
    const { limits } = options;
    this.limits = {
      maxPublished: limits.maxPublishedImages,
      maxPublishedPerKey: limits.maxPublishedImagesPerKey,
      maxUnpublished: limits.maxImaginedImages,
      maxUnpublishedPerKey: limits.maxImaginedImagesPerKey,
      publishedLifetimeMs: limits.publishedImageLifetimeMs,
    };
    this.#store = new RedisImagineStore({ redis, limits: this.limits, keyPrefix: options.keyPrefix });
    this.#logger = options.logger;
  }

  async add(image: Omit<ImaginedImage, 'id' | 'published' | 'expiresAt'>): Promise<ImaginedImage> {
    const id = await this.#store.add(image);
    return { ...image, id, published: false, expiresAt: Number.POSITIVE_INFINITY };
  }

  async get(id: string, owner: string): Promise<ImaginedImage | undefined> {
    const image = await this.#store.get(id, owner);
    return image === undefined ? undefined : imageOf(image);
  }

  async publish(id: string, owner: string): Promise<PublishResult> {
    const result = await this.#store.publish(id, owner);
    if (!result.ok) return result;
    const image = await this.#store.get(id, owner);
    return image === undefined ? { ok: false, reason: 'notFound' } : { ok: true, image: imageOf(image) };
  }

  delete(id: string, owner: string): Promise<boolean> {
    return this.#store.delete(id, owner);
  }

  async getPublished(id: string): Promise<ImaginedImage | undefined> {
    const image = await this.#store.getPublished(id);
    return image === undefined ? undefined : imageOf(image);
  }

  /** Forgets the accounting of expired images (Redis expires the images themselves). */
  sweep(): void {
    this.#store.sweep().catch((error: unknown) => this.#logger.warn('imagine sweep failed', { error: errorMessage(error) }));
  }

  /** The images are the cluster's: a node's restart forgets none. */
  clear(): void {
    // Nothing is held in this process.
  }
}
