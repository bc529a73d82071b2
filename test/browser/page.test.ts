// The live page in real Chromium: the page secret taken from the URL's fragment, previews then the
// final painted into the canvas, a newer prompt cancelling the stale task on the server, a dropped
// socket resumed; and the page's HTTP surface (content types, Content-Security-Policy, who may get a
// page token: only a holder of the secret). Predicates are functions, not strings: the page's CSP
// forbids eval, which string predicates would need.
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runServe } from '../../src/cli/serve.js';
import { createProceduralEngine } from '../../src/engine/index.js';
import { eventually } from '../helpers/eventually.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { roughness } from '../helpers/roughness.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { bundleIntoTemp, chromiumAvailable, launchChromium } from './helpers.js';

const available = chromiumAvailable();
const BROWSER_TEST_MS = 60_000;

let bundle: Awaited<ReturnType<typeof bundleIntoTemp>>;
let browser: Browser | undefined;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  bundle = await bundleIntoTemp();
  if (available) browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await bundle.remove();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pageServer(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer({ page: { assetsDir: bundle.dir }, ...options });
  cleanups.push(() => server.close());
  return server;
}

/** Opens a page at `url` in a fresh context; collects console errors and page errors (a CSP violation is one). */
async function newPage(url: string): Promise<{ page: Page; problems: string[] }> {
  if (browser === undefined) throw new Error('no browser');
  const context = await browser.newContext();
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(url);
  return { page, problems };
}

/** Opens the page at the URL with its secret, as `imagewire serve` prints it, and waits until it is connected. */
async function openPage(server: TestServer): Promise<{ page: Page; problems: string[] }> {
  const opened = await newPage(server.pageUrl ?? '');
  await opened.page.waitForFunction(() => document.body.dataset.status === 'connected', undefined, { timeout: 10_000 });
  return opened;
}

function body(page: Page): Promise<Record<string, string>> {
  return page.evaluate('Object.assign({}, document.body.dataset)');
}

/** Waits until the latest request's final is painted. */
async function finalPainted(page: Page, timeout = 20_000): Promise<Record<string, string>> {
  await page.waitForFunction(() => document.body.dataset.phase === 'final' && document.body.dataset.seq === document.body.dataset.requested, undefined, { timeout });
  return body(page);
}

/** Alpha and colour spread of the canvas: a painted picture is opaque and not one flat colour. */
function canvasPixels(page: Page): Promise<{ width: number; height: number; alpha: number; spread: number }> {
  return page.evaluate(`(() => {
    const canvas = document.getElementById('picture');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let min = 765, max = 0, alpha = 255;
    for (let i = 0; i < data.length; i += 4) {
      const sum = data[i] + data[i + 1] + data[i + 2];
      min = Math.min(min, sum); max = Math.max(max, sum); alpha = Math.min(alpha, data[i + 3]);
    }
    return { width: canvas.width, height: canvas.height, alpha, spread: max - min };
  })()`);
}

/** What the canvas shows at one moment: its roughness (about 1 for noise, near 0 for a picture; NaN while blank). */
interface Sample {
  at: number;
  roughness: number;
  alpha: number;
  seq: number;
  phase: string;
  step: number;
}

/**
 * Samples the canvas in the page. The roughness is the shared measure's own source, run in the page
 * (evaluated over the DevTools protocol, which the page's CSP does not govern).
 */
function sampleCanvas(page: Page): Promise<Sample> {
  return page.evaluate(`(() => {
    const roughness = ${roughness.toString()};
    const canvas = document.getElementById('picture');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let alpha = 255;
    for (let i = 3; i < data.length; i += 4) alpha = Math.min(alpha, data[i]);
    const b = document.body.dataset;
    return { at: performance.now(), roughness: alpha === 0 ? NaN : roughness(data, canvas.width, canvas.height, 4), alpha, seq: Number(b.seq), phase: b.phase, step: Number(b.step) };
  })()`);
}

/** Roughness below this is a picture: the engine's old noise previews scored 0.9 to 1.05 up to the middle step. */
const PICTURE_ROUGHNESS = 0.25;

