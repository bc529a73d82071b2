// The emulator's image bytes and the store behind its image URLs. Every generated image is the
// same small real picture per format (made once with sharp): tests need valid files and working
// URLs, not different pixels.
import sharp from 'sharp';
import { outputFormats, type OutputFormat } from './wire-rules.js';

/** The bytes of one format's picture. */
export type ImageBytes = Readonly<Record<OutputFormat, Buffer>>;

let made: Promise<ImageBytes> | undefined;

/** One 64x64 gradient-free test card per output format, made on first use and shared. */
export function imageBytes(): Promise<ImageBytes> {
  made ??= (async () => {
    const base = sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 32, g: 96, b: 200 } } });
    const [JPG, PNG, WEBP] = await Promise.all([base.clone().jpeg().toBuffer(), base.clone().png().toBuffer(), base.clone().webp().toBuffer()]);
    return { JPG, PNG, WEBP };
  })();
  return made;
}

/** A stored image: its bytes and media type. */
export interface StoredImage {
  readonly bytes: Buffer;
  readonly mime: string;
  readonly ext: string;
}

/** The media type and extension of bytes, by their magic number; undefined for anything else. */
export function sniffImage(bytes: Buffer): { mime: string; ext: string } | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { mime: 'image/png', ext: 'png' };
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return { mime: 'image/jpeg', ext: 'jpg' };
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return { mime: 'image/webp', ext: 'webp' };
  if (bytes.subarray(0, 4).toString('latin1') === 'GIF8') return { mime: 'image/gif', ext: 'gif' };
  if (bytes.subarray(0, 2).toString('latin1') === 'BM') return { mime: 'image/bmp', ext: 'bmp' };
  return undefined;
}

/** Images by imageUUID, served at `/images/<uuid>.<ext>`. Survives restarts (like a CDN behind the service). */
export class ImageStore {
  readonly #images = new Map<string, StoredImage>();

  /** Stores a generated image of `format`. */
  putGenerated(imageUUID: string, bytes: ImageBytes, format: OutputFormat): StoredImage {
    const stored = { bytes: bytes[format], ...outputFormats[format] };
    this.#images.set(imageUUID, stored);
    return stored;
  }

  put(imageUUID: string, image: StoredImage): void {
    this.#images.set(imageUUID, image);
  }

  /** The image at a request path, or undefined. */
  lookup(pathname: string): StoredImage | undefined {
    const match = /^\/images\/([0-9a-f-]{36})\.([a-z]+)$/.exec(pathname);
    if (match === null) return undefined;
    const image = this.#images.get(match[1] as string);
    return image !== undefined && image.ext === match[2] ? image : undefined;
  }

  get size(): number {
    return this.#images.size;
  }
}
