// Classifies the four ways an input image may be given: an image UUID, a data URI,
// raw base64, or an http(s) URL. The server resolves them; validation only checks the form.
import { isUuid } from './task-uuid.js';

export type ImageRef =
  | { kind: 'uuid'; uuid: string }
  | { kind: 'dataURI'; mediaType: string; base64: string }
  | { kind: 'base64'; base64: string }
  | { kind: 'url'; url: string };

const DATA_URI = /^data:(image\/(?:png|jpeg|jpg|webp));base64,/i;
const BASE64_BODY = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** The shortest base64 that can hold a PNG, JPG or WEBP signature. */
const MIN_BASE64_LENGTH = 16;

/** True for an absolute http: or https: URL. */
export function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function isBase64Body(value: string): boolean {
  return value.length >= MIN_BASE64_LENGTH && BASE64_BODY.test(value);
}

/** Reads an image reference, or returns undefined with a reason when it has none of the forms. */
export function parseImageRef(value: string): ImageRef | { kind: 'invalid'; reason: string } {
  // Widened so a failed check does not narrow `value` away.
  if (isUuid(value as unknown)) return { kind: 'uuid', uuid: value.toLowerCase() };
  if (value.startsWith('data:')) {
    const match = DATA_URI.exec(value);
    if (!match) return { kind: 'invalid', reason: 'a data URI must be data:image/png|jpeg|webp;base64,<data>' };
    const base64 = value.slice(match[0].length);
    if (!isBase64Body(base64)) return { kind: 'invalid', reason: 'the data URI does not hold base64 data' };
    return { kind: 'dataURI', mediaType: (match[1] ?? '').toLowerCase(), base64 };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    if (isHttpUrl(value)) return { kind: 'url', url: value };
    return { kind: 'invalid', reason: 'a URL must be http or https' };
  }
  if (isBase64Body(value)) return { kind: 'base64', base64: value };
  return { kind: 'invalid', reason: 'expected an image UUID, a data URI, base64 image data or an http(s) URL' };
}
