// The apps of examples/ run as a user would start them (`node examples/<app>/<file>.mjs`, a free
// port, no service configured so each starts imagewire's local server) and are driven over real
// HTTP, and the two pages in real Chromium. Each is stopped with SIGTERM and must exit cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../browser/helpers.js';
import { typecheckJavaScriptFiles } from '../docs/samples/typecheck.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const APP_TEST_MS = 60_000;

interface RunningApp {
  readonly url: string;
  readonly output: () => string;
  /** Sends SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const running: ChildProcess[] = [];

afterEach(() => {
  // A test that failed half-way leaves no process behind.
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts an example and waits for its "listening on <url>" line. */
function startApp(file: string, env: Record<string, string> = {}): Promise<RunningApp> {
  const child = spawn(process.execPath, [join(root, 'examples', file)], { cwd: root, env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} printed no address within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve({
        url: match[1],
        output: () => output,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    exited.then(
      (code) => {
        clearTimeout(timer);
        reject(new Error(`${file} exited with ${code} before listening:\n${output}`));
      },
      reject,
    );
  });
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('examples/node-service', () => {
  it(
    'answers GET /image with a PNG of the asked size, a bad request with 400 and its parameter, and exits on SIGTERM',
    async () => {
      const app = await startApp('node-service/server.mjs');
      const response = await fetch(`${app.url}/image?prompt=${encodeURIComponent('a red fox in fresh snow')}&width=256&height=192`);
      expect(response.status, app.output()).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      const bytes = Buffer.from(await response.arrayBuffer());
      expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([256, 192]);

      const bad = await fetch(`${app.url}/image?prompt=a+fox&width=500`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: 'invalidWidth', parameter: 'width' });
      expect((await fetch(`${app.url}/elsewhere`)).status).toBe(404);
      expect(await app.stop(), app.output()).toBe(0);
    },
    APP_TEST_MS,
  );
});

const available = chromiumAvailable();

describe.runIf(available)('examples in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser.close();
  });

  /** A fresh page at `url`; collects page errors and console errors. */
  async function open(url: string): Promise<{ page: Page; problems: string[]; close(): Promise<void> }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(url);
    return { page, problems, close: () => context.close() };
  }

  it(
    'browser-token: the page generates with session tokens from its backend and never sends the API key',
    async () => {
      const apiKey = 'examples-backend-key-0123456789';
      const app = await startApp('browser-token/backend.mjs', { IMAGEWIRE_API_KEY: apiKey });
      const { page, problems, close } = await open(app.url);
      const credentials: string[] = [];
      page.on('websocket', (socket) =>
        socket.on('framesent', ({ payload }) => {
          const text = typeof payload === 'string' ? payload : payload.toString('utf8');
          for (const match of text.matchAll(/"apiKey":"([^"]*)"/g)) credentials.push(match[1] ?? '');
        }),
      );
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      await page.fill('#prompt', 'a lighthouse at dusk, teal and orange');
      await page.click('button');
      await page.waitForFunction(() => document.body.dataset.state !== 'busy' && document.body.dataset.state !== 'ready', undefined, { timeout: 30_000 });
      expect(await page.textContent('#status'), app.output()).toMatch(/^done: seed \d+$/);
      expect(await page.evaluate(() => [document.querySelector('img')?.naturalWidth, document.querySelector('img')?.naturalHeight])).toEqual([256, 256]);
      expect(credentials.length).toBeGreaterThan(0);
      for (const credential of credentials) expect(credential.startsWith('iwt_')).toBe(true);
      expect(credentials).not.toContain(apiKey);
      expect(await page.content()).not.toContain(apiKey);
      expect(problems).toEqual([]);
      await close();
      expect(await app.stop(), app.output()).toBe(0);
    },
    APP_TEST_MS,
  );

  it(
    'live-ui: typing a prompt shows previews, then the final picture of what was typed',
    async () => {
      const app = await startApp('live-ui/server.mjs');
      const { page, problems, close } = await open(app.url);
      const typed = 'a red fox in fresh snow';
      await page.click('#prompt');
      await page.keyboard.type(typed, { delay: 60 });
      await page.waitForFunction((text) => document.body.dataset.done === text, typed, { timeout: 30_000 });
      expect(Number(await page.evaluate(() => document.body.dataset.previews))).toBeGreaterThan(0);
      expect(await page.textContent('#status')).toBe(`“${typed}”: done`);
      expect(await page.evaluate(() => document.querySelector('img')?.naturalWidth)).toBe(256);
      expect(problems).toEqual([]);
      await close();
      expect(await app.stop(), app.output()).toBe(0);
    },
    APP_TEST_MS,
  );
});

describe('examples as code', () => {
  it('type-check against the package types as plain JavaScript (checkJs), as an editor shows them', () => {
    const files = readdirSync(join(root, 'examples'), { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.(mjs|js)$/.test(file))
      .map((file) => join('examples', file));
    expect(files.length).toBe(5);
    expect(typecheckJavaScriptFiles(root, files)).toEqual([]);
  }, 60_000);
});
