// Builds dist/ from src/ with tsc, marks the CLI entry executable and bundles the web page.
// Runs from `npm ci` (prepare) and `npm test`, so a fresh clone is usable at once.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  // Installed as a dependency without dev tools: dist/ ships prebuilt.
  process.exit(0);
}

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(cli)) chmodSync(cli, 0o755);

// The browser build of the client and the live page's script, served by `imagewire serve` at /.
const { bundleWeb } = await import('./bundle-web.mjs');
await bundleWeb({ outdir: fileURLToPath(new URL('../dist/web', import.meta.url)) });