/** Records in the page when each key changed the prompt and when each picture was painted. */
function recordTimeline(page: Page): Promise<unknown> {
  return page.evaluate(`(() => {
    window.keys = [];
    window.paints = [];
    document.getElementById('prompt').addEventListener('input', () => window.keys.push({ at: performance.now(), requested: Number(document.body.dataset.requested ?? 0) }));
    new MutationObserver(() => {
      const b = document.body.dataset;
      window.paints.push({ at: performance.now(), seq: Number(b.seq), phase: b.phase, step: Number(b.step) });
    }).observe(document.body, { attributes: true, attributeFilter: ['data-seq', 'data-step', 'data-phase'] });
  })()`);
}

describe.skipIf(!available)('live page in Chromium', () => {
  it(
    'takes the secret from the fragment, drops it from the address bar, and keeps it for reloads of the tab',
    async () => {
      const server = await pageServer();
      const secret = new URL(server.pageUrl ?? '').hash.slice('#secret='.length);
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const { page, problems } = await openPage(server);
      expect(page.url()).toBe(`${server.httpUrl}/`);
      expect(await page.evaluate('window.sessionStorage.getItem("imagewire:page-secret")')).toBe(secret);
      await page.reload();
      // The client keeps its session in sessionStorage too, so a reload resumes it.
      await page.waitForFunction(() => document.body.dataset.status === 'connected' || document.body.dataset.status === 'resumed', undefined, { timeout: 10_000 });
      // The secret never reached the server in a URL: only the fragment carried it.
      expect(server.logs.text()).not.toContain(secret);
      expect(problems).toEqual([]);
    },
    BROWSER_TEST_MS,
  );

  it(
    'stays locked without the secret, and with a wrong one',
    async () => {
      const server = await pageServer();
      for (const url of [`${server.httpUrl}/`, `${server.httpUrl}/#secret=${'x'.repeat(43)}`]) {
        const { page } = await newPage(url);
        await page.waitForFunction(() => document.body.dataset.status === 'locked', undefined, { timeout: 10_000 });
        expect((await body(page)).lastError).toBe('invalidPageSecret');
        expect(await page.textContent('#status')).toContain('URL imagewire serve printed');
      }
      expect(server.stats().sessions).toBe(0);
    },
    BROWSER_TEST_MS,
  );

  it(
    'paints previews as they stream, then the final, with a strict CSP and no console errors',
    async () => {
      const server = await pageServer({ stepDelayMs: 30 });
      const { page, problems } = await openPage(server);
      expect(await canvasPixels(page)).toMatchObject({ alpha: 0 });
      await page.selectOption('#size', '256');
      await page.fill('#prompt', 'a lighthouse on a cliff at dusk');
      await page.waitForFunction(() => document.body.dataset.phase === 'preview', undefined, { timeout: 10_000 });
      const duringPreview = await body(page);
      expect(Number(duringPreview.step)).toBeGreaterThanOrEqual(1);
      expect(Number(duringPreview.step)).toBeLessThan(Number(duringPreview.steps));
      const preview = await canvasPixels(page);
      expect(preview.alpha).toBe(255);
      const final = await finalPainted(page);
      expect(final).toMatchObject({ phase: 'final', status: 'connected' });
      const pixels = await canvasPixels(page);
      expect(pixels).toMatchObject({ width: 256, height: 256, alpha: 255 });
      expect(pixels.spread).toBeGreaterThan(30);
      console.log(`live page: first preview ${final.firstPreviewMs} ms after typing (stepDelayMs 30)`);
      expect(problems).toEqual([]);
    },
    BROWSER_TEST_MS,
  );

  it(
    'shows a picture, never noise, while the prompt changes at typing speed, and the typed prompt soon after a pause',
    async () => {
      // 40 ms per step is what imagewire serve's engine takes by default.
      const server = await pageServer({ stepDelayMs: 40 });
      const { page, problems } = await openPage(server);
      await recordTimeline(page);
      await page.focus('#prompt');
      const text = 'a lighthouse on a cliff at dusk, rough sea'; // 42 keys at 110 ms: 4.6 s
      let typing = true;
      const samples: Sample[] = [];
      const sampleMs: number[] = [];
      const sampling = (async () => {
        // Every 300 ms on a fixed schedule, however long a sample takes.
        for (let next = performance.now(); typing; next += 300) {
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
          const started = performance.now();
          samples.push(await sampleCanvas(page));
          sampleMs.push(performance.now() - started);
        }
      })();
      // One key per 110 ms on a fixed schedule (keyboard.type's delay adds each key's own round trip).
      const typingStart = performance.now();
      for (const [i, key] of [...text].entries()) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, typingStart + i * 110 - performance.now())));
        await page.keyboard.type(key);
      }
      typing = false;
      await sampling;
      const final = await finalPainted(page);
      expect(await page.inputValue('#prompt')).toBe(text);
      const keys = (await page.evaluate('window.keys')) as { at: number; requested: number }[];
      const paints = (await page.evaluate('window.paints')) as { at: number; seq: number; phase: string; step: number }[];
      const lastKey = keys.at(-1);
      if (lastKey === undefined) throw new Error('no keys recorded');
      expect(lastKey.requested).toBe(Number(final.requested));
      const firstOfTyped = paints.find((paint) => paint.seq === lastKey.requested);
      if (firstOfTyped === undefined) throw new Error('no picture of the typed prompt was painted');
      const pauseToPicture = Math.round(firstOfTyped.at - lastKey.at);
      const firstRequest = keys.find((key) => key.requested > 0);
      const firstPicture = paints.find((paint) => paint.phase === 'preview' || paint.phase === 'final');
      const startToPicture = firstRequest === undefined || firstPicture === undefined ? NaN : Math.round(firstPicture.at - firstRequest.at);
      console.log(
        `live page while typing: ${samples.length} samples, roughness ${samples.map((s) => (Number.isNaN(s.roughness) ? 'blank' : `${s.roughness.toFixed(4)}@${s.phase}${s.step}`)).join(' ')}; ` +
          `a sample took ${Math.round(Math.max(...sampleMs))} ms at most; keys every ${Math.round(((keys.at(-1)?.at ?? 0) - (keys[0]?.at ?? 0)) / Math.max(1, keys.length - 1))} ms; ` +
          `pictures painted ${paints.filter((paint) => paint.phase === 'preview').length}, the first ${startToPicture} ms after the first request; first picture of the typed prompt ${pauseToPicture} ms after the last key (${firstOfTyped.phase} step ${firstOfTyped.step})`,
      );
      // From the first picture on, every sample is a picture (blank before it; how soon the first one
      // comes depends on the machine's load, so only the log says), and so is the final.
      const firstShown = samples.findIndex((sample) => sample.alpha === 255);
      for (const sample of firstShown < 0 ? [] : samples.slice(firstShown)) {
        expect(sample.alpha).toBe(255);
        expect(sample.roughness, `${sample.phase} step ${sample.step}`).toBeLessThan(PICTURE_ROUGHNESS);
      }
      expect((await sampleCanvas(page)).roughness).toBeLessThan(PICTURE_ROUGHNESS);
      // Generous: this is a correctness bound (the typed prompt shows without waiting for anything
      // else), not a speed check; the speed is the number logged above and in bench/.
      expect(pauseToPicture).toBeLessThan(5_000);
      expect(problems).toEqual([]);
    },
    BROWSER_TEST_MS,
  );

  it(
    'says a one-letter prompt is too short instead of ignoring it, and generates once it is long enough',
    async () => {
      const server = await pageServer({ stepDelayMs: 5 });
      const { page } = await openPage(server);
      await page.fill('#prompt', 'a');
      await page.waitForFunction(() => document.body.dataset.hint === 'too-short', undefined, { timeout: 10_000 });
      expect(await page.textContent('#hint')).toContain('at least 2 characters');
      expect((await body(page)).requested).toBeUndefined();
      expect(server.stats().tasksRunning).toBe(0);
      await page.fill('#prompt', 'ab');
      await finalPainted(page);
      expect(await page.textContent('#hint')).toBe('');
      expect((await body(page)).hint).toBeUndefined();
    },
    BROWSER_TEST_MS,
  );

  it(
    'saves the picture on the canvas as a PNG: the final as the server made it, a preview as drawn',
    async () => {
      const engine = createGateEngine(createProceduralEngine({ stepDelayMs: 5 }));
      const server = await pageServer({ engine });
      const { page, problems } = await openPage(server);
      expect(await page.isDisabled('#save')).toBe(true);
      await page.selectOption('#size', '256');
      await page.fill('#prompt', 'a green valley under snow');
      await engine.waiting(1); // every preview streamed; the final is held at the gate
      await page.waitForFunction(() => document.body.dataset.phase === 'preview' && document.body.dataset.step === document.body.dataset.steps, undefined, { timeout: 10_000 });
      const [previewDownload] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
      expect(previewDownload.suggestedFilename()).toMatch(/^imagewire-\w+-step-12\.png$/);
      const drawn = await readFile(await previewDownload.path());
      expect(await sharp(drawn).metadata()).toMatchObject({ format: 'png', width: 256, height: 256 });
      const drawnPixels = await sharp(drawn).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect(roughness(drawnPixels.data, 256, 256, drawnPixels.info.channels)).toBeCloseTo((await sampleCanvas(page)).roughness, 4);
      engine.openAll();
      const final = await finalPainted(page);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
      expect(download.suggestedFilename()).toBe(`imagewire-${final.seed}-final.png`);
      const bytes = await readFile(await download.path());
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      const meta = await sharp(bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 256, 256]);
      // The server's own PNG, which the canvas shows.
      const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect(roughness(data, info.width, info.height, info.channels)).toBeCloseTo((await sampleCanvas(page)).roughness, 3);
      expect(bytes.equals(drawn)).toBe(false);
      expect(problems).toEqual([]);
    },
    BROWSER_TEST_MS,
  );

  it(
    'cancels the stale task on the server when the prompt changes, and paints only the latest',
    async () => {
      const engine = createGateEngine(createProceduralEngine({ stepDelayMs: 15 }));
      const server = await pageServer({ engine });
      const { page } = await openPage(server);
      await page.fill('#prompt', 'a red fox');
      await engine.waiting(1); // previews streamed; the final is held at the gate
      await page.waitForFunction(() => document.body.dataset.phase === 'preview', undefined, { timeout: 10_000 });
      const firstSeq = (await body(page)).requested;
      await page.fill('#prompt', 'a red fox under a full moon');
      await engine.aborted(0); // server-side: the first generation's signal aborted (cancel arrived)
      await engine.started(2);
      engine.openAll();
      const final = await finalPainted(page);
      expect(Number(final.seq)).toBeGreaterThan(Number(firstSeq));
      expect(engine.signals.slice(0, -1).every((signal) => signal.aborted)).toBe(true);
      expect(engine.signals.at(-1)?.aborted).toBe(false);
      await eventually(() => server.stats().tasksRunning, (running) => running === 0);
    },
    BROWSER_TEST_MS,
  );

  it(
    'reconnects, resumes the session and finishes the task when the server drops the socket',
    async () => {
      const engine = createGateEngine(createProceduralEngine({ stepDelayMs: 40 }));
      engine.openAll();
      const server = await pageServer({ engine });
      const { page } = await openPage(server);
      await page.evaluate(`(() => {
        window.statuses = [];
        window.captions = [];
        new MutationObserver(() => {
          window.statuses.push(document.body.dataset.status);
          window.captions.push(document.body.dataset.status + ':' + document.getElementById('latency').textContent);
        }).observe(document.body, { attributes: true, attributeFilter: ['data-status'] });
        const steps = document.getElementById('steps');
        steps.value = '30';
        steps.dispatchEvent(new Event('input'));
      })()`);
      await page.fill('#prompt', 'a storm over the sea');
      await page.waitForFunction(() => document.body.dataset.phase === 'preview' && Number(document.body.dataset.step) >= 3, undefined, { timeout: 10_000 });
      const before = await body(page);
      expect(await page.textContent('#latency')).toMatch(/^first preview \d+ ms after typing$/);
      server.faults.dropAll();
      const final = await finalPainted(page);
      expect(final.seq).toBe(before.seq);
      expect(final.status).toBe('resumed');
      expect(Number(final.resumes)).toBeGreaterThanOrEqual(1);
      const statuses = (await page.evaluate('window.statuses')) as string[];
      expect(statuses).toContain('reconnecting');
      expect(statuses.at(-1)).toBe('resumed');
      // The task was resumed, not submitted again.
      expect(engine.signals).toHaveLength(1);
      expect((await canvasPixels(page)).alpha).toBe(255);
      // The timing caption of the task from before the drop is gone while reconnecting, and comes
      // back with the next task.
      const captions = (await page.evaluate('window.captions')) as string[];
      expect(captions).toContain('reconnecting:');
      for (const caption of captions.filter((entry) => !/^(connected|resumed):/.test(entry))) expect(caption).toMatch(/:$/);
      expect(await page.textContent('#latency')).toBe('');
      await page.fill('#prompt', 'a storm over the sea at night');
      await finalPainted(page);
      expect(await page.textContent('#latency')).toMatch(/^first preview \d+ ms after typing$/);
    },
    BROWSER_TEST_MS,
  );
});

