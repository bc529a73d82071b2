// Stored images in Redis (results and uploads by imageUUID), so any node serves /images/<uuid>.<ext>,
// getResponse and reuse by UUID; bounded by bytes in total and per key as the in-memory store is.
import type { Redis } from 'ioredis';
import type { ImageFormat } from '../../engine/index.js';
import type { ServerLimits } from '../limits.js';
import { guarded } from './errors.js';
import { ClusterKeys } from './keys.js';
import { defineScripts, num } from './scripts.js';
import { IMAGE_DELETE, IMAGE_PUT, IMAGE_SWEEP, IMAGE_TOUCH } from './image-scripts.js';

/** Options of {@link RedisImageStore}. */
export interface RedisImageStoreOptions {
  readonly redis: Redis;
  readonly limits: Pick<ServerLimits, 'maxStoredImageBytes' | 'maxStoredImageBytesPerKey'>;
  /** How long an image is kept after its last use, ms (taskRetentionMs). @default 600_000 */
  readonly retentionMs?: number;
  /** @default "iw:" */
  readonly keyPrefix?: string;
}

/** One stored image as read back. */
export interface RedisStoredImage {
  readonly uuid: string;
  readonly bytes: Buffer;
  readonly format: ImageFormat;
  readonly owner: string;
}

const formats: readonly ImageFormat[] = ['PNG', 'JPG', 'WEBP'];

/**
 * Images of every node. The eviction rule is the in-memory store's (owner-shares.ts): a key past
 * its share loses its own least recently used images; past the total, the key holding the most
 * does, if it holds more than the key adding, else the adding key's own go. One key never evicts
 * another below its share. Every image and account expires `retentionMs` after its last use.
 */
export class RedisImageStore {
  readonly keys: ClusterKeys;
  readonly retentionMs: number;
  readonly #redis: Redis;
  readonly #limits: RedisImageStoreOptions['limits'];
  readonly #scripts;

  constructor(options: RedisImageStoreOptions) {
    this.#redis = options.redis;
    this.keys = new ClusterKeys(options.keyPrefix);
    this.retentionMs = options.retentionMs ?? 600_000;
    this.#limits = options.limits;
    this.#scripts = defineScripts(options.redis, 'image', {
      put: { keys: 1, lua: IMAGE_PUT },
      touch: { keys: 1, lua: IMAGE_TOUCH },
      delete: { keys: 1, lua: IMAGE_DELETE },
      sweep: { keys: 0, lua: IMAGE_SWEEP },
    });
  }

  /** Stores an image of `owner`; older images go to make room (never this one). Returns how many went. */
  async put(uuid: string, bytes: Uint8Array, format: ImageFormat, owner: string): Promise<number> {
    const id = uuid.toLowerCase();
    const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return num(await guarded('image put', () => this.#scripts.put.call(this.keys.image(id), this.keys.prefix, this.retentionMs, id, owner, format, data, this.#limits.maxStoredImageBytesPerKey, this.#limits.maxStoredImageBytes)));
  }

  /** The image, marked used and kept another retention time; undefined when unknown or expired. */
  async get(uuid: string): Promise<RedisStoredImage | undefined> {
    const id = uuid.toLowerCase();
    const key = this.keys.image(id);
    // Sent together on one connection, so Redis runs the touch, then the read.
    const [, read] = await guarded('image get', () => Promise.all([this.#scripts.touch.call(key, this.keys.prefix, this.retentionMs, id), this.#redis.hmgetBuffer(key, 'f', 'o', 'd')]));
    const [format, owner, bytes] = read;
    const known = formats.find((f) => f === format?.toString('latin1'));
    if (known === undefined || owner == null || bytes == null) return undefined;
    return { uuid: id, bytes, format: known, owner: owner.toString('utf8') };
  }

  async delete(uuid: string): Promise<boolean> {
    const id = uuid.toLowerCase();
    return num(await guarded('image delete', () => this.#scripts.delete.call(this.keys.image(id), this.keys.prefix, this.retentionMs, id))) === 1;
  }

  /** Forgets the accounting of up to `limit` images Redis expired. */
  async sweep(limit = 1000): Promise<number> {
    return num(await guarded('image sweep', () => this.#scripts.sweep.call(this.keys.prefix, this.retentionMs, limit)));
  }

  /** Bytes `owner` holds, and all owners together, as the bounds count them. */
  async usage(owner: string): Promise<{ owner: number; total: number }> {
    const [mine, total] = await guarded('image usage', () => Promise.all([this.#redis.zscore(`${this.keys.prefix}ib:amt`, owner), this.#redis.get(`${this.keys.prefix}ib:tot`)]));
    return { owner: Number(mine ?? 0), total: Number(total ?? 0) };
  }
}
