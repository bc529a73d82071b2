// A loopback HTTP listener that answers only when the test says so: the far end of slow seedImage
// URLs and slow uploadEndpoints. It records each request and whether the client gave up on it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request, answered or still held. */
export interface HeldRequest {
  readonly method: string;
  readonly path: string;
  /** True once answered. */
  answered: boolean;
  /** True when the client closed the connection before the answer. */
  abandoned: boolean;
}

export interface HeldHttp extends AsyncDisposable {
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: HeldRequest[];
  /** Resolves once `n` requests have arrived. */
  received(n: number): Promise<void>;
  /** Resolves once `n` requests were abandoned by their client. */
  abandoned(n: number): Promise<void>;
  /** Answers the oldest `n` held requests (GET with `body`, anything else with an empty body), with `status`. */
  release(n?: number, status?: number): void;
  /** Answers every held request now and every later one at once. */
  releaseAll(): void;
  close(): Promise<void>;
}

/** Starts a listener on 127.0.0.1 that holds every request; GETs are answered with `body`. */
export async function startHeldHttp(body: Uint8Array = new Uint8Array()): Promise<HeldHttp> {
  const requests: HeldRequest[] = [];
  const held: { request: HeldRequest; res: ServerResponse }[] = [];
  const watchers = new Set<() => void>();
  let open = false;
  const notify = (): void => {
    for (const watcher of [...watchers]) watcher();
  };
  const until = (condition: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const watcher = (): void => {
        if (!condition()) return;
        watchers.delete(watcher);
        resolve();
      };
      watchers.add(watcher);
      watcher();
    });
  const answer = (entry: { request: HeldRequest; res: ServerResponse }, status: number): void => {
    entry.request.answered = true;
    const payload = entry.request.method === 'GET' ? body : new Uint8Array();
    entry.res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': String(payload.byteLength) }).end(payload);
    notify();
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const request: HeldRequest = { method: req.method ?? '?', path: req.url ?? '/', answered: false, abandoned: false };
    requests.push(request);
    // Read the whole body (a PUT's image) before holding the answer.
    req.resume();
    res.on('close', () => {
      if (request.answered) return;
      request.abandoned = true;
      const index = held.findIndex((entry) => entry.request === request);
      if (index !== -1) held.splice(index, 1);
      notify();
    });
    req.on('end', () => {
      if (open) answer({ request, res }, 200);
      else held.push({ request, res });
      notify();
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
    received: (n) => until(() => requests.length >= n),
    abandoned: (n) => until(() => requests.filter((request) => request.abandoned).length >= n),
    release(n = 1, status = 200) {
      for (const entry of held.splice(0, n)) answer(entry, status);
    },
    releaseAll() {
      open = true;
      for (const entry of held.splice(0)) answer(entry, 200);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
