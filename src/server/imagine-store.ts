// The images of POST /v1/images/imagine, owned by the key that made them and private until published;
// bounded by counts (published ones kept while the server runs, the oldest unpublished dropped first).
import { randomBytes } from 'node:crypto';

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
}

/** Bounds of the store. */
export interface ImagineLimits {
  /** Published images kept; publishing more is refused. */
  readonly maxPublished: number;
  /** Unpublished images kept; beyond it the oldest unpublished one is dropped (it then 404s). */
  readonly maxUnpublished: number;
}

/** Why a publish was refused. */
export type PublishResult = { ok: true; image: ImaginedImage } | { ok: false; reason: 'notFound' | 'full' };

/** Imagined images by id, with their owners and the publish state. */
export class ImagineStore {
  /** Map order is creation order, so the first unpublished entry is the oldest. */
  readonly #images = new Map<string, ImaginedImage>();
  readonly #limits: ImagineLimits;
  #published = 0;

  constructor(limits: ImagineLimits) {
    this.#limits = limits;
  }

  get limits(): ImagineLimits {
    return this.#limits;
  }

  /** Images held, published or not. */
  get size(): number {
    return this.#images.size;
  }

  get publishedCount(): number {
    return this.#published;
  }

  /** Stores a new, unpublished image and gives it an id. */
  add(image: Omit<ImaginedImage, 'id' | 'published'>): ImaginedImage {
    const stored: ImaginedImage = { ...image, id: `image_${randomBytes(16).toString('hex')}`, published: false };
    this.#images.set(stored.id, stored);
    let unpublished = this.#images.size - this.#published;
    for (const [id, entry] of this.#images) {
      if (unpublished <= this.#limits.maxUnpublished) break;
      if (entry.published || id === stored.id) continue;
      this.#images.delete(id);
      unpublished--;
    }
    return stored;
  }

  /** The image when `owner` made it; undefined otherwise (another key's image is "not found"). */
  get(id: string, owner: string): ImaginedImage | undefined {
    const image = this.#images.get(id);
    return image !== undefined && image.owner === owner ? image : undefined;
  }

  /** Makes an image public; publishing a published image again changes nothing. */
  publish(id: string, owner: string): PublishResult {
    const image = this.get(id, owner);
    if (image === undefined) return { ok: false, reason: 'notFound' };
    if (image.published) return { ok: true, image };
    if (this.#published >= this.#limits.maxPublished) return { ok: false, reason: 'full' };
    image.published = true;
    this.#published++;
    return { ok: true, image };
  }

  /** A published image, for anyone. */
  getPublished(id: string): ImaginedImage | undefined {
    const image = this.#images.get(id);
    return image?.published === true ? image : undefined;
  }

  clear(): void {
    this.#images.clear();
    this.#published = 0;
  }
}
