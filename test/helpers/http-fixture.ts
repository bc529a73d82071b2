// A tiny HTTP server for tests: serves fixed bodies by path and records what is PUT to it (the
// far end of seedImage URLs and uploadEndpoint).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /** Serves `body` at `path` with `status`. */
  route(path: string, body: Buffer | string, options?: { status?: number; contentType?: string }): void;
  close(): Promise<void>;
}

export async function startHttpFixture(): Promise<HttpFixture> {
  const routes = new Map<string, { body: Buffer; status: number; contentType: string }>();
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
      res.writeHead(route.status, { 'content-type': route.contentType }).end(route.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url,
    requests,
    route(path, body, options = {}) {
      routes.set(path, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), status: options.status ?? 200, contentType: options.contentType ?? 'application/octet-stream' });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A solid-colour PNG for seed and mask images. */
export function solidPng(width: number, height: number, colour: string): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();
}
