// The imagine endpoint's images in Redis, so any node serves a published image's URL and an owner's
// private ones; bounded as src/server/imagine/store.ts is, with a lifetime for unpublished ones too.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { guarded, RedisReplyError } from './errors.js';
import { ClusterKeys } from './keys.js';
import { defineScripts, list, num, str } from './scripts.js';
import { IMAGINE_ADD, IMAGINE_DELETE, IMAGINE_PUBLISH, IMAGINE_SWEEP } from './imagine-scripts.js';

/** The bounds of the imagine store, as the in-memory store takes them (imagine/store.ts ImagineLimits). */
export interface ImagineLimits {
  readonly maxPublished: number;
  /** @default maxPublished */
  readonly maxPublishedPerKey?: number;
  readonly maxUnpublished: number;
  /** @default maxUnpublished */
  readonly maxUnpublishedPerKey?: number;
  /** @default Infinity */
  readonly publishedLifetimeMs?: number;
}

/** Options of {@link RedisImagineStore}. */
export interface RedisImagineStoreOptions {
  readonly redis: Redis;
  readonly limits: ImagineLimits;
  /**
   * How long an unpublished image is kept, ms. The in-memory store keeps them until its count bound
   * pushes them out; in Redis every key but a published image's must expire. @default 86_400_000 (24 h)
   */
  readonly unpublishedLifetimeMs?: number;
  /** @default "iw:" */
  readonly keyPrefix?: string;
}

/** One imagined image as read back. */
export interface RedisImaginedImage {
  readonly id: string;
  readonly owner: string;
  readonly name: string;
  readonly bytes: Buffer;
  readonly width: number;
  readonly height: number;
  readonly format: 'png';
  readonly createdAt: Date;
  readonly published: boolean;
  /** When a published image is forgotten (epoch ms); Infinity while unpublished or with no lifetime. */
  readonly expiresAt: number;
}

/**
 * A name as the hash keeps it: JSON, because a request's name may hold lone surrogates, which UTF-8
 * cannot carry (they would come back as U+FFFD, where the in-memory store keeps them).
 */
function encodeName(name: string): string {
  return JSON.stringify(name);
}

/** A name read back; a value that is not a JSON string is taken as it is. */
function decodeName(stored: string): string {
  try {
    const name: unknown = JSON.parse(stored);
    return typeof name === 'string' ? name : stored;
  } catch {
    return stored;
  }
}

/** The outcome of a publish, as the in-memory store's. */
export type RedisPublishResult = { ok: true; expiresAt: number } | { ok: false; reason: 'notFound' | 'full' | 'shareFull' };

/**
 * Imagined images of every node. Published images keep no TTL when their lifetime is unlimited
 * (the one kind of key allowed none), else expire with it; unpublished ones expire after
 * `unpublishedLifetimeMs` and are bounded per key and in total (the key over its share, or the one
 * holding the most, loses its oldest). Publishing past a bound is refused.
 */
export class RedisImagineStore {
  readonly keys: ClusterKeys;
  readonly #redis: Redis;
  readonly #limits: Required<ImagineLimits>;
  readonly #lifetimes: [number, number];
  readonly #scripts;

