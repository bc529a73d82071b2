// parseImageRef and isHttpUrl: the four forms an input image may take (image UUID, data URI with
// PNG/JPEG/WEBP, raw base64, public http(s) URL), and the reasons given for anything else.
import { describe, it, expect } from 'vitest';
import { isHttpUrl, parseImageRef } from '../../src/protocol/index.js';
import { GIF_DATA_URI, IMAGE_UUID, JPEG_BASE64, PNG_BASE64, PNG_DATA_URI, refusedImageForms, WEBP_BASE64 } from './fixtures.js';

describe('parseImageRef', () => {
  it('reads an image UUID, lower-casing it', () => {
    expect(parseImageRef(IMAGE_UUID)).toEqual({ kind: 'uuid', uuid: IMAGE_UUID });
    expect(parseImageRef(IMAGE_UUID.toUpperCase())).toEqual({ kind: 'uuid', uuid: IMAGE_UUID });
  });

  it.each([
    ['image/png', PNG_BASE64],
    ['image/jpeg', JPEG_BASE64],
    ['image/webp', WEBP_BASE64],
  ])('reads a %s data URI', (mediaType, base64) => {
    expect(parseImageRef(`data:${mediaType};base64,${base64}`)).toEqual({ kind: 'dataURI', mediaType, base64 });
  });

  it('reads the media type in any letter case', () => {
    expect(parseImageRef(`data:IMAGE/PNG;BASE64,${PNG_BASE64}`)).toEqual({ kind: 'dataURI', mediaType: 'image/png', base64: PNG_BASE64 });
  });

  it('reads raw base64, standard and URL-safe, with padding', () => {
    expect(parseImageRef(PNG_BASE64)).toEqual({ kind: 'base64', base64: PNG_BASE64 });
    expect(parseImageRef(JPEG_BASE64)).toEqual({ kind: 'base64', base64: JPEG_BASE64 });
    const urlSafe = JPEG_BASE64.replace(/\//g, '_').replace(/\+/g, '-');
    expect(parseImageRef(urlSafe)).toEqual({ kind: 'base64', base64: urlSafe });
  });

  it.each(['https://example.com/a.png', 'http://127.0.0.1:9000/img?id=1', 'HTTPS://CDN.EXAMPLE.COM/X.WEBP'])('reads the URL %s', (url) => {
    expect(parseImageRef(url)).toEqual({ kind: 'url', url });
  });

  it.each(refusedImageForms)('refuses %s with its reason', (_label, value, reason) => {
    expect(parseImageRef(value)).toEqual({ kind: 'invalid', reason });
  });

  it('refuses base64 too short to hold an image signature, and base64 with bad padding', () => {
    expect(parseImageRef('iVBORw0KGgo=').kind).toBe('invalid');
    expect(parseImageRef(`${PNG_BASE64}===`).kind).toBe('invalid');
    expect(parseImageRef(`${PNG_BASE64.slice(0, 10)}=${PNG_BASE64.slice(10)}`).kind).toBe('invalid');
  });

  it('refuses a GIF data URI with the list of accepted media types', () => {
    const ref = parseImageRef(GIF_DATA_URI);
    expect(ref.kind).toBe('invalid');
    if (ref.kind === 'invalid') expect(ref.reason).toContain('png|jpeg|webp');
  });

  it('refuses base64 with white space or line breaks inside', () => {
    expect(parseImageRef(`${PNG_BASE64.slice(0, 20)}\n${PNG_BASE64.slice(20)}`).kind).toBe('invalid');
    expect(parseImageRef(`data:image/png;base64,${PNG_BASE64} `).kind).toBe('invalid');
  });

  it('reads a data URI only through its own rule, never as base64', () => {
    expect(parseImageRef(PNG_DATA_URI).kind).toBe('dataURI');
  });
});

describe('isHttpUrl', () => {
  it.each(['http://a.example', 'https://example.com/', 'HTTP://EXAMPLE.COM', 'https://user@host.example:8443/p?q=1#f', 'http://[::1]:8080/'])('accepts %s', (url) => {
    expect(isHttpUrl(url)).toBe(true);
  });

  it.each(['https://', 'http:/example.com', 'http:example.com', 'ftp://example.com', 'ws://example.com', ' https://example.com', 'example.com', 'javascript:alert(1)', '//example.com/a.png', ''])(
    'refuses %j',
    (url) => {
      expect(isHttpUrl(url)).toBe(false);
    },
  );
});
