// Decoding request images and encoding results with sharp: the only place the procedural engine touches codecs.

import { EngineError, type ImageFormat } from '../engine.js';
import type { Sharp } from '../sharp.js';
import { createRgbImage, type RgbImage } from './pixels.js';

/** A single-channel 8-bit image. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Which request image is being decoded, for the error it gets. */
type ImageRole = { code: 'invalidSeedImage'; parameter: 'seedImage' } | { code: 'invalidMaskImage'; parameter: 'maskImage' };

/** The seed image's error identity. */
const seedRole: ImageRole = { code: 'invalidSeedImage', parameter: 'seedImage' };
/** The mask image's error identity. */
const maskRole: ImageRole = { code: 'invalidMaskImage', parameter: 'maskImage' };

const acceptedFormats = new Set(['png', 'jpeg', 'webp']);

/** sharp's message when an input declares more than `limitInputPixels`. */
const pixelLimitMessage = /exceeds pixel limit/i;

/** The error for bytes sharp would not read: too many pixels, or not an image the role accepts. */
function unreadable(role: ImageRole, error: unknown, maxPixels: number): EngineError {
  if (error instanceof Error && pixelLimitMessage.test(error.message)) {
    return new EngineError('imageDimensionsTooLarge', `${role.parameter} has more than ${maxPixels} pixels, more than this engine decodes`, { parameter: role.parameter, cause: error });
  }
  // Headers can parse while the pixel data is corrupt; that is still the caller's bad image.
  return new EngineError(role.code, `${role.parameter} could not be decoded as an image`, { parameter: role.parameter, cause: error });
}

/**
 * Fails with the role's code unless the bytes are a decodable PNG, JPG or WEBP of at most
 * `maxPixels`: the header alone is read, so an oversized image costs nothing.
 */
async function checkFormat(sharp: Sharp, bytes: Uint8Array, role: ImageRole, maxPixels: number): Promise<void> {
  let format: string | undefined;
  try {
    format = (await sharp(bytes, { limitInputPixels: maxPixels }).metadata()).format;
  } catch (error) {
    throw unreadable(role, error, maxPixels);
  }
  if (format === undefined || !acceptedFormats.has(format)) {
    throw new EngineError(role.code, `${role.parameter} must be PNG, JPG or WEBP; got ${format ?? 'an unknown format'}`, { parameter: role.parameter });
  }
}

async function decodeFailure<T>(role: ImageRole, maxPixels: number, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw unreadable(role, error, maxPixels);
  }
}

/**
 * Decodes to 8-bit sRGB at the image's own (EXIF-oriented) size, refusing more than `maxPixels`.
 * Transparency is flattened onto white, as a transparent seed image is usually a cut-out on an
 * empty page.
 */
export async function decodeRgb(sharp: Sharp, bytes: Uint8Array, maxPixels: number): Promise<RgbImage> {
  await checkFormat(sharp, bytes, seedRole, maxPixels);
  const { data, info } = await decodeFailure(
    seedRole,
    maxPixels,
    sharp(bytes, { limitInputPixels: maxPixels }).autoOrient().flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }),
  );
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

/**
 * Decodes a mask to 8-bit grey resized to width × height, refusing more than `maxPixels`.
 * Transparency is flattened onto black, so transparent parts of a mask keep the seed image.
 */
export async function decodeMask(sharp: Sharp, bytes: Uint8Array, width: number, height: number, maxPixels: number): Promise<GreyImage> {
  await checkFormat(sharp, bytes, maskRole, maxPixels);
  const { data, info } = await decodeFailure(
    maskRole,
    maxPixels,
    sharp(bytes, { limitInputPixels: maxPixels })
      .autoOrient()
      .flatten({ background: '#000000' })
      .greyscale()
      .resize(width, height, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Stretches to width × height (aspect ratio not kept: the request's size wins); same size is returned as is. */
export async function resizeRgb(sharp: Sharp, image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  const resized = createRgbImage(width, height);
  resized.data.set(data);
  return resized;
}

/** Encodes pixels; `quality` applies to JPG and WEBP. */
export async function encodeRgb(sharp: Sharp, image: RgbImage, format: ImageFormat, quality: number): Promise<Uint8Array> {
  const input = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  switch (format) {
    case 'PNG':
      return input.png({ compressionLevel: 6 }).toBuffer();
    case 'JPG':
      return input.jpeg({ quality }).toBuffer();
    case 'WEBP':
      return input.webp({ quality }).toBuffer();
  }
}
