// Every code sample of README.md, docs/*.md and the examples' READMEs is checked, so documentation
// that drifts from the code fails CI: TypeScript and JavaScript are type-checked against the
// package's published types (the build, by package self-reference) and run against the local server
// they start, unless a `<!-- sample: typecheck-only — why -->` marker says they cannot run; shell
// lines that call `imagewire` use only commands and options its `--help` lists; JSON parses. See
// test/docs/samples/markdown.ts for the markers.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { allSamples, extractSamples, scriptLanguages, type Sample } from './samples/markdown.js';
import { missingOutput, runSample } from './samples/run.js';
import { CliHelp, checkShellSample } from './samples/shell.js';
import { typecheckSamples, type SampleDiagnostic } from './samples/typecheck.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const samples = allSamples(root);
const name = (sample: Sample) => `${sample.file}:${sample.line}`;
const checked = (sample: Sample) => sample.mode !== 'not-checked' && sample.mode !== 'output';
const scripts = samples.filter((sample) => scriptLanguages.has(sample.lang) && checked(sample));
const runnable = scripts.filter((sample) => sample.mode === 'run');
const shell = samples.filter((sample) => ['sh', 'bash', 'shell', 'console'].includes(sample.lang) && checked(sample));
const json = samples.filter((sample) => sample.lang === 'json' && checked(sample));
/** A sample runs against its own loopback server; this bounds it (a hung sample fails, never blocks). */
const RUN_BOUND_MS = 30_000;

function format(diagnostics: readonly SampleDiagnostic[]): string[] {
  return diagnostics.map((diagnostic) => `${diagnostic.sample.file}:${diagnostic.line}: ${diagnostic.message}`);
}

/** A JSON block is one document, or one document per line (frames as they go over the wire). */
function parseJsonBlock(code: string): void {
  try {
    JSON.parse(code);
  } catch {
    for (const line of code.split('\n').filter((entry) => entry.trim() !== '')) JSON.parse(line);
  }
}

describe('documentation code samples', () => {
  let diagnostics: SampleDiagnostic[] = [];

  beforeAll(() => {
    if (!existsSync(join(root, 'dist/index.d.ts'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    diagnostics = typecheckSamples(root, scripts);
  }, 120_000);

  it('finds the samples of every file', () => {
    expect(scripts.length).toBeGreaterThan(10);
    expect(runnable.length).toBeGreaterThan(4);
    expect(shell.length).toBeGreaterThan(5);
  });

  it.each(scripts.map((sample) => [name(sample), sample] as const))('%s type-checks', (_, sample) => {
    expect(format(diagnostics.filter((diagnostic) => diagnostic.sample === sample))).toEqual([]);
  });

  it.each(runnable.map((sample) => [name(sample), sample] as const))(
    '%s runs to completion',
    async (_, sample) => {
      const run = await runSample(root, sample, RUN_BOUND_MS);
      const context = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
      expect(run.timedOut, `still running after ${RUN_BOUND_MS} ms\n${context}`).toBe(false);
      expect(run.code, context).toBe(0);
      if (sample.expectedOutput !== undefined) expect(missingOutput(sample.expectedOutput, run.stdout), context).toEqual([]);
    },
    RUN_BOUND_MS + 10_000,
  );

  const cli = new CliHelp(root);
  it.each(shell.map((sample) => [name(sample), sample] as const))('%s uses only commands and options that exist', (_, sample) => {
    const problems = checkShellSample(root, cli, sample.code).map((problem) => `${sample.file}:${sample.line + 1 + problem.offset}: ${problem.message}`);
    expect(problems).toEqual([]);
  });

  it.each(json.map((sample) => [name(sample), sample] as const))('%s parses as JSON', (_, sample) => {
    expect(() => parseJsonBlock(sample.code)).not.toThrow();
  });
});

describe('the sample checks catch drift', () => {
  const doc = (body: string) => extractSamples('drift.md', body);

  it('reports a type error on its Markdown line', () => {
    const [sample] = doc("Intro\n\n```ts\nimport { createClient } from 'imagewire';\n\nconst client = createClient({ apiKey: 'k', taskTimeoutMilliseconds: 5 });\nawait client.close();\n```\n");
    if (sample === undefined) throw new Error('no sample');
    const found = format(typecheckSamples(root, [sample]));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^drift\.md:6: .*taskTimeoutMilliseconds/);
  });

  it('type-checks a fragment with its marker prelude, and fails it without', () => {
    const body = "<!-- sample: typecheck-only — a fragment\nimport type { ImagewireServer } from 'imagewire/server';\ndeclare const server: ImagewireServer;\n-->\n```ts\nconsole.log(server.httpUrl);\n```\n";
    const [withPrelude] = doc(body);
    const [without] = doc(body.replace(/<!--[\s\S]*-->\n/, ''));
    if (withPrelude === undefined || without === undefined) throw new Error('no sample');
    expect(withPrelude.mode).toBe('typecheck-only');
    expect(format(typecheckSamples(root, [withPrelude]))).toEqual([]);
    expect(format(typecheckSamples(root, [without])).join('\n')).toMatch(/Cannot find name 'server'/);
  });

  it('refuses a marker that does not say why a sample is not run', () => {
    expect(() => doc('<!-- sample: typecheck-only -->\n```ts\nconst x = 1;\n```\n')).toThrow(/says why/);
  });

  it('fails a sample that throws, and one whose output differs from its output block', async () => {
    const [throws] = doc("```js\nthrow new Error('broken sample');\n```\n");
    const [printing] = doc("```js\nconsole.log('done: 3 images');\n```\n<!-- sample: output -->\n```text\ndone: … images\nall good\n```\n");
    if (throws === undefined || printing?.expectedOutput === undefined) throw new Error('no sample');
    const failed = await runSample(root, throws, RUN_BOUND_MS);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('broken sample');
    const printed = await runSample(root, printing, RUN_BOUND_MS);
    expect(printed.code).toBe(0);
    expect(missingOutput(printing.expectedOutput, printed.stdout)).toEqual(['all good']);
  });

  it('reports an option or a command the CLI does not have, an npm script and a script file that do not exist', () => {
    const cli = new CliHelp(root);
    const problems = checkShellSample(root, cli, 'npx imagewire serve --port 8080 --colour red\nimagewire paint "x"\nnpm run imagewire -- generate "a fox" --steps 4 --nope\nnpm run no-such-script\nnpm test\nPORT=0 node examples/nowhere/server.mjs\nnode examples/node-service/server.mjs');
    expect(problems.map((problem) => `${problem.offset}: ${problem.message}`)).toEqual([
      '0: imagewire serve has no option --colour (see imagewire serve --help)',
      expect.stringMatching(/^1: imagewire has no command "paint"/),
      '2: imagewire generate has no option --nope (see imagewire generate --help)',
      '3: package.json has no script "no-such-script"',
      '5: examples/nowhere/server.mjs does not exist (paths are from the package root)',
    ]);
  });
});
