// Byte helpers that work in Node and browsers without importing either's modules: base64 both
// ways (Buffer when present, it is much faster), UTF-8 length, and encoded images: their format by
// signature, their media type, and their inline forms (base64, data URI), for the client and server.

interface BufferLike {
  from(data: string, encoding: 'base64'): Uint8Array;
  from(data: ArrayBufferLike, byteOffset: number, length: number): Uint8Array & { toString(encoding: 'base64'): string };
}

function nodeBuffer(): BufferLike | undefined {
  return (globalThis as { Buffer?: BufferLike }).Buffer;
}

/** Decodes standard or URL-safe base64. */
export function base64ToBytes(base64: string): Uint8Array {
  const buffer = nodeBuffer();
  if (buffer !== undefined) {
    const bytes = buffer.from(base64, 'base64');
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const binary = atob(base64.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Encodes bytes as standard base64. */
export function bytesToBase64(bytes: Uint8Array): string {
  const buffer = nodeBuffer();
  // A view over the same memory: Buffer.from(bytes) would copy a multi-megabyte image first.
  if (buffer !== undefined) return buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

/** Length in bytes of `text` encoded as UTF-8, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one 4-byte code point.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** The encoded image formats the package reads and writes. */
export type EncodedImageFormat = 'PNG' | 'JPG' | 'WEBP';

/**
 * The format of encoded image bytes by their signature, or undefined for anything but PNG, JPG and
 * WEBP. WEBP needs both `RIFF` at 0 and `WEBP` at 8: `RIFF` alone also starts WAV and AVI files.
 */
export function sniffImageFormat(bytes: Uint8Array): EncodedImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'PNG';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'JPG';
  if (bytes.length >= 12 && bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46 && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) {
    return 'WEBP';
  }
  return undefined;
}

const mediaTypes: Readonly<Record<EncodedImageFormat, string>> = { PNG: 'image/png', JPG: 'image/jpeg', WEBP: 'image/webp' };

/** The media type of an encoded format, e.g. `image/png`. */
export function imageMediaType(format: EncodedImageFormat): string {
  return mediaTypes[format];
}

/** How an image travels inside JSON: bare base64, or a data URI that also names its media type. */
export type InlineImageForm = 'base64' | 'dataURI';

/** `data:<mediaType>;base64,<base64>`. */
export function dataUri(mediaType: string, base64: string): string {
  return `data:${mediaType};base64,${base64}`;
}

/** An encoded image in its inline form: its base64, or a data URI of `mediaType`. */
export function inlineImage(bytes: Uint8Array, mediaType: string, form: InlineImageForm): string {
  const base64 = bytesToBase64(bytes);
  return form === 'dataURI' ? dataUri(mediaType, base64) : base64;
}
