// The images of POST /v1/images/imagine, owned by the key that made them and private until published;
// bounded by counts in total and per key (publishing past a bound is refused; the oldest unpublished
// image of the key over its share goes first), published ones expire, and an owner may delete its own.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../internal/clock.js';
import { OwnerShares, unshared, type ShareNode } from '../owner-shares.js';

/** One imagined image. */
export interface ImaginedImage {
  /** `image_` and 32 hex digits: unguessable, since a published image is served to anyone by it. */
  readonly id: string;
  /** Key digest (ownerOf) of the key that made it. */
  readonly owner: string;
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly format: 'png';
  readonly createdAt: Date;
  published: boolean;
  /** When a published image is forgotten (epoch ms); Infinity while unpublished. */
  expiresAt: number;
}

/** Bounds of the store. */
export interface ImagineLimits {
  /** Published images kept; publishing more is refused. */
  readonly maxPublished: number;
  /** Published images of one key; publishing more is refused. @default maxPublished */
  readonly maxPublishedPerKey?: number;
  /** Unpublished images kept; beyond it the key holding the most loses its oldest unpublished one (it then 404s). */
  readonly maxUnpublished: number;
  /** Unpublished images of one key; beyond it the key's own oldest unpublished one goes. @default maxUnpublished */
  readonly maxUnpublishedPerKey?: number;
  /** How long a published image is kept after publishing, ms. @default Infinity */
  readonly publishedLifetimeMs?: number;
}

/** An image as the store keeps it: counted in its key's share of the drafts or of the published. */
interface Kept extends ImaginedImage, ShareNode {}

/** The outcome of a publish: the image, or why not (`full`: the total; `shareFull`: the key's share). */
export type PublishResult = { ok: true; image: ImaginedImage } | { ok: false; reason: 'notFound' | 'full' | 'shareFull' };

/**
 * The imagined images as the imagine endpoint uses them. Every caller is an HTTP handler that
 * already awaits, so a shared implementation (cluster mode) answers with promises at no cost to the
 * task path; the bounds are the store's own, as the per-key counts must be atomic there.
 */
export interface ImagineStore {
  /** The bounds, with their defaults applied (error messages name them). */
  readonly limits: Required<ImagineLimits>;
  /** Stores a new, unpublished image and gives it an id; an older unpublished one may go to make room. */
  add(image: Omit<ImaginedImage, 'id' | 'published' | 'expiresAt'>): ImaginedImage | Promise<ImaginedImage>;
  /** The image when `owner` made it; undefined otherwise (another key's image is "not found"). */
  get(id: string, owner: string): ImaginedImage | undefined | Promise<ImaginedImage | undefined>;
  /** Makes an image public until its lifetime ends; publishing a published image again changes nothing. */
  publish(id: string, owner: string): PublishResult | Promise<PublishResult>;
  /** Deletes an image of `owner`, published or not; false when it has none by that id. */
  delete(id: string, owner: string): boolean | Promise<boolean>;
  /** A published image, for anyone. */
  getPublished(id: string): ImaginedImage | undefined | Promise<ImaginedImage | undefined>;
  /** Forgets published images whose lifetime ended; the server calls it now and then. */
  sweep(): void;
  /** Forgets every image (a restart without keepState, or close). */
  clear(): void;
}

/** Imagined images by id, with their owners and the publish state, in this process's memory. */
export class MemoryImagineStore implements ImagineStore {
  readonly #images = new Map<string, Kept>();
  /** Unpublished images by owner, oldest first. */
  readonly #drafts: OwnerShares<Kept>;
  /** Published images by owner. */
  readonly #published: OwnerShares<Kept>;
  /** Published images in publish order, which is expiry order (one lifetime for all). */
  readonly #expiring = new Map<string, Kept>();
  readonly #limits: Required<ImagineLimits>;
  readonly #clock: Clock;

