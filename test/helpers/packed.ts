// The package as its users get it: `npm pack` of the built dist/ into a tarball, installed with npm
// into a new app folder outside the repository (so nothing resolves through the repository's own
// node_modules). The npm cache that `npm ci` filled makes the install work offline.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from './package-root.js';

const run = promisify(execFile);

/** The repository's package.json. */
export function manifest(): { version: string; engines: { node: string }; peerDependencies: Record<string, string>; devDependencies: Record<string, string>; allowScripts?: Record<string, boolean> } {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as ReturnType<typeof manifest>;
}

/** Runs npm with `args` in `cwd`; resolves with its stdout. */
export async function npm(args: readonly string[], cwd: string): Promise<string> {
  // Scripts stay off: packing must not rebuild dist/ under tests that use it, and installing a
  // tarball runs none of ours anyway.
  const { stdout } = await run('npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return stdout;
}

/** Packs the built package into a new folder; resolves with the tarball's path. */
export async function packTarball(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'imagewire-pack-'));
  const [packed] = JSON.parse(await npm(['pack', '--json', '--pack-destination', out], packageRoot())) as { filename: string }[];
  if (packed === undefined) throw new Error('npm pack made nothing');
  return join(out, packed.filename);
}

/** A new app folder (`"type": "commonjs"` unless told) with the tarball and `extra` packages installed. */
export async function installApp(tarball: string, extra: readonly string[], type: 'commonjs' | 'module' = 'commonjs'): Promise<string> {
  const app = mkdtempSync(join(tmpdir(), 'imagewire-app-'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'imagewire-app', version: '1.0.0', private: true, type }));
  await npm(['install', '--prefer-offline', '--no-package-lock', tarball, ...extra], app);
  return app;
}
