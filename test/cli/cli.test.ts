// The `imagewire` binary as users run it: a child process of the built dist/cli/main.js, against
// its embedded server or a real reference server on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGateEngine } from '../helpers/gate-engine.js';
import { eventually } from '../helpers/eventually.js';
import { startTestServer } from '../helpers/test-server.js';

const main = resolve(import.meta.dirname, '../../dist/cli/main.js');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(args: string[], env: Record<string, string | undefined> = {}): Run {
  const child = spawn(process.execPath, [main, ...args], {
    env: { ...process.env, IMAGEWIRE_API_KEY: undefined, IMAGEWIRE_API_KEYS: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

async function run(args: string[], env?: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const started = start(args, env);
  const code = await started.exit;
  return { code, stdout: started.stdout(), stderr: started.stderr() };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const address = probe.address();
  await new Promise<void>((done) => probe.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

let out: string;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'imagewire-cli-'));
});
afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

interface JsonResult {
  taskUUID: string;
  images: { index: number; path: string; seed: number; imageUUID: string; bytes: number }[];
}

describe('imagewire generate', () => {
  it('runs the embedded server with no URL and no key, says so, and writes real images', async () => {
    const result = await run(['generate', 'a lighthouse at dusk, teal and orange', '--n', '2', '--size', '256x192', '--steps', '6', '--out', out, '--step-delay', '0']);
    expect(result.stderr).toMatch(/embedded local server at ws:\/\/127\.0\.0\.1:\d+\/v1/);
    // Off a terminal progress comes as lines (bars are for terminals, see progress.test.ts).
    expect(result.stderr).toContain('image 1/2: step 6/6 (done)\n');
    expect(result.stderr).toContain('image 2/2: step 6/6 (done)\n');
    expect(result.code).toBe(0);
    const paths = result.stdout.trim().split('\n');
    expect(paths).toHaveLength(2);
    expect((await readdir(out)).sort()).toEqual(paths.map((path) => path.slice(out.length + 1)).sort());
    for (const path of paths) {
      const meta = await sharp(path).metadata();
      expect(meta).toMatchObject({ format: 'png', width: 256, height: 192 });
    }
  });

  it('prints machine-readable results with --json; seeds are seed + k and images are deterministic', async () => {
    const args = ['generate', 'red fox in snow', '--n', '2', '--size', '128x128', '--steps', '3', '--seed', '41', '--format', 'webp', '--json', '--step-delay', '0'];
    const first = await run([...args, '--out', join(out, 'a')]);
    expect(first.code).toBe(0);
    const parsed = JSON.parse(first.stdout) as JsonResult;
    expect(parsed.images.map((image) => image.seed)).toEqual([41, 42]);
    expect(parsed.images.map((image) => image.index)).toEqual([0, 1]);
    for (const image of parsed.images) {
      expect(image.path.endsWith('.webp')).toBe(true);
      expect((await sharp(image.path).metadata()).format).toBe('webp');
    }
    expect(first.stderr).not.toMatch(/steps/); // no bars with --json

    // Image 2 of seed 41 is image 1 of seed 42, byte for byte.
    const second = JSON.parse((await run([...args.slice(0, 8), '--seed', '42', '--n', '1', '--format', 'webp', '--json', '--step-delay', '0', '--out', join(out, 'b')])).stdout) as JsonResult;
    const a = await sharp(parsed.images[1]!.path).raw().toBuffer();
    const b = await sharp(second.images[0]!.path).raw().toBuffer();
    expect(a.equals(b)).toBe(true);
  });

  it('starts from --seed-image with --strength', async () => {
    const seedImage = join(out, 'seed.png');
    await writeFile(seedImage, await sharp({ create: { width: 128, height: 128, channels: 3, background: '#ff0000' } }).png().toBuffer());
    const result = await run(['generate', 'a quiet lake', '--size', '128x128', '--steps', '4', '--seed-image', seedImage, '--strength', '0.1', '--json', '--step-delay', '0', '--out', out]);
    expect(result.code).toBe(0);
    const image = (JSON.parse(result.stdout) as JsonResult).images[0]!;
    const { channels } = await sharp(image.path).stats();
    // At strength 0.1 the red seed image dominates.
    expect(channels[0]!.mean).toBeGreaterThan(channels[1]!.mean + 100);
  });

  it('refuses bad arguments with exit code 2 and a message naming the rule', async () => {
    const badSize = await run(['generate', 'a cat', '--size', 'big', '--out', out]);
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toMatch(/expected WIDTHxHEIGHT/);

    const badWidth = await run(['generate', 'a cat', '--size', '500x512', '--out', out, '--step-delay', '0']);
    expect(badWidth.code).toBe(2);
    expect(badWidth.stderr).toMatch(/width must be a multiple of 64.*got 500.*\[invalidWidth\]/);

    const badFormat = await run(['generate', 'a cat', '--format', 'gif', '--out', out]);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/expected png, jpg or webp/);

    const urlWithoutKey = await run(['generate', 'a cat', '--url', 'ws://127.0.0.1:1/v1', '--out', out]);
    expect(urlWithoutKey.code).toBe(2);
    expect(urlWithoutKey.stderr).toMatch(/give both --url and an API key/);

    const missingSeedImage = await run(['generate', 'a cat', '--seed-image', join(out, 'nope.png'), '--out', out]);
    expect(missingSeedImage.code).toBe(2);
    expect(missingSeedImage.stderr).toMatch(/cannot read --seed-image/);
    expect(await readdir(out)).toEqual([]);
  });

  it('talks to a remote server with --url and a key from the environment; a refused key exits 3', async () => {
    await using server = await startTestServer({ apiKeys: ['right-key'] });
    const ok = await run(['generate', 'a blue whale', '--size', '128x128', '--steps', '2', '--url', server.url, '--json', '--out', out], { IMAGEWIRE_API_KEY: 'right-key' });
    expect(ok.code).toBe(0);
    expect(ok.stderr).not.toMatch(/embedded/);
    expect((JSON.parse(ok.stdout) as JsonResult).images).toHaveLength(1);

    const refused = await run(['generate', 'a blue whale', '--url', server.url, '--api-key', 'wrong-key', '--out', out]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/invalidApiKey/);
    expect(refused.stderr).not.toContain('wrong-key');
  });

  it('exits 4 when the server cannot be reached', async () => {
    const port = await closedPort();
    const result = await run(['generate', 'a cat', '--url', `ws://127.0.0.1:${port}/v1`, '--api-key', 'k', '--out', out]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^imagewire: cannot reach ws:\/\/127\.0\.0\.1:\d+\/v1 \(\d+ attempts? in 2000 ms\): the connection was refused \(ECONNREFUSED\) \[unreachable\]\n$/);
  }, 30_000);

  it('Ctrl-C cancels the running task on the server and exits 130', async () => {
    const engine = createGateEngine();
    await using server = await startTestServer({ apiKeys: ['k'], engine });
    const running = start(['generate', 'a slow cat', '--size', '128x128', '--steps', '2', '--url', server.url, '--api-key', 'k', '--json', '--out', out]);
    await engine.started(1);
    await engine.waiting(1);
    running.child.kill('SIGINT');
    expect(await running.exit).toBe(130);
    expect(running.stderr()).toMatch(/interrupted; the task was cancelled/);
    await engine.aborted(0);
    await eventually(() => server.stats().tasksRunning, (count) => count === 0);
    expect(await readdir(out)).toEqual([]);
  });
});

describe('imagewire serve', () => {
  it('prints one line, serves the protocol there, and stops on SIGTERM with exit code 0', async () => {
    const serving = start(['serve', '--port', '0', '--api-key', 'k1', '--step-delay', '0']);
    const line = await eventually(() => serving.stdout(), (text) => text.includes('\n'), 10_000);
    const match = /^imagewire listening on (ws:\/\/127\.0\.0\.1:\d+\/v1), live page at (http:\/\/127\.0\.0\.1:\d+\/)#secret=([A-Za-z0-9_-]{43})\n$/.exec(line);
    expect(match).not.toBeNull();
    const page = await fetch(match![2]!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>');
    // The printed secret is what the page trades for tokens; nothing else is.
    const token = (secret: string): Promise<number> => fetch(`${match![2]!}page/token`, { method: 'POST', headers: { authorization: `Bearer ${secret}` } }).then((r) => r.status);
    expect(await token(match![3]!)).toBe(200);
    expect(await token('x'.repeat(43))).toBe(401);
    const generated = await run(['generate', 'a teal boat', '--size', '128x128', '--steps', '2', '--url', match![1]!, '--api-key', 'k1', '--json', '--out', out]);
    expect(generated.code).toBe(0);
    serving.child.kill('SIGTERM');
    expect(await serving.exit).toBe(0);
  });

  it('--allow-private-network says so on stderr, and only then', async () => {
    for (const flag of [[], ['--allow-private-network']]) {
      const serving = start(['serve', '--port', '0', '--api-key', 'k1', ...flag]);
      await eventually(() => serving.stdout(), (text) => text.includes('\n'), 10_000);
      serving.child.kill('SIGTERM');
      expect(await serving.exit).toBe(0);
      expect(serving.stderr().includes('private network allowed')).toBe(flag.length > 0);
    }
  });

  it('serves GET /v1/usage for --admin-key or IMAGEWIRE_ADMIN_KEY only, never printing it; a short one exits 2', async () => {
    const admin = 'operator-key-0123456789';
    for (const [flag, env] of [[['--admin-key', admin], {}], [[], { IMAGEWIRE_ADMIN_KEY: admin }]] as const) {
      const serving = start(['serve', '--port', '0', '--api-key', 'k1', '--no-page', ...flag], env);
      const line = await eventually(() => serving.stdout(), (text) => text.includes('\n'), 10_000);
      const base = /ws:\/\/(127\.0\.0\.1:\d+)\/v1/.exec(line)![1]!;
      const usage = (key: string): Promise<number> => fetch(`http://${base}/v1/usage`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
      expect(await usage(admin)).toBe(200);
      expect(await usage('k1')).toBe(401);
      serving.child.kill('SIGTERM');
      expect(await serving.exit).toBe(0);
      expect(serving.stdout() + serving.stderr()).not.toContain(admin);
    }
    const without = start(['serve', '--port', '0', '--api-key', 'k1', '--no-page'], { IMAGEWIRE_ADMIN_KEY: undefined });
    const line = await eventually(() => without.stdout(), (text) => text.includes('\n'), 10_000);
    const base = /ws:\/\/(127\.0\.0\.1:\d+)\/v1/.exec(line)![1]!;
    expect((await fetch(`http://${base}/v1/usage`, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(404);
    without.child.kill('SIGTERM');
    expect(await without.exit).toBe(0);
    const short = await run(['serve', '--port', '0', '--admin-key', 'short']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/adminKey must be a string of at least 16 characters/);
  });

  it('exits 2 for an --allowed-origin that is not an origin', async () => {
    const result = await run(['serve', '--port', '0', '--allowed-origin', 'http://localhost:5173/app']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/allowedOrigins must hold origins/);
  });

  it('exits 4 with a clear message when the port is taken', async () => {
    await using server = await startTestServer();
    const result = await run(['serve', '--port', String(server.port)]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/cannot start the server on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    expect(result.stdout).toBe('');
  });

  it('shows help with exit code 0 and an unknown command with exit code 2', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/generate/);
    expect(help.stdout).toMatch(/serve/);
    const unknown = await run(['paint']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
  });
});