describe('live page over HTTP', () => {
  it('serves the page with a strict CSP and the scripts as JavaScript', async () => {
    const server = await pageServer();
    const page = await fetch(`${server.httpUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain('unsafe');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).toContain('<canvas id="picture"');
    expect(html).not.toMatch(/<script(?![^>]*src=)/);
    for (const script of ['/page/page.js', '/page/imagewire.browser.js']) {
      const response = await fetch(`${server.httpUrl}${script}`);
      expect(response.status, script).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(await response.text()).not.toMatch(/from\s*["']node:/);
    }
    expect((await fetch(`${server.httpUrl}/page/other.js`)).status).toBe(404);
    expect((await fetch(`${server.httpUrl}/`, { method: 'POST' })).status).toBe(405);
  });

  it('is not served unless asked for', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    expect((await fetch(`${server.httpUrl}/`)).status).toBe(404);
    expect((await fetch(`${server.httpUrl}/page/token`, { method: 'POST' })).status).toBe(404);
  });

  it('hands page tokens only to a holder of the page secret, and tokens work as keys', async () => {
    const server = await pageServer({ apiKeys: ['real-key'] });
    const url = `${server.httpUrl}/page/token`;
    const secret = new URL(server.pageUrl ?? '').hash.slice('#secret='.length);
    const good = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${secret}` } });
    expect(good.status).toBe(200);
    expect(good.headers.get('cache-control')).toBe('no-store');
    const { data } = (await good.json()) as { data: { token: string; ttlSeconds: number }[] };
    expect(data[0]?.ttlSeconds).toBe(300);
    const run = await fetch(`${server.httpUrl}/v1`, { method: 'POST', headers: { authorization: `Bearer ${data[0]?.token ?? ''}`, 'content-type': 'application/json' }, body: JSON.stringify([{ taskType: 'ping', ping: true }]) });
    expect(run.status).toBe(200);
    // A loopback peer naming a loopback host, as every caller behind a reverse proxy on this
    // machine looks, gets nothing without the secret; nor does a wrong or a longer one.
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${secret}x`, `Bearer ${secret.slice(0, -1)}`, secret]) {
      const refused = await fetch(url, { method: 'POST', headers: { host: `127.0.0.1:${server.port}`, ...(authorization === undefined ? {} : { authorization }) } });
      expect(refused.status, String(authorization)).toBe(401);
      expect(((await refused.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('invalidPageSecret');
    }
    // The right secret from a page elsewhere is still refused.
    expect((await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${secret}`, origin: 'http://evil.example' } })).status).toBe(403);
    expect((await fetch(url, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(405);
  });

  it('uses the secret it is given, and refuses a weak one', async () => {
    const server = await pageServer({ page: { assetsDir: bundle.dir, secret: 'my-own-page-secret-0123' } });
    expect(server.pageUrl).toBe(`${server.httpUrl}/#secret=my-own-page-secret-0123`);
    expect((await fetch(`${server.httpUrl}/page/token`, { method: 'POST', headers: { authorization: 'Bearer my-own-page-secret-0123' } })).status).toBe(200);
    await expect(startTestServer({ page: { assetsDir: bundle.dir, secret: 'short' } })).rejects.toThrow(RangeError);
  });

  it('is served by imagewire serve unless --no-page', async () => {
    for (const page of [undefined, false] as const) {
      const { server, stop } = await runServe({ port: 0, logger: false, handleSignals: false, print: () => undefined, ...(page === undefined ? {} : { page }), server: page === false ? {} : { page: { assetsDir: bundle.dir } } });
      cleanups.push(stop);
      expect((await fetch(`${server.httpUrl}/`)).status).toBe(page === false ? 404 : 200);
    }
  });

  it('turns page tokens off with devTokens: false', async () => {
    const server = await startTestServer({ page: { assetsDir: bundle.dir, devTokens: false } });
    cleanups.push(() => server.close());
    expect((await fetch(`${server.httpUrl}/page/token`, { method: 'POST' })).status).toBe(404);
    expect(await (await fetch(`${server.httpUrl}/`)).text()).toContain('data-token-url=""');
    expect(server.pageUrl).toBe(`${server.httpUrl}/`);
  });
});
