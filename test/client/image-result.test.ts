// Images as bytes, with base64, data URI and URL forms computed on demand.
import { resolveObjectURL } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ImageResult, ImagewireError } from '../../src/client/index.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('ImageResult', () => {
  it('decodes base64 once, on first use of bytes', () => {
    const image = new ImageResult({ taskType: 'imageInference', taskUUID: 't', imageUUID: 'u', imageBase64Data: PNG }, 0);
    const bytes = image.bytes;
    expect(image.bytes).toBe(bytes);
    expect(image.format).toBe('PNG');
    expect(image.base64).toBe(PNG);
    expect(image.dataURI).toBe(`data:image/png;base64,${PNG}`);
    expect(image.url).toBe(image.dataURI);
  });

  it('reads data URIs', () => {
    const image = new ImageResult({ taskType: 'imageInference', taskUUID: 't', imageUUID: 'u', imageDataURI: `data:image/png;base64,${PNG}` }, 0);
    expect(image.base64).toBe(PNG);
    expect(image.mediaType).toBe('image/png');
    expect(image.bytes[0]).toBe(0x89);
  });

  it('says so when only a URL came, and fetches it on load()', async () => {
    const image = new ImageResult({ taskType: 'imageInference', taskUUID: 't', imageUUID: 'u', imageURL: 'https://example.test/u.png' }, 0);
    expect(image.hasBytes).toBe(false);
    expect(() => image.bytes).toThrow(ImagewireError);
    expect(image.url).toBe('https://example.test/u.png');
    const fakeFetch = (async () => new Response(new Uint8Array([1, 2, 3]))) as typeof fetch;
    expect(await image.load({ fetch: fakeFetch })).toEqual(new Uint8Array([1, 2, 3]));
    expect(image.hasBytes).toBe(true);
  });

  it('computes base64 from bytes only when asked', () => {
    const image = new ImageResult({ taskType: 'imageInference', taskUUID: 't', imageUUID: 'u', imageFormat: 'WEBP' }, 1, new Uint8Array([1, 2, 3]));
    expect(image.base64).toBe('AQID');
    expect(image.dataURI).toBe('data:image/webp;base64,AQID');
  });

  it('makes a blob: URL of the bytes with the media type, and the blob holds exactly those bytes', async () => {
    const image = new ImageResult({ taskType: 'imageInference', taskUUID: 't', imageUUID: 'u', imageBase64Data: PNG }, 0);
    const url = image.createObjectURL();
    expect(url.startsWith('blob:')).toBe(true);
    const blob = resolveObjectURL(url);
    expect(blob?.type).toBe('image/png');
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(image.bytes);
    URL.revokeObjectURL(url);
    expect(resolveObjectURL(url)).toBeUndefined();
  });
});
