// The exports map resolves for Node and for browser bundlers, and the browser build carries no
// `ws`, no Node built-ins and no server, engine or CLI code.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { browserBuild } from '../helpers/browser-build.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function resolveWith(specifier: string, platform: 'node' | 'browser'): Promise<string[]> {
  const result = await build({
    stdin: { contents: `export * from '${specifier}';`, resolveDir: root, loader: 'js' },
    bundle: true,
    write: false,
    platform,
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
    // Only resolution is under test here: third-party packages stay out of the graph.
    external: ['uuid', 'ws', 'sharp'],
  });
  return Object.keys(result.metafile.inputs);
}

async function bundleBrowserEntry(): Promise<{ metafile: Metafile; text: string }> {
  const result = await build({
    stdin: { contents: "export * from 'imagewire';", resolveDir: root, loader: 'js' },
    ...browserBuild,
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('esbuild produced no output');
  return { metafile: result.metafile, text: output.text };
}

describe('package exports', () => {
  it('has a build to resolve against', () => {
    expect(existsSync(`${root}dist/index.js`), 'dist/ is missing: run `npm run build` (npm test does)').toBe(true);
  });

  it('resolves `imagewire` to the Node build in Node', async () => {
    const inputs = await resolveWith('imagewire', 'node');
    expect(inputs).toContain('dist/index.js');
    expect(inputs).not.toContain('dist/browser.js');
  });

  it('resolves `imagewire` to the browser build under the browser condition', async () => {
    const inputs = await resolveWith('imagewire', 'browser');
    expect(inputs).toContain('dist/browser.js');
    expect(inputs).not.toContain('dist/index.js');
  });

  it('resolves `imagewire/validate` (the opt-in request validation) for browsers and Node alike', async () => {
    for (const platform of ['browser', 'node'] as const) {
      const inputs = await resolveWith('imagewire/validate', platform);
      expect(inputs).toContain('dist/validate.js');
      expect(inputs).toContain('dist/protocol/validate/validate.js');
      expect(inputs.filter((input) => /dist\/(index|browser)\.js$/.test(input))).toEqual([]);
    }
  });

  it('refuses `imagewire/server` to browser bundles', async () => {
    await expect(resolveWith('imagewire/server', 'browser')).rejects.toThrow();
  });

  it('bundles the browser entry with no ws, no Node built-ins and no server code', async () => {
    const { metafile, text } = await bundleBrowserEntry();
    const inputs = Object.keys(metafile.inputs);
    const forbidden = inputs.filter((input) =>
      /node_modules\/(ws|isomorphic-ws|sharp|@img|commander|cli-progress)\//.test(input) ||
      /dist\/(server|engine|cli)\//.test(input) ||
      input.startsWith('node:'),
    );
    expect(forbidden).toEqual([]);
    expect(text).not.toMatch(/from\s*["'](node:|ws["'])/);
    expect(text).not.toMatch(/require\(["'](ws|node:|fs|net|http|crypto|stream)["']\)/);
    // The protocol validation is in the bundle, not an empty shell.
    expect(text).toContain('imageInference');
    expect(text).toContain('invalidWidth');
  });
});
