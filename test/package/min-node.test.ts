// The lowest Node that package.json's `engines` allows runs the packed package: the devDependency
// `node-min` is that exact Node from npm (the `node` package, whose install script fetches the
// binary for the machine's platform; allowed in package.json's allowScripts), and under it an app that installed
// the tarball (with sharp) requires `imagewire` from CommonJS, imports every entry, generates
// images end to end (client and server), runs the CLI's `generate` and loads sharp.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installApp, manifest, packTarball } from '../helpers/packed.js';
import { packageRoot } from '../helpers/package-root.js';

const run = promisify(execFile);
const minNode = join(packageRoot(), 'node_modules', 'node-min', 'bin', 'node');

/** The lowest version `engines.node` allows: the first `X.Y.Z` of its first range. */
function enginesMinimum(): string {
  const range = manifest().engines.node;
  const match = /(\d+\.\d+\.\d+)/.exec(range);
  if (match?.[1] === undefined) throw new Error(`engines.node has no version: ${range}`);
  return match[1];
}

/** Runs `file` (in the app) with the minimum Node; resolves with its stdout, throws with its stderr. */
async function underMinNode(app: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(minNode, [...args], { cwd: app, env: { PATH: `${dirname(minNode)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '' }, timeout: 60_000 });
    return stdout;
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(`${failure.message}\n${failure.stderr ?? ''}`, { cause: error });
  }
}

let app = '';
let tarball = '';

beforeAll(async () => {
  tarball = await packTarball();
  app = await installApp(tarball, [`sharp@${manifest().peerDependencies.sharp ?? ''}`]);
}, 180_000);

afterAll(() => {
  for (const dir of [app, dirname(tarball)]) if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('the lowest supported Node', () => {
  it('is the devDependency node-min, the exact version engines.node starts at', async () => {
    expect(manifest().devDependencies['node-min']).toBe(`npm:node@${enginesMinimum()}`);
    // Its install script puts the binary in place, so `npm ci` must be allowed to run it.
    expect(manifest().allowScripts?.node).toBe(true);
    expect(existsSync(minNode), 'node-min is not installed: run npm ci').toBe(true);
    const version = (await run(minNode, ['--version'])).stdout.trim();
    expect(version).toBe(`v${enginesMinimum()}`);
  });

  it('requires `imagewire` and its entries from CommonJS', async () => {
    writeFileSync(
      join(app, 'require.cjs'),
      `const client = require('imagewire');
       const protocol = require('imagewire/protocol');
       const server = require('imagewire/server');
       console.log(JSON.stringify({ node: process.version, createClient: typeof client.createClient, validateTask: typeof protocol.validateTask, createServer: typeof server.createServer }));`,
    );
    const out = JSON.parse(await underMinNode(app, ['require.cjs'])) as Record<string, string>;
    expect(out).toEqual({ node: `v${enginesMinimum()}`, createClient: 'function', validateTask: 'function', createServer: 'function' });
  });

  it('imports every entry, loads sharp, and generates images end to end with a client and a server', async () => {
    writeFileSync(
      join(app, 'smoke.mjs'),
      `const entries = {};
       for (const name of ['imagewire', 'imagewire/server', 'imagewire/gateway', 'imagewire/protocol']) entries[name] = Object.keys(await import(name)).length;
       const pkg = (await import('imagewire/package.json', { with: { type: 'json' } })).default;
       const sharp = (await import('sharp')).default;
       const red = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
       const { createClient } = await import('imagewire');
       const { createServer } = await import('imagewire/server');
       const server = await createServer({ port: 0, stepDelayMs: 0, logger: false });
       const client = createClient({ apiKey: 'local', url: server.url });
       try {
         const task = client.imageInference({ positivePrompt: 'a lighthouse at dusk', model: 'runware:101@1', width: 128, height: 128, steps: 3, numberResults: 2, outputFormat: 'PNG', previews: true });
         let previews = 0;
         for await (const event of task) if (event.type === 'preview') previews++;
         const images = await task;
         const png = images.map((image) => Buffer.from(image.bytes).subarray(1, 4).toString('latin1'));
         console.log(JSON.stringify({ entries, version: pkg.version, sharp: typeof sharp.versions.vips, red: red.length > 0, previews, png }));
       } finally {
         await client.close();
         await server.close();
       }`,
    );
    const out = JSON.parse(await underMinNode(app, ['smoke.mjs'])) as { entries: Record<string, number>; version: string; sharp: string; red: boolean; previews: number; png: string[] };
    expect(Object.values(out.entries).every((count) => count > 0)).toBe(true);
    expect(out.version).toBe(manifest().version);
    expect(out).toMatchObject({ sharp: 'string', red: true, png: ['PNG', 'PNG'] });
    expect(out.previews).toBeGreaterThan(0);
  });

  it('runs the CLI: `imagewire generate` with its embedded server writes PNG files', async () => {
    const bin = join(app, 'node_modules', 'imagewire', 'dist', 'cli', 'main.js');
    const printed = await underMinNode(app, [bin, 'generate', 'a red fox in snow', '--n', '2', '--size', '128x128', '--steps', '2', '--step-delay', '0', '--out', 'out', '--json']);
    expect(printed).toContain('.png');
    const files = readdirSync(join(app, 'out')).filter((name) => name.endsWith('.png'));
    expect(files).toHaveLength(2);
    for (const name of files) expect(readFileSync(join(app, 'out', name)).subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
