// The browser entry, bundled from source as an app's bundler would: no `ws`, no Node built-ins,
// no server, engine or CLI code; and its size, printed for the record.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('browser bundle', () => {
  it('contains the client and nothing of Node, ws, the server, the engine or the CLI', async () => {
    const result = await build({
      entryPoints: [`${root}src/browser.ts`],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      minify: true,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const forbidden = inputs.filter((input) => /node_modules\/(ws|isomorphic-ws|sharp)\//.test(input) || /src\/(server|engine|cli)\//.test(input) || input.startsWith('node:') || input.endsWith('websocket-node.ts'));
    expect(forbidden).toEqual([]);
    const text = result.outputFiles[0]?.text ?? '';
    expect(text).not.toMatch(/from\s*["'](node:|ws["'])/);
    expect(text).toContain('imageInference');
    console.log(`browser bundle: ${text.length} B minified, ${gzipSync(text).length} B gzip`);
  });
});
