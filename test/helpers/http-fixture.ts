// A tiny HTTP server for tests: serves fixed bodies by path and records every request it gets (the
// far end of seedImage URLs, uploadEndpoint and webhooks, and the target of refused requests).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

export interface HttpFixture extends AsyncDisposable {
  readonly url: string;
  /** Requests received, in order. */
  readonly requests: Received[];
  /** Serves `body` at `path` with `status` (and extra headers, e.g. a redirect's `location`). */
  route(path: string, body: Buffer | string, options?: { status?: number; contentType?: string; headers?: Record<string, string> }): void;
  close(): Promise<void>;
}

/** Listens on `host` (default 127.0.0.1; `::1` for IPv6 loopback) and `port` (default 0: a free one). */
export async function startHttpFixture(host = '127.0.0.1', port = 0): Promise<HttpFixture> {
  const routes = new Map<string, { body: Buffer; status: number; contentType: string; headers: Record<string, string> }>();
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? '?', path, contentType: req.headers['content-type'], body: Buffer.concat(chunks) });
      const route = routes.get(path);
      if (route === undefined) {
        res.writeHead(req.method === 'PUT' ? 200 : 404).end();
        return;
      }
      res.writeHead(route.status, { ...route.headers, 'content-type': route.contentType }).end(route.body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url,
    requests,
    route(path, body, options = {}) {
      routes.set(path, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), status: options.status ?? 200, contentType: options.contentType ?? 'application/octet-stream', headers: options.headers ?? {} });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A solid-colour PNG for seed and mask images. */
export function solidPng(width: number, height: number, colour: string): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();
}

/** A loopback port nothing listens on (taken and released at once). */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * A PNG that declares width × height but is a few kilobytes: 1-bit grey rows of zeros deflate to
 * almost nothing (12000 × 12000 is 17,582 bytes), yet decoding it would take width × height × 3 bytes.
 */
export function pixelBombPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // grey
  const rows = Buffer.alloc(height * (1 + Math.ceil(width / 8)));
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}
