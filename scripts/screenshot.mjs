// Writes docs/live-page.png: the live page mid-generation, in headless Chromium (run after the
// build: `node scripts/screenshot.mjs`). Also prints the time from typing to the first preview.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { createServer } from '../dist/server/index.js';
import { bundleWeb } from './bundle-web.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const out = fileURLToPath(new URL('../docs/live-page.png', import.meta.url));

const dir = await mkdtemp(join(tmpdir(), 'imagewire-shot-'));
await bundleWeb({ outdir: dir });
const server = await createServer({ stepDelayMs: 70, logger: false, page: { assetsDir: dir } });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
try {
  const page = await browser.newPage({ viewport: { width: 1020, height: 640 }, deviceScaleFactor: 1 });
  await page.goto(server.pageUrl);
  await page.waitForFunction(() => globalThis.document.body.dataset.status === 'connected');
  await page.fill('#prompt', 'a lighthouse on a cliff at dusk, warm light over a calm sea');
  // Mid-generation: a preview some steps in, the final not there yet.
  await page.waitForFunction(() => globalThis.document.body.dataset.phase === 'preview' && Number(globalThis.document.body.dataset.step) >= 9);
  // A palette PNG: the picture's noise makes a full-colour one several times larger.
  const shot = await page.screenshot();
  await writeFile(out, await sharp(shot).png({ palette: true, colours: 128, compressionLevel: 9, effort: 10 }).toBuffer());
  const firstPreviewMs = await page.evaluate(() => globalThis.document.body.dataset.firstPreviewMs);
  console.log(`${out}: written; first preview ${firstPreviewMs} ms after typing (stepDelayMs 70)`);
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
