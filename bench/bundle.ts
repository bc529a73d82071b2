// Browser bundle size: imagewire's browser entry beside the official SDK, both bundled by esbuild
// for the browser with minification, reported raw and gzipped.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

export interface BundleRow {
  name: string;
  minBytes: number;
  gzipBytes: number;
}

async function measure(name: string, entry: string): Promise<BundleRow> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error(`esbuild produced no output for ${name}`);
  return { name, minBytes: out.contents.byteLength, gzipBytes: gzipSync(out.contents, { level: 9 }).byteLength };
}

export async function runBundle(): Promise<BundleRow[]> {
  // Run from the package root (npm run bench does); the script itself is compiled elsewhere.
  const root = process.cwd();
  return [
    await measure("imagewire (src/browser.ts)", join(root, "src/browser.ts")),
    await measure("@runware/sdk-js", join(root, "node_modules/@runware/sdk-js/dist/index.js")),
  ];
}

// Only when run alone: run-all bundles this module in, so check the script name, not import.meta.url.
if (/[\\/]bundle\.js$/.test(process.argv[1] ?? "")) {
  const rows = await runBundle();
  for (const r of rows) {
    console.log(`${r.name.padEnd(30)} min ${(r.minBytes / 1024).toFixed(1)} KiB  gzip ${(r.gzipBytes / 1024).toFixed(2)} KiB`);
  }
  const [ours, official] = rows;
  if (ours && official) console.log(`ratio (gzip, imagewire / official): ${(ours.gzipBytes / official.gzipBytes).toFixed(2)}x`);
}
