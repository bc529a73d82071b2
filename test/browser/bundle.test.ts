// The browser build of the client (dist/web/imagewire.browser.js, bundled here into a temporary
// folder) imported into a blank Chromium page with no framework: it runs a task against the server,
// authenticating with a session token minted by POST /v1/tokens, with no Node built-ins around.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { bundleIntoTemp, chromiumAvailable, launchChromium } from './helpers.js';

const available = chromiumAvailable();

let bundle: Awaited<ReturnType<typeof bundleIntoTemp>>;
let browser: Browser | undefined;
let server: TestServer;

beforeAll(async () => {
  bundle = await bundleIntoTemp();
  server = await startTestServer({ apiKeys: ['node-service-key'], stepDelayMs: 5, page: { assetsDir: bundle.dir, devTokens: false } });
  if (available) browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server.close();
  await bundle.remove();
});

/** What a Node service does for its page: its own key buys a short-lived token. */
async function mintToken(): Promise<string> {
  const minted = await fetch(`${server.httpUrl}/v1/tokens`, { method: 'POST', headers: { authorization: 'Bearer node-service-key', 'content-type': 'application/json' }, body: JSON.stringify({ ttlSeconds: 60 }) });
  const { data } = (await minted.json()) as { data: { token: string }[] };
  return data[0]?.token ?? '';
}

describe('browser build of the client', () => {
  it('imports nothing: no node: built-ins, no ws, no bare specifiers', async () => {
    const text = await readFile(join(bundle.dir, 'imagewire.browser.js'), 'utf8');
    // Minified import statements (`import{a}from"x"`, `import*as a from"x"`, `import"x"`); messages
    // inside the bundle may mention imports, so only statement positions count.
    expect(/(?:^|[;}])import\s*[{*"']/.test(text)).toBe(false);
    expect(/\brequire\(["']/.test(text)).toBe(false);
    expect(text.includes('"node:')).toBe(false);
    const page = await readFile(join(bundle.dir, 'page.js'), 'utf8');
    // The page script imports exactly the client build beside it.
    expect([...page.matchAll(/from\s*["']([^"']+)["']/g)].map((match) => match[1])).toEqual(['./imagewire.browser.js']);
  });

  it.skipIf(!available)(
    'runs a task in a blank page, authenticated with a token a Node service minted',
    async () => {
      if (browser === undefined) throw new Error('no browser');
      const token = await mintToken();
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        // A page with no CSP and nothing on it, on the server's origin (so the module may be imported).
        await page.goto(`${server.httpUrl}/healthz`);
        const result = (await page.evaluate(`(async () => {
          const { createClient, createLiveSession } = await import('/page/imagewire.browser.js');
          const client = createClient({ apiKey: async () => ${JSON.stringify(token)}, url: ${JSON.stringify(server.url)} });
          const task = client.imageInference({ positivePrompt: 'a paper boat', model: 'imagewire:1@1', width: 128, height: 128, steps: 3, previews: true, outputFormat: 'PNG' });
          const kinds = [];
          for await (const event of task) kinds.push(event.type);
          const [image] = await task.result();
          const bitmap = await createImageBitmap(new Blob([image.bytes], { type: image.mediaType }));
          const live = createLiveSession(client, { throttleMs: 0 });
          live.close();
          await client.close();
          return { kinds, format: image.format, width: bitmap.width, bytes: image.bytes.length, hasProcess: typeof process !== 'undefined', hasBuffer: typeof Buffer !== 'undefined', state: client.state };
        })()`)) as { kinds: string[]; format: string; width: number; bytes: number; hasProcess: boolean; hasBuffer: boolean; state: string };
        expect(result).toMatchObject({ format: 'PNG', width: 128, hasProcess: false, hasBuffer: false, state: 'closed' });
        expect(result.kinds).toEqual(['preview', 'preview', 'preview', 'final']);
        expect(result.bytes).toBeGreaterThan(100);
      } finally {
        await context.close();
      }
    },
    60_000,
  );

  it.skipIf(!available)(
    'leaves a bad request to the server by default, which refuses it with a typed error; validateRequests refuses it unsent',
    async () => {
      if (browser === undefined) throw new Error('no browser');
      const token = await mintToken();
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${server.httpUrl}/healthz`);
        const result = (await page.evaluate(`(async () => {
          const { createClient, validateRequests, ApiError, ValidationError } = await import('/page/imagewire.browser.js');
          const request = { positivePrompt: 'a paper boat', model: 'imagewire:1@1', width: 500, height: 128, steps: 3 };
          const describe = (error) => ({ name: error.name, code: error.code, parameter: error.parameter, api: error instanceof ApiError, validation: error instanceof ValidationError });
          const plain = createClient({ apiKey: async () => ${JSON.stringify(token)}, url: ${JSON.stringify(server.url)} });
          const fromServer = await plain.imageInference(request).result().catch(describe);
          const attemptsPlain = plain.stats().attempts;
          await plain.close();
          const checked = createClient({ apiKey: async () => ${JSON.stringify(token)}, url: ${JSON.stringify(server.url)}, validate: validateRequests });
          const local = await checked.imageInference(request).result().catch(describe);
          const attemptsChecked = checked.stats().attempts;
          await checked.close();
          return { fromServer, local, attemptsPlain, attemptsChecked };
        })()`)) as Record<string, unknown>;
        expect(result).toEqual({
          fromServer: { name: 'ApiError', code: 'invalidWidth', parameter: 'width', api: true, validation: false },
          local: { name: 'ValidationError', code: 'invalidWidth', parameter: 'width', api: false, validation: true },
          attemptsPlain: 1,
          attemptsChecked: 0,
        });
      } finally {
        await context.close();
      }
    },
    60_000,
  );
});
