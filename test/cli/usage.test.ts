// How `imagewire` explains itself: --version, --help with real defaults and exit codes, and usage
// errors as one line plus a hint, found before any server starts, as text or (with --json) JSON.
// Spawns the built CLI.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_STEP_DELAY_MS } from '../../src/engine/index.js';
import { exitCodes } from '../../src/cli/exit-codes.js';
import { limits } from '../../src/protocol/index.js';
import { runCli } from './run-cli.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imagewire-usage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The one-line error and the hint, and nothing else: no help dump, no server banner. */
function expectUsageError(result: { code: number | null; stdout: string; stderr: string }, command = 'generate'): void {
  expect(result.code).toBe(exitCodes.usage);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(new RegExp(`^error: [^\\n]+\\n\\(run 'imagewire ${command} --help' for usage\\)\\n$`));
}

describe('imagewire --version', () => {
  it('prints the version of package.json for --version and -V', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag]);
      expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });
});

describe('--help', () => {
  it('shows the real defaults in a human form', async () => {
    const generate = (await runCli(['generate', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(generate).toContain('-n, --n <count>');
    expect(generate).toContain('(default: 512x512)');
    expect(generate).toContain(`(default: ${limits.steps.default})`);
    expect(generate).toContain(`(default: ${DEFAULT_STEP_DELAY_MS} ms)`);
    expect(generate).toContain(`(default: ${limits.strength.default})`);
    for (const command of ['serve', 'worker']) {
      const help = (await runCli([command, '--help'])).stdout.replace(/\s+/g, ' ');
      expect(help).toMatch(new RegExp(`--step-delay <ms> [^(]*\\(default: ${DEFAULT_STEP_DELAY_MS} ms, env: IMAGEWIRE_STEP_DELAY_MS\\)`));
      expect(help).toContain('(default: info, env: IMAGEWIRE_LOG_LEVEL)');
    }
    for (const command of ['generate', 'serve', 'worker', 'health']) {
      const help = (await runCli([command, '--help'])).stdout;
      // No JSON in a default: no objects, arrays or quoted strings.
      expect(help).not.toMatch(/default: [{["]/);
    }
  });

  it('lists the exit codes of every command', async () => {
    const sections: Record<string, number[]> = {
      '': [exitCodes.ok, exitCodes.usage],
      generate: Object.values(exitCodes),
      serve: [exitCodes.ok, exitCodes.failure, exitCodes.usage, exitCodes.connection, exitCodes.interrupted],
      worker: [exitCodes.ok, exitCodes.failure, exitCodes.usage, exitCodes.connection, exitCodes.interrupted],
      health: [exitCodes.ok, exitCodes.failure, exitCodes.usage],
    };
    for (const [command, codes] of Object.entries(sections)) {
      const result = await runCli([...(command === '' ? [] : [command]), '--help']);
      expect(result.code).toBe(0);
      const section = result.stdout.split('Exit codes:\n')[1] ?? '';
      const rows = section.split('\n').filter((line) => /^ {2}\d+ /.test(line));
      expect(rows.map((line) => Number(/\d+/.exec(line)?.[0]))).toEqual(codes);
      // Laid out as the options are: the meanings start in the options' description column.
      const optionColumn = /^ {2}-h, --help +/.exec(result.stdout.split('\n').find((line) => line.startsWith('  -h, --help')) ?? '')?.[0].length;
      for (const row of rows) expect(/^ {2}\d+ +/.exec(row)?.[0].length).toBe(optionColumn);
    }
  });
});

describe('usage errors', () => {
  it('are one line and a hint, exit 2, and start no server', async () => {
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'not an image\n');
    const disguised = join(dir, 'notes.png');
    await writeFile(disguised, 'still not an image\n');
    const image = join(dir, 'seed.png');
    await writeFile(image, await sharp({ create: { width: 64, height: 64, channels: 3, background: '#00f' } }).png().toBuffer());
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    // A PNG signature, then a hole: 7 MiB on paper, nothing on disk; it must be refused unread.
    const huge = join(dir, 'huge.png');
    await writeFile(huge, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    await truncate(huge, 7 * 1024 * 1024);
    const out = join(dir, 'out');
    const variants: [string[], RegExp][] = [
      [['--steps', '0'], /--steps: steps must be an integer from 1 to 100; got 0 \[invalidSteps\]/],
      [['--steps', '101'], /--steps: .*got 101/],
      [['-n', '0'], /--n: numberResults must be an integer from 1 to 20; got 0/],
      [['--n', '21'], /--n: .*got 21/],
      [['--size', '500x512'], /--size: width must be a multiple of 64.*got 500/],
      [['--size', 'big'], /expected WIDTHxHEIGHT/],
      [['--cfg', '31'], /--cfg: CFGScale/],
      [['--format', 'gif'], /expected png, jpg or webp/],
      [['--strength', '0.5'], /--strength needs --seed-image/],
      [['--strength', '2', '--seed-image', image], /--strength: strength must/],
      [['--seed-image', text], /--seed-image .*notes\.txt is not a PNG, JPEG or WebP image/],
      [['--seed-image', disguised], /--seed-image .*notes\.png is not a PNG, JPEG or WebP image/],
      [['--seed-image', join(dir, 'missing.png')], /cannot read --seed-image .*no such file/],
      [['--seed-image', dir], /cannot read --seed-image .*folder/],
      [['--seed-image', '/dev/zero'], /--seed-image \/dev\/zero is not a regular file/],
      [['--seed-image', huge], /--seed-image .*huge\.png is 7340032 bytes; at most \d+ bytes fit in a task/],
      [['--url', 'notaurl', '--api-key', 'k'], /--url must be a ws:\/\/, wss:\/\/, http:\/\/ or https:\/\/ URL such as wss:\/\/ws-api\.runware\.ai\/v1; got "notaurl"/],
      [['--url', 'ftp://example.com/v1', '--api-key', 'k'], /--url must be a ws:\/\//],
      [['--url', 'ws://127.0.0.1:1/v1'], /give both --url and an API key/],
      [['--url', 'ws://127.0.0.1:1/v1', '--api-key', 'k', '--step-delay', '5'], /--step-delay sets the embedded server/],
      [['--out', file], /--out .*a-file is a file, not a folder/],
      [['--out', join(file, 'images')], /--out .*cannot be created: .*a-file is a file, not a folder/],
      [['--bogus'], /unknown option '--bogus'/],
    ];
    for (const [args, message] of variants) {
      const result = await runCli(['generate', 'a cat', '--out', out, ...args]);
      expectUsageError(result);
      expect(result.stderr).toMatch(message);
    }
    expectUsageError(await runCli(['generate']));
    // Nothing was rendered, nothing written: the folder was never needed.
    expect(await readdir(dir)).toEqual(['a-file', 'huge.png', 'notes.png', 'notes.txt', 'seed.png']);
  }, 60_000);

  it('say the range of --seed in plain numbers', async () => {
    for (const seed of ['-5', '0', '9223372036854775808', '99999999999999999999', '1.5', 'abc']) {
      const result = await runCli(['generate', 'a cat', '--seed', seed, '--out', dir]);
      expectUsageError(result);
      expect(result.stderr).toContain('from 1 to 9223372036854775807');
      expect(result.stderr).not.toMatch(/9223372036854776000|e\+\d/);
    }
    // The top seed is exact, and the last image's seed is checked against it in exact digits too.
    const last = await runCli(['generate', 'a cat', '--seed', '9223372036854775807', '-n', '2', '--out', dir]);
    expectUsageError(last);
    expect(last.stderr).toContain('got seed 9223372036854775807 with numberResults 2 [invalidSeed]');
  });

  it('for serve, worker and the program are one line and a hint too', async () => {
    expectUsageError(await runCli(['serve', '--port', '0', '--log-level', 'loud']), 'serve');
    expectUsageError(await runCli(['serve', '--bogus']), 'serve');
    expectUsageError(await runCli(['health', '--timeout', 'soon']), 'health');
    const unknown = await runCli(['paint']);
    expect(unknown.code).toBe(exitCodes.usage);
    expect(unknown.stderr).toBe("error: unknown command 'paint'\n(run 'imagewire --help' for usage)\n");
  });

  it('refuses an --out folder this user cannot write before anything is rendered', async () => {
    // As root every folder is writable; the CLI then runs as nobody, for whom it is not.
    const asRoot = process.getuid?.() === 0;
    const locked = join(dir, 'locked');
    await mkdir(locked);
    await chmod(dir, 0o755);
    await chmod(locked, 0o555);
    const user = asRoot ? { uid: 65534, gid: 65534 } : {};
    for (const out of [locked, join(locked, 'images')]) {
      const result = await runCli(['generate', 'a cat', '--size', '128x128', '--steps', '2', '--out', out], {}, user);
      expectUsageError(result);
      expect(result.stderr).toMatch(/--out .* is not a folder this user can write to: permission denied \(EACCES\)/);
    }
    expect(await readdir(locked)).toEqual([]);
  });
});

describe('--json errors', () => {
  it('are one JSON document on stderr, with stdout empty', async () => {
    const cases: [string[], Record<string, unknown>][] = [
      [['--steps', '0'], { kind: 'usage', exitCode: 2, code: 'invalidSteps' }],
      [['--bogus'], { kind: 'usage', exitCode: 2 }],
      [['--seed', '-5'], { kind: 'usage', exitCode: 2 }],
      [['--url', 'notaurl', '--api-key', 'k'], { kind: 'usage', exitCode: 2 }],
    ];
    for (const [args, expected] of cases) {
      const result = await runCli(['generate', 'a cat', '--json', '--out', dir, ...args]);
      expect(result.code).toBe(expected.exitCode);
      expect(result.stdout).toBe('');
      const report = JSON.parse(result.stderr) as { error: Record<string, unknown> };
      expect(report.error).toMatchObject(expected);
      expect(report.error.message).toEqual(expect.any(String));
      expect(result.stderr).not.toContain('--help');
    }
  });
});
