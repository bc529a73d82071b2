// Browser bundle size: what an app that uses imagewire's WebSocket client ships, beside an app that
// uses the official SDK, both bundled by esbuild for the browser with minification, raw and gzipped.
// Each app is a one-line entry that keeps the factory on globalThis, so nothing of it can be
// tree-shaken away (the method of the reference figures); the whole browser entry is measured too.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { ratio, type Row } from './lib/report.js';

export interface BundleSize {
  minBytes: number;
  gzipBytes: number;
}

async function measure(contents: string): Promise<BundleSize> {
  // Run from the package root (npm run bench does); the script itself is compiled elsewhere.
  const result = await build({
    stdin: { contents, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error('esbuild produced no output');
  return { minBytes: out.contents.byteLength, gzipBytes: gzipSync(out.contents, { level: 9 }).byteLength };
}

const kib = (bytes: number, digits: number): string => `${(bytes / 1024).toFixed(digits)} KiB`;

export async function bundleRows(): Promise<Row[]> {
  const app = await measure(`import { createClient } from './src/browser.ts'; globalThis.imagewire = createClient;`);
  const entry = await measure(`export * from './src/browser.ts';`);
  const official = await measure(`import { Runware } from '@runware/sdk-js'; globalThis.runware = (apiKey) => new Runware({ apiKey });`);
  const row = (benchmark: string, ours: BundleSize, pick: keyof BundleSize, target: string): Row => ({
    benchmark,
    imagewire: kib(ours[pick], pick === 'gzipBytes' ? 2 : 1),
    baseline: kib(official[pick], pick === 'gzipBytes' ? 2 : 1),
    ratio: ratio(ours[pick] / official[pick]),
    target,
  });
  return [
    row('browser bundle, gzip, app using createClient (vs app using @runware/sdk-js)', app, 'gzipBytes', '≤ 8 KiB'),
    row('browser bundle, minified, app using createClient (vs app using @runware/sdk-js)', app, 'minBytes', ''),
    row('browser bundle, gzip, whole browser entry (vs app using @runware/sdk-js)', entry, 'gzipBytes', ''),
  ];
}

// Only when run alone: run-all bundles this module in, so check the script name, not import.meta.url.
if (/[\\/]bundle\.js$/.test(process.argv[1] ?? '')) {
  const { emitRows } = await import('./lib/report.js');
  emitRows(await bundleRows());
}
