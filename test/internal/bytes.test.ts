// The byte helpers the client and the server share: the one image-format sniffer (WEBP only with
// both RIFF and WEBP in place), media types, and the inline forms of an image (base64, data URI).
import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, imageMediaType, inlineImage, sniffImageFormat } from '../../src/internal/bytes.js';

const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));
/** A RIFF container header: `RIFF`, a little-endian size, then the form type. */
const riff = (form: string): Uint8Array => new Uint8Array([...ascii('RIFF'), 4, 0, 0, 0, ...ascii(form), 0, 0, 0, 0]);

describe('sniffImageFormat', () => {
  it('names PNG, JPG and WEBP as sharp encodes them', async () => {
    const pixels = sharp({ create: { width: 4, height: 4, channels: 3, background: '#08f' } });
    expect(sniffImageFormat(await pixels.clone().png().toBuffer())).toBe('PNG');
    expect(sniffImageFormat(await pixels.clone().jpeg().toBuffer())).toBe('JPG');
    expect(sniffImageFormat(await pixels.clone().webp().toBuffer())).toBe('WEBP');
  });

  it('takes RIFF as WEBP only with WEBP at offset 8', () => {
    expect(sniffImageFormat(riff('WEBP'))).toBe('WEBP');
    // WAV and AVI are RIFF too; a form starting "WE" is still not WEBP.
    expect(sniffImageFormat(riff('WAVE'))).toBeUndefined();
    expect(sniffImageFormat(riff('AVI '))).toBeUndefined();
    expect(sniffImageFormat(riff('WEBM'))).toBeUndefined();
    expect(sniffImageFormat(riff('WEBP').subarray(0, 11))).toBeUndefined();
  });

  it('needs a whole signature', () => {
    expect(sniffImageFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
    expect(sniffImageFormat(new Uint8Array([0xff, 0xd8]))).toBeUndefined();
    expect(sniffImageFormat(new Uint8Array())).toBeUndefined();
  });

  it('answers a format only for bytes that start with its signature', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const format = sniffImageFormat(bytes);
        const head = Buffer.from(bytes.subarray(0, 12));
        if (format === 'PNG') expect(head.subarray(0, 4).toString('latin1')).toBe('\x89PNG');
        if (format === 'JPG') expect([...head.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
        if (format === 'WEBP') expect(head.toString('latin1', 0, 4) + head.toString('latin1', 8, 12)).toBe('RIFFWEBP');
      }),
    );
  });
});

describe('inline images', () => {
  it('gives base64 or a data URI naming the media type', () => {
    const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    expect(inlineImage(bytes, imageMediaType('JPG'), 'base64')).toBe('/9j/4AECAw==');
    expect(inlineImage(bytes, imageMediaType('JPG'), 'dataURI')).toBe('data:image/jpeg;base64,/9j/4AECAw==');
    expect([imageMediaType('PNG'), imageMediaType('WEBP')]).toEqual(['image/png', 'image/webp']);
  });

  it('encodes exactly the bytes of a view into a larger buffer, and decodes them back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), fc.nat(300), (whole, from, length) => {
        const view = whole.subarray(Math.min(from, whole.length), Math.min(from + length, whole.length));
        const base64 = bytesToBase64(view);
        expect(base64).toBe(Buffer.from(view).toString('base64'));
        expect([...base64ToBytes(base64)]).toEqual([...view]);
      }),
    );
  });
});
