// The package's root folder, found from this file upwards, so helpers find dist/ both from
// test/helpers and from a benchmark that esbuild bundled into node_modules/.cache.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder above this module whose package.json is imagewire's. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'imagewire') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('imagewire package root not found');
    dir = parent;
  }
}