  constructor(options: RedisImagineStoreOptions) {
    this.#redis = options.redis;
    this.keys = new ClusterKeys(options.keyPrefix);
    const limits = options.limits;
    this.#limits = {
      maxPublished: limits.maxPublished,
      maxPublishedPerKey: limits.maxPublishedPerKey ?? limits.maxPublished,
      maxUnpublished: limits.maxUnpublished,
      maxUnpublishedPerKey: limits.maxUnpublishedPerKey ?? limits.maxUnpublished,
      publishedLifetimeMs: limits.publishedLifetimeMs ?? Number.POSITIVE_INFINITY,
    };
    const published = Number.isFinite(this.#limits.publishedLifetimeMs) ? Math.max(1, this.#limits.publishedLifetimeMs) : 0;
    this.#lifetimes = [options.unpublishedLifetimeMs ?? 86_400_000, published];
    this.#scripts = defineScripts(options.redis, 'imagine', {
      add: { keys: 1, lua: IMAGINE_ADD },
      publish: { keys: 1, lua: IMAGINE_PUBLISH },
      delete: { keys: 1, lua: IMAGINE_DELETE },
      sweep: { keys: 0, lua: IMAGINE_SWEEP },
    });
  }

  #argv(): [string, number, number] {
    return [this.keys.prefix, ...this.#lifetimes];
  }

  /** Stores a new, unpublished image and gives it an id; an older unpublished one may go to make room. */
  async add(image: { readonly owner: string; readonly name: string; readonly bytes: Uint8Array; readonly width: number; readonly height: number; readonly createdAt: Date }): Promise<string> {
    const id = `image_${randomBytes(16).toString('hex')}`;
    const bytes = Buffer.isBuffer(image.bytes) ? image.bytes : Buffer.from(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength);
    await guarded('imagine add', () =>
      this.#scripts.add.call(this.keys.imagine(id), ...this.#argv(), id, image.owner, encodeName(image.name), image.width, image.height, image.createdAt.getTime(), bytes, this.#limits.maxUnpublishedPerKey, this.#limits.maxUnpublished),
    );
    return id;
  }

  /** The image when `owner` made it; undefined otherwise (another key's image is "not found"). */
  async get(id: string, owner: string): Promise<RedisImaginedImage | undefined> {
    const image = await this.#read(id);
    return image?.owner === owner ? image : undefined;
  }

  /** A published image, for anyone. */
  async getPublished(id: string): Promise<RedisImaginedImage | undefined> {
    const image = await this.#read(id);
    return image?.published === true ? image : undefined;
  }

  /** Makes an image public until its lifetime ends; publishing a published image again changes nothing. */
  async publish(id: string, owner: string): Promise<RedisPublishResult> {
    const reply = list(await guarded('imagine publish', () => this.#scripts.publish.call(this.keys.imagine(id), ...this.#argv(), id, owner, this.#limits.maxPublished, this.#limits.maxPublishedPerKey)));
    const kind = str(reply[0]);
    if (kind === 'ok') return { ok: true, expiresAt: str(reply[1]) === '' ? Number.POSITIVE_INFINITY : num(reply[1]) };
    if (kind === 'notFound' || kind === 'full' || kind === 'shareFull') return { ok: false, reason: kind };
    throw new RedisReplyError(`imagine publish answered ${kind}`);
  }

  /** Deletes an image of `owner`, published or not; false when it has none by that id. */
  async delete(id: string, owner: string): Promise<boolean> {
    return num(await guarded('imagine delete', () => this.#scripts.delete.call(this.keys.imagine(id), ...this.#argv(), id, owner))) === 1;
  }

  /** Forgets the accounting of up to `limit` images Redis expired. */
  async sweep(limit = 1000): Promise<number> {
    return num(await guarded('imagine sweep', () => this.#scripts.sweep.call(...this.#argv(), limit)));
  }

  /** Published images of `owner` and in all. */
  async publishedCount(owner: string): Promise<{ owner: number; total: number }> {
    const [mine, total] = await guarded('imagine usage', () => Promise.all([this.#redis.zscore(`${this.keys.prefix}ip:amt`, owner), this.#redis.get(`${this.keys.prefix}ip:tot`)]));
    return { owner: Number(mine ?? 0), total: Number(total ?? 0) };
  }

  async #read(id: string): Promise<RedisImaginedImage | undefined> {
    if (!/^image_[0-9a-f]{32}$/.test(id)) return undefined;
    const [o, name, w, h, c, p, x, d] = await guarded('imagine get', () => this.#redis.hmgetBuffer(this.keys.imagine(id), 'o', 'name', 'w', 'h', 'c', 'p', 'x', 'd'));
    if (o == null || d == null) return undefined;
    const until = x?.toString('latin1') ?? '';
    return {
      id,
      owner: o.toString('utf8'),
      name: decodeName(name?.toString('utf8') ?? ''),
      bytes: d,
      width: Number(w?.toString('latin1')),
      height: Number(h?.toString('latin1')),
      format: 'png',
      createdAt: new Date(Number(c?.toString('latin1'))),
      published: p?.toString('latin1') === '1',
      expiresAt: until === '' ? Number.POSITIVE_INFINITY : Number(until),
    };
  }
}
