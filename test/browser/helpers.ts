// Shared setup of the real-browser tests: Debian's Chromium through playwright-core (skipped with
// a message when it is not installed on a developer's machine, never in CI), and the page scripts
// bundled into a temporary folder.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { bundleWeb } from '../../scripts/bundle-web.mjs';

/** The Debian package's Chromium; CI installs it (.ci/run). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * True when the browser tests can run; logs why not otherwise. In CI (`CI` set) a missing browser
 * is an error, so the browser tests can never pass there by being skipped.
 */
export function chromiumAvailable(): boolean {
  const found = existsSync(CHROMIUM);
  if (found) return true;
  const why = `${CHROMIUM} is not installed (apt-get install chromium)`;
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') throw new Error(`browser tests cannot run in CI: ${why}`);
  console.warn(`browser tests skipped: ${why}`);
  return false;
}

/** Launches headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
}

/** Bundles the client's browser build and the page script into a fresh temporary folder. */
export async function bundleIntoTemp(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'imagewire-web-'));
  await bundleWeb({ outdir: dir });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
