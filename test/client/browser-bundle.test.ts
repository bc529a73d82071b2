// The browser entry, bundled from source as an app's bundler would: no `ws`, no Node built-ins,
// no server, engine or CLI code; an app that imports only createClient gets none of the opt-in
// parts (request validation, the images API, live sessions); and its size, printed for the record.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { browserBuild } from '../helpers/browser-build.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The modules an app made of `contents` ships, bundled and tree-shaken as for production. */
async function appInputs(contents: string): Promise<string[]> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts' },
    ...browserBuild,
  });
  // Modules tree-shaking emptied still appear among the inputs; only those with output count.
  const output = Object.values(result.metafile.outputs)[0];
  return Object.entries(output?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path);
}

/** Modules an app reaches only by importing them: validation, the images API, live sessions. */
const optIn = /src\/protocol\/validate\/(validate|validate-image-inference|checker|rules)\.ts$|src\/client\/(validate-requests|live)\.ts$|src\/client\/http\//;

describe('browser bundle', () => {
  it('contains the client and nothing of Node, ws, the server, the engine or the CLI', async () => {
    const result = await build({
      entryPoints: [`${root}src/browser.ts`],
      ...browserBuild,
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

describe('browser app that imports only createClient', () => {
  it('ships none of the opt-in parts, and gets request validation by importing validateRequests', async () => {
    const bare = await appInputs(`import { createClient } from './src/browser.ts'; globalThis.imagewire = createClient;`);
    expect(bare).toContain('src/client/client.ts');
    expect(bare.filter((input) => optIn.test(input))).toEqual([]);
    expect(bare.filter((input) => input.includes('node_modules/eventemitter3/'))).toEqual([]);
    const validating = await appInputs(`import { createClient } from './src/browser.ts'; import { validateRequests } from './src/validate.ts'; globalThis.imagewire = (apiKey) => createClient({ apiKey, validate: validateRequests });`);
    expect(validating).toEqual(expect.arrayContaining(['src/protocol/validate/validate-image-inference.ts', 'src/client/validate-requests.ts']));
    expect(validating.filter((input) => /src\/client\/live\.ts$|src\/client\/http\//.test(input))).toEqual([]);
  });
});
