// The reference server for client tests: a fresh one per test on port 0, zero step delay, small
// images, and a client factory whose clients are closed when the test ends (leftovers never
// cross tests).
import { afterEach } from 'vitest';
import { createServer } from '../../src/server/index.js';
import { createClient, type ClientOptions, type ImageInferenceRequest, type ImagewireClient } from '../../src/index.js';

export type TestServer = Awaited<ReturnType<typeof createServer>>;
type ServerOptions = Parameters<typeof createServer>[0];

const leftovers: { close(): Promise<void> }[] = [];

afterEach(async () => {
  const pending = leftovers.splice(0);
  await Promise.allSettled(pending.map((item) => item.close()));
});

/** Starts a server on 127.0.0.1, port 0; closed after the test. */
export async function startServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const server = await createServer({ port: 0, stepDelayMs: 0, logger: false, ...options } as ServerOptions);
  leftovers.push(server);
  return server;
}

/** A client of `server` with test-friendly timings; closed after the test. */
export function clientOf(server: { url: string }, options: Partial<ClientOptions> = {}): ImagewireClient {
  const client = createClient({
    apiKey: 'k1',
    url: server.url,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    networkEvents: false,
    ...options,
  });
  leftovers.unshift(client);
  return client;
}

/** A small, fast imageInference request: 128×128 PNG, few steps. */
export function smallRequest(overrides: Partial<ImageInferenceRequest> = {}): ImageInferenceRequest {
  return {
    positivePrompt: 'a lighthouse at dusk',
    model: 'runware:101@1',
    width: 128,
    height: 128,
    steps: 4,
    outputFormat: 'PNG',
    ...overrides,
  };
}
