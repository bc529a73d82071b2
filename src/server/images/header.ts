// What an input image declares about itself (format, width, height), read from its header alone,
// so an image too large to decode is refused before anything decodes it.
import type { ImageFormat } from '../../engine/index.js';
import { loadSharp } from '../../engine/sharp.js';
import { sniffImageFormat } from '../../internal/bytes.js';

/** The declared format and size of an encoded image. */
export interface ImageHeader {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
}

/**
 * The header of PNG, JPG or WEBP bytes; undefined for anything else or a header that cannot be
 * read. Only the signature and the header are parsed (sharp's metadata decodes no pixels), and
 * other formats never reach a parser at all.
 */
export async function readImageHeader(bytes: Uint8Array): Promise<ImageHeader | undefined> {
  const format = sniffImageFormat(bytes);
  if (format === undefined) return undefined;
  const sharp = await loadSharp();
  try {
    const { width, height } = await sharp(bytes).metadata();
    if (width === undefined || height === undefined || width < 1 || height < 1) return undefined;
    return { format, width, height };
  } catch {
    return undefined;
  }
}
