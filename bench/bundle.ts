// Browser bundle size: what an app that uses imagewire's WebSocket client ships, beside an app that
// uses the official SDK, both bundled by esbuild for the browser with minification, raw and gzipped.
// Each app is a one-line entry that keeps the factory on globalThis, so nothing of it can be
// tree-shaken away (the method of the reference figures); the whole browser entry is measured too,
// and what the opt-in request validation adds. Prints which modules the createClient app's gzip
// bytes come from (stderr), the listing docs/benchmarks.md keeps.
import { decode } from '@jridgewell/sourcemap-codec';
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { note, ratio, type Row } from './lib/report.js';

export interface BundleSize {
  minBytes: number;
  gzipBytes: number;
}

/** One module's share of a bundle: its minified bytes, and its part of the gzipped size. */
export interface ModuleShare {
  module: string;
  minBytes: number;
  gzipBytes: number;
}

const gzipSize = (data: string | Uint8Array): number => gzipSync(data, { level: 9 }).byteLength;

async function bundle(contents: string): Promise<{ code: string; map: { sources: string[]; mappings: string } }> {
  // Run from the package root (npm run bench does); the script itself is compiled elsewhere.
  const result = await build({
    stdin: { contents, resolveDir: process.cwd(), loader: 'ts', sourcefile: 'app.ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    sourcemap: 'external',
    outfile: 'app.js',
  });
  const code = result.outputFiles.find((file) => file.path.endsWith('.js'))?.text;
  const map = result.outputFiles.find((file) => file.path.endsWith('.js.map'))?.text;
  if (code === undefined || map === undefined) throw new Error('esbuild produced no output');
  return { code, map: JSON.parse(map) as { sources: string[]; mappings: string } };
}

async function measure(contents: string): Promise<BundleSize> {
  const { code } = await bundle(contents);
  return { minBytes: Buffer.byteLength(code), gzipBytes: gzipSize(code) };
}

/**
 * Splits a bundle by the source map into each module's minified text. gzip has no per-module size,
 * so each module's text is gzipped alone and the results are scaled to add up to the bundle's
 * gzipped size: a module's share of what the app ships, close to (not exactly) what removing it saves.
 */
async function breakdown(contents: string): Promise<{ size: BundleSize; modules: ModuleShare[] }> {
  const { code, map } = await bundle(contents);
  const lines = code.split('\n');
  const texts = new Map<string, string[]>();
  decode(map.mappings).forEach((segments, lineIndex) => {
    const line = lines[lineIndex] ?? '';
    segments.forEach((segment, i) => {
      const end = segments[i + 1]?.[0] ?? line.length;
      const source = segment.length > 1 ? (map.sources[segment[1] ?? -1] ?? '(unmapped)') : '(unmapped)';
      const module = source.replace(/^(\.\.\/)+/, '').replace(/^.*node_modules\//, 'node_modules/');
      texts.set(module, [...(texts.get(module) ?? []), line.slice(segment[0], end)]);
    });
  });
  const size = { minBytes: Buffer.byteLength(code), gzipBytes: gzipSize(code) };
  const alone = [...texts].map(([module, parts]) => ({ module, minBytes: Buffer.byteLength(parts.join('')), alone: gzipSize(parts.join('')) }));
  const total = alone.reduce((sum, entry) => sum + entry.alone, 0);
  const modules = alone
    .map(({ module, minBytes, alone: bytes }) => ({ module, minBytes, gzipBytes: Math.round((bytes * size.gzipBytes) / total) }))
    .sort((a, b) => b.gzipBytes - a.gzipBytes);
  return { size, modules };
}

const kib = (bytes: number, digits: number): string => `${(bytes / 1024).toFixed(digits)} KiB`;

const CREATE_CLIENT_APP = `import { createClient } from './src/browser.ts'; globalThis.imagewire = createClient;`;
const VALIDATING_APP = `import { createClient } from './src/browser.ts'; import { validateRequests } from './src/validate.ts'; globalThis.imagewire = (apiKey) => createClient({ apiKey, validate: validateRequests });`;
const OFFICIAL_APP = `import { Runware } from '@runware/sdk-js'; globalThis.runware = (apiKey) => new Runware({ apiKey });`;

/** The module listing of the createClient app, one line per module, largest first. */
export function formatBreakdown(size: BundleSize, modules: readonly ModuleShare[]): string {
  const lines = modules.map((entry) => `${String(entry.gzipBytes).padStart(6)} B gzip  ${String(entry.minBytes).padStart(6)} B min  ${entry.module}`);
  return [`app using createClient: ${size.gzipBytes} B gzip, ${size.minBytes} B minified; by module:`, ...lines].join('\n');
}

export async function bundleRows(): Promise<Row[]> {
  const { size: app, modules } = await breakdown(CREATE_CLIENT_APP);
  const validating = await measure(VALIDATING_APP);
  const entry = await measure(`export * from './src/browser.ts';`);
  const official = await measure(OFFICIAL_APP);
  note(formatBreakdown(app, modules).replaceAll('\n', '\n  '));
  const row = (benchmark: string, ours: BundleSize, pick: keyof BundleSize, target: string): Row => ({
    benchmark,
    imagewire: kib(ours[pick], pick === 'gzipBytes' ? 2 : 1),
    baseline: kib(official[pick], pick === 'gzipBytes' ? 2 : 1),
    ratio: ratio(ours[pick] / official[pick]),
    target,
  });
  const added = (pick: keyof BundleSize): string => `+${kib(validating[pick] - app[pick], pick === 'gzipBytes' ? 2 : 1)}`;
  return [
    row('browser bundle, gzip, app using createClient (vs app using @runware/sdk-js)', app, 'gzipBytes', '≤ 12 KiB'),
    row('browser bundle, minified, app using createClient (vs app using @runware/sdk-js)', app, 'minBytes', ''),
    row('browser bundle, gzip, app using createClient with validate: validateRequests (vs @runware/sdk-js)', validating, 'gzipBytes', ''),
    { benchmark: 'browser bundle, added by the opt-in validateRequests, gzip / minified', imagewire: `${added('gzipBytes')} / ${added('minBytes')}`, baseline: '', ratio: '', target: '' },
    row('browser bundle, gzip, whole browser entry (vs app using @runware/sdk-js)', entry, 'gzipBytes', ''),
  ];
}

// Only when run alone: run-all bundles this module in, so check the script name, not import.meta.url.
if (/[\\/]bundle\.js$/.test(process.argv[1] ?? '')) {
  const { emitRows } = await import('./lib/report.js');
  emitRows(await bundleRows());
}