  constructor(limits: ImagineLimits, clock: Clock) {
    this.#limits = {
      maxPublished: limits.maxPublished,
      maxPublishedPerKey: limits.maxPublishedPerKey ?? limits.maxPublished,
      maxUnpublished: limits.maxUnpublished,
      maxUnpublishedPerKey: limits.maxUnpublishedPerKey ?? limits.maxUnpublished,
      publishedLifetimeMs: limits.publishedLifetimeMs ?? Number.POSITIVE_INFINITY,
    };
    this.#drafts = new OwnerShares({ total: this.#limits.maxUnpublished, perOwner: this.#limits.maxUnpublishedPerKey });
    this.#published = new OwnerShares({ total: this.#limits.maxPublished, perOwner: this.#limits.maxPublishedPerKey });
    this.#clock = clock;
  }

  get limits(): Required<ImagineLimits> {
    return this.#limits;
  }

  /** Images held, published or not. */
  get size(): number {
    this.#expire();
    return this.#images.size;
  }

  get publishedCount(): number {
    this.#expire();
    return this.#published.total;
  }

  /** Published images of `owner`. */
  publishedBy(owner: string): number {
    this.#expire();
    return this.#published.amountOf(owner);
  }

  /** Stores a new, unpublished image and gives it an id; an older unpublished one may go to make room. */
  add(image: Omit<ImaginedImage, 'id' | 'published' | 'expiresAt'>): ImaginedImage {
    this.#expire();
    const stored: Kept = { ...image, id: `image_${randomBytes(16).toString('hex')}`, published: false, expiresAt: Number.POSITIVE_INFINITY, ...unshared() };
    this.#images.set(stored.id, stored);
    this.#drafts.add(stored.owner, stored, 1);
    for (;;) {
      const room = this.#drafts.room(stored.owner, 0);
      if (room.kind !== 'evict' || room.key === stored) break;
      this.#remove(room.key.id);
    }
    return stored;
  }

  /** The image when `owner` made it; undefined otherwise (another key's image is "not found"). */
  get(id: string, owner: string): ImaginedImage | undefined {
    return this.#own(id, owner);
  }

  #own(id: string, owner: string): Kept | undefined {
    this.#expire();
    const image = this.#images.get(id);
    return image !== undefined && image.owner === owner ? image : undefined;
  }

  /** Makes an image public until its lifetime ends; publishing a published image again changes nothing. */
  publish(id: string, owner: string): PublishResult {
    const image = this.#own(id, owner);
    if (image === undefined) return { ok: false, reason: 'notFound' };
    if (image.published) return { ok: true, image };
    if (this.#published.total >= this.#limits.maxPublished) return { ok: false, reason: 'full' };
    if (this.#published.amountOf(owner) >= this.#limits.maxPublishedPerKey) return { ok: false, reason: 'shareFull' };
    image.published = true;
    image.expiresAt = this.#clock.now() + this.#limits.publishedLifetimeMs;
    this.#drafts.delete(image);
    this.#published.add(owner, image, 1);
    this.#expiring.set(id, image);
    return { ok: true, image };
  }

  /** Deletes an image of `owner`, published or not; false when it has none by that id. */
  delete(id: string, owner: string): boolean {
    if (this.get(id, owner) === undefined) return false;
    this.#remove(id);
    return true;
  }

  /** A published image, for anyone. */
  getPublished(id: string): ImaginedImage | undefined {
    this.#expire();
    const image = this.#images.get(id);
    return image?.published === true ? image : undefined;
  }

  /** Forgets published images whose lifetime ended (reads do too; this frees them without one). */
  sweep(): void {
    this.#expire();
  }

  clear(): void {
    this.#images.clear();
    this.#drafts.clear();
    this.#published.clear();
    this.#expiring.clear();
  }

  /** Forgets published images whose lifetime ended: the oldest first, so this stops at the first alive. */
  #expire(): void {
    if (this.#expiring.size === 0) return;
    const now = this.#clock.now();
    for (const [id, image] of this.#expiring) {
      if (image.expiresAt > now) return;
      this.#remove(id);
    }
  }

  #remove(id: string): void {
    const image = this.#images.get(id);
    if (image === undefined) return;
    this.#images.delete(id);
    if (image.published) {
      this.#published.delete(image);
      this.#expiring.delete(id);
    } else {
      this.#drafts.delete(image);
    }
  }
}
