// Serves stored images at `GET /images/<imageUUID>.<ext>`, the URLs of outputType "URL" results and
// of imageUpload answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { imageMediaType } from '../../internal/bytes.js';
import type { StoredImage } from '../images/store.js';

/** Where the images are read: the memory store (at once) or a cluster's (a promise). */
export interface ImageReader {
  get(uuid: string): StoredImage | undefined | Promise<StoredImage | undefined>;
}

const imagePath = /^\/images\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(png|jpg|jpeg|webp)$/i;

/** True for a path this module serves. */
export function isImagePath(pathname: string): boolean {
  return imagePath.test(pathname);
}

/** Answers GET or HEAD of an image path: the bytes, or 404 when unknown or expired. */
export async function serveImage(pathname: string, req: IncomingMessage, res: ServerResponse, images: ImageReader): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const uuid = imagePath.exec(pathname)?.[1];
  const image = uuid === undefined ? undefined : await images.get(uuid);
  if (image === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('image not found\n');
    return;
  }
  res.writeHead(200, {
    'content-type': imageMediaType(image.format),
    'content-length': String(image.bytes.byteLength),
    // An imageUUID always names the same bytes.
    'cache-control': 'private, max-age=600, immutable',
  });
  if (req.method === 'HEAD') res.end();
  else res.end(image.bytes);
}
