// `imagewire generate` while it runs: progress lines on a stderr that is not a terminal, written as
// the steps happen; SIGTERM cancelling like Ctrl-C; the /v1 hint; errors of a run as JSON.
// Spawns the built CLI against its embedded server or a real reference server on loopback.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodes } from '../../src/cli/exit-codes.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { eventually } from '../helpers/eventually.js';
import { startTestServer } from '../helpers/test-server.js';
import { cliMain, runCli, startCli } from './run-cli.js';

/** util-linux `script` gives the CLI a real terminal (a pty) whose width `stty` sets. */
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/** Runs the CLI on a terminal `columns` wide; resolves with everything the terminal showed. */
function runOnTerminal(args: string[], columns: number): Promise<{ code: number | null; screen: string }> {
  const command = `stty cols ${columns} rows 60; exec ${[process.execPath, cliMain, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ')}`;
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env: { ...process.env, IMAGEWIRE_API_KEY: undefined, IMAGEWIRE_API_KEYS: undefined }, stdio: ['ignore', 'pipe', 'inherit'] });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
  return new Promise((done) => child.once('close', (code) => done({ code, screen })));
}

let out = '';
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'imagewire-run-'));
});
afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const address = probe.address();
  await new Promise<void>((done) => probe.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('progress off a terminal', () => {
  it('comes as lines while the images form, not all at the end', async () => {
    const running = startCli(['generate', 'a lighthouse at dusk', '-n', '2', '--size', '128x128', '--steps', '8', '--step-delay', '120', '--out', out]);
    // The first line arrives while the process runs and before any image is written.
    await eventually(() => running.stderrLines(), (lines) => lines.some(({ line }) => line.startsWith('image ')), 15_000);
    expect(running.child.exitCode).toBeNull();
    expect(running.stdout()).toBe('');
    expect(await running.exit).toBe(0);
    const progress = running.stderrLines().filter(({ line }) => line.startsWith('image '));
    for (const { line } of progress) expect(line).toMatch(/^image [12]\/2: step \d\/8( \(done\))?$/);
    expect(progress.filter(({ line }) => line.endsWith('(done)')).map(({ line }) => line)).toEqual(['image 1/2: step 8/8 (done)', 'image 2/2: step 8/8 (done)']);
    // Image 1 finished, and said so, while the process still ran (image 2 was still to come).
    expect(progress.find(({ line }) => line === 'image 1/2: step 8/8 (done)')?.whileRunning).toBe(true);
    // More than the two ends: steps are reported as they happen (the throttle is tested in progress.test.ts).
    expect(progress.filter(({ line }) => !line.endsWith('(done)')).length).toBeGreaterThan(0);
    expect(running.stdout().trim().split('\n')).toHaveLength(2);
  });

  it('pads the index so that 10 or more images align', async () => {
    const result = await runCli(['generate', 'a field of poppies', '-n', '10', '--size', '128x128', '--steps', '2', '--step-delay', '0', '--out', out]);
    expect(result.code).toBe(0);
    const done = result.stderr.split('\n').filter((line) => line.endsWith('(done)'));
    expect(done).toHaveLength(10);
    expect(done).toContain('image  1/10: step 2/2 (done)');
    expect(done).toContain('image 10/10: step 2/2 (done)');
    expect(new Set(done.map((line) => line.indexOf(':'))).size).toBe(1);
  });
});

describe('progress on a terminal', () => {
  it.skipIf(!hasScript)('draws bars that fit the width of the terminal, aligned for 10 or more images', async () => {
    for (const columns of [100, 44]) {
      const { code, screen } = await runOnTerminal(['generate', 'a field of poppies', '-n', '10', '--size', '128x128', '--steps', '4', '--step-delay', '20', '--out', out], columns);
      expect(code).toBe(0);
      // eslint-disable-next-line no-control-regex
      const lines = screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n').split(/[\r\n]+/).filter((line) => line.startsWith(' image '));
      expect(lines.length).toBeGreaterThanOrEqual(10);
      for (const line of lines) {
        expect(line.length).toBeLessThan(columns);
        expect(line).toMatch(/^ image [ 1]\d \[[^\]]+\] \d\/4 steps$/);
      }
      expect(lines).toContain(` image 10 [${'█'.repeat(Math.min(40, columns - 1 - 9 - 4 - 9))}] 4/4 steps`);
      expect(new Set(lines.map((line) => line.indexOf(']'))).size).toBe(1);
    }
  });
});

