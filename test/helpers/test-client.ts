// Clients for tests against a server of startTestServer: test-friendly timings, a small fast
// request, and closing after the test (clients first, then servers), so leftovers never cross tests.
import { afterEach } from 'vitest';
import { createClient, type ClientOptions, type ImageInferenceRequest, type ImagewireClient } from '../../src/index.js';

const leftovers: { close(): Promise<void> }[] = [];

afterEach(async () => {
  const pending = leftovers.splice(0);
  await Promise.allSettled(pending.map((item) => item.close()));
});

/** Closes `item` (a server, say) when the current test ends; returns it. */
export function closeAfterTest<T extends { close(): Promise<void> }>(item: T): T {
  leftovers.push(item);
  return item;
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
