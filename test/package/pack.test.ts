// What `npm pack` puts in the package: the build, docs without the screenshot, README, LICENSE and
// CHANGELOG; source maps that carry their sources; `main`, `types` and `typesVersions` that point at
// shipped files. And the types as an app sees them: a TypeScript app that installed the tarball
// without sharp type-checks against `imagewire` and `imagewire/server` under every
// moduleResolution (node10, node16, bundler), with skipLibCheck off.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installApp, npm, packTarball } from '../helpers/packed.js';
import { packageRoot } from '../helpers/package-root.js';

const run = promisify(execFile);
const root = packageRoot();

interface PackedFile {
  path: string;
}

let files: string[] = [];

beforeAll(async () => {
  const [packed] = JSON.parse(await npm(['pack', '--dry-run', '--json'], root)) as { files: PackedFile[] }[];
  files = (packed?.files ?? []).map((file) => file.path);
}, 60_000);

describe('the packed files', () => {
  it('are the build, the docs, README, LICENSE, CHANGELOG and package.json', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'docs/client.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/web/page.js']));
    const outside = files.filter((path) => !/^(dist|docs)\//.test(path) && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(path));
    expect(outside).toEqual([]);
  });

  it('leave out the README screenshot and every other picture', () => {
    expect(files).not.toContain('docs/live-page.png');
    expect(files.filter((path) => /\.(png|jpe?g|webp|gif)$/i.test(path))).toEqual([]);
  });

  it('carry an MIT LICENSE, as package.json says', () => {
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))).toMatchObject({ license: 'MIT' });
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(license.split('\n')[0]).toBe('MIT License');
    expect(license).toContain('Permission is hereby granted, free of charge');
  });

  it('ship source maps only with their sources inside, and no declaration maps', () => {
    const maps = files.filter((path) => path.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    expect(maps.filter((path) => path.endsWith('.d.ts.map'))).toEqual([]);
    const missing = maps.filter((path) => {
      const map = JSON.parse(readFileSync(join(root, path), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      return map.sourcesContent?.length !== map.sources.length || map.sourcesContent.some((content) => typeof content !== 'string' || content.length === 0);
    });
    expect(missing).toEqual([]);
  });

  it('hold every file that main, types, typesVersions, bin and exports point at', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      bin: Record<string, string>;
      typesVersions: Record<string, Record<string, string[]>>;
      exports: Record<string, string | Record<string, string>>;
    };
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin), ...Object.values(pkg.typesVersions['*'] ?? {}).flat()];
    for (const entry of Object.values(pkg.exports)) targets.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)));
    expect(pkg.main).toBe('./dist/index.js');
    expect(pkg.types).toBe('./dist/index.d.ts');
    expect(Object.keys(pkg.typesVersions['*'] ?? {}).sort()).toEqual(['gateway', 'protocol', 'server']);
    expect(targets.map((target) => target.replace(/^\.\//, '')).filter((path) => !files.includes(path))).toEqual([]);
  });
});

describe('the types, in an app without sharp', () => {
  let app = '';
  let tarball = '';
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

  beforeAll(async () => {
    tarball = await packTarball();
    app = await installApp(tarball, [], 'module');
  }, 180_000);

  afterAll(() => {
    for (const dir of [app, dirname(tarball)]) if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  /** Type-checks the app's index.ts under `options`; resolves with tsc's output ('' when clean). */
  async function typeCheck(options: Record<string, string>): Promise<string> {
    const config = { compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', lib: ['ES2023', 'DOM'], types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], ...options }, files: ['index.ts'] };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(config));
    try {
      await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
      return '';
    } catch (error) {
      return (error as { stdout?: string }).stdout ?? String(error);
    }
  }

  it('has no sharp installed (it is an optional peer)', () => {
    expect(() => createRequire(join(app, 'index.js')).resolve('sharp')).toThrow();
  });

  it('type-checks every entry under node10, node16 and bundler resolution', async () => {
    writeFileSync(
      join(app, 'index.ts'),
      `import { createClient, type ImageResult, type ImagewireErrorCode } from 'imagewire';
       import { createServer, type ServerOptions } from 'imagewire/server';
       import { validateTask } from 'imagewire/protocol';
       import { createUpstreamEngine } from 'imagewire/gateway';
       void createUpstreamEngine;
       const options: ServerOptions = { port: 0, openai: { b64Json: 'base64' } };
       export async function main(): Promise<ImageResult[]> {
         const server = await createServer(options);
         const client = createClient({ apiKey: 'k', url: server.url });
         const code: ImagewireErrorCode = 'invalidWidth';
         void validateTask; void code;
         return await client.imageInference({ positivePrompt: 'a fox', model: 'runware:101@1', width: 128, height: 128 });
       }
       // @ts-expect-error a typo in an option is caught through the declarations
       export const typo: ServerOptions = { prot: 1 };`,
    );
    const results = {
      node10: await typeCheck({ module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0' }),
      node16: await typeCheck({ module: 'node16', moduleResolution: 'node16' }),
      bundler: await typeCheck({ module: 'esnext', moduleResolution: 'bundler' }),
    };
    expect(results).toEqual({ node10: '', node16: '', bundler: '' });
  }, 180_000);
});