describe('SIGTERM', () => {
  it('cancels the running task on the server and exits 130, as Ctrl-C does', async () => {
    const engine = createGateEngine();
    await using server = await startTestServer({ apiKeys: ['k'], engine });
    const running = startCli(['generate', 'a slow cat', '--size', '128x128', '--steps', '2', '--url', server.url, '--api-key', 'k', '--out', out]);
    await engine.started(1);
    await engine.waiting(1);
    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(exitCodes.interrupted);
    expect(running.stderr()).toMatch(/imagewire: interrupted; the task was cancelled\n$/);
    await engine.aborted(0);
    await eventually(() => server.stats().tasksRunning, (count) => count === 0);
    expect(await readdir(out)).toEqual([]);
  });

  it('stops the embedded server too, and with --json says so in JSON', async () => {
    const running = startCli(['generate', 'a slow cat', '--size', '128x128', '--steps', '50', '--step-delay', '200', '--json', '--out', out]);
    await eventually(() => running.stderr(), (text) => text.includes('embedded local server'), 15_000);
    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(exitCodes.interrupted);
    expect(running.stdout()).toBe('');
    const report = JSON.parse(running.stderr().slice(running.stderr().indexOf('{'))) as { error: Record<string, unknown> };
    expect(report.error).toEqual({ kind: 'interrupted', exitCode: 130, message: 'interrupted; the task was cancelled' });
  });
});

describe('--url', () => {
  it('without /v1 gets a hint naming the service URL', async () => {
    const port = await closedPort();
    const result = await runCli(['generate', 'a cat', '--url', `ws://127.0.0.1:${port}`, '--api-key', 'k', '--out', out]);
    expect(result.stderr.split('\n')[0]).toBe(`warning: --url ws://127.0.0.1:${port} has no /v1 path; Runware's service and imagewire servers listen at /v1 (e.g. wss://ws-api.runware.ai/v1)`);
    expect(result.code).toBe(exitCodes.connection);
  }, 30_000);

  it('with /v1 gets none; an http URL reaches the same server; -n is --n', async () => {
    await using server = await startTestServer({ apiKeys: ['k'] });
    const url = server.url.replace(/^ws:/, 'http:');
    const result = await runCli(['generate', 'a blue whale', '-n', '2', '--size', '128x128', '--steps', '2', '--url', url, '--api-key', 'k', '--json', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { images: unknown[] }).images).toHaveLength(2);
  });

  it('errors of the run are JSON with --json: an unreachable server', async () => {
    const port = await closedPort();
    const result = await runCli(['generate', 'a cat', '--url', `ws://127.0.0.1:${port}/v1`, '--api-key', 'k', '--json', '--out', out]);
    expect(result.code).toBe(exitCodes.connection);
    expect(result.stdout).toBe('');
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { kind: 'connection', exitCode: 4, code: 'unreachable', message: expect.stringMatching(/^cannot reach ws:\/\/127\.0\.0\.1:\d+\/v1/) } });
  }, 30_000);
});

describe('seeds', () => {
  it('names files and reports seeds above 2^53 - 1 with their exact digits', async () => {
    const result = await runCli(['generate', 'a cat', '--seed', '9223372036854775806', '-n', '2', '--size', '128x128', '--steps', '2', '--step-delay', '0', '--json', '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/"seed": 9223372036854775806,[\s\S]*"seed": 9223372036854775807,/);
    expect((await readdir(out)).map((name) => /-(\d)-seed(\d+)\.png$/.exec(name)?.slice(1)).sort()).toEqual([
      ['0', '9223372036854775806'],
      ['1', '9223372036854775807'],
    ]);
  });
});
