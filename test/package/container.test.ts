// The container image, without Docker (CI has none): the Dockerfile's runtime stage is read, and its
// entry command runs here with the same command line and environment (only the port differs, so
// parallel tests do not collide); its HEALTHCHECK command is run against it; `docker stop`'s SIGTERM
// ends it cleanly. The compose file is checked for what docs/operations.md promises.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import { closedPort } from '../helpers/http-fixture.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');

/** The instructions of the last stage (the runtime image), continuation lines joined. */
function runtimeStage(): { env: Record<string, string>; entrypoint: string[]; cmd: string[]; healthcheck: string[]; user: string } {
  const lines = dockerfile.replace(/\\\n\s*/g, ' ').split('\n');
  const last = lines.map((line, i) => (/^FROM\s/.test(line) ? i : -1)).filter((i) => i >= 0).at(-1) ?? 0;
  const stage = lines.slice(last);
  const env: Record<string, string> = {};
  for (const line of stage.filter((l) => l.startsWith('ENV '))) for (const [, key, value] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[key ?? ''] = value ?? '';
  const json = (prefix: string): string[] => JSON.parse(stage.find((l) => l.startsWith(prefix))?.slice(prefix.length).trim() ?? '[]') as string[];
  const health = stage.find((l) => l.startsWith('HEALTHCHECK '))?.match(/CMD\s+(\[.*\])/)?.[1] ?? '[]';
  return { env, entrypoint: json('ENTRYPOINT'), cmd: json('CMD'), healthcheck: JSON.parse(health) as string[], user: stage.find((l) => l.startsWith('USER '))?.slice(5).trim() ?? 'root' };
}

function run(argv: string[], env: Record<string, string>): { exit: Promise<number | null>; output: () => string; kill: (signal: NodeJS.Signals) => void } {
  const [command = '', ...args] = argv;
  const child = spawn(command === 'node' ? process.execPath : command, args, { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { exit: new Promise((resolve) => child.once('close', resolve)), output: () => output, kill: (signal) => child.kill(signal) };
}

describe('the container image', () => {
  const stage = runtimeStage();

  it('is multi-stage, runs as a non-root user, starts `serve` and checks its health', () => {
    expect(dockerfile.match(/^FROM\s/gm)?.length).toBeGreaterThanOrEqual(2);
    expect(stage.user).toBe('node');
    expect(stage.entrypoint).toEqual(['node', 'dist/cli/main.js']);
    expect(stage.cmd[0]).toBe('serve');
    expect(stage.healthcheck.slice(0, 3)).toEqual(['node', 'dist/cli/main.js', 'health']);
    expect(dockerfile).toContain('sharp@');
  });

  it('serves with its own command line and environment, passes its health check and stops on SIGTERM', async () => {
    const port = String(await closedPort());
    const env = { ...stage.env, IMAGEWIRE_PORT: port, IMAGEWIRE_API_KEYS: 'container-key' };
    const server = run([...stage.entrypoint, ...stage.cmd], env);
    const deadline = Date.now() + 15_000;
    while (!server.output().includes('imagewire listening on')) {
      if (Date.now() > deadline) throw new Error(`no listening line: ${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(server.output()).toContain(`ws://127.0.0.1:${port}/v1`);
    const health = run(stage.healthcheck, env);
    expect(await health.exit).toBe(0);
    const client = createClient({ apiKey: 'container-key', url: `ws://127.0.0.1:${port}/v1`, networkEvents: false });
    const [image] = await client.imageInference({ positivePrompt: 'a boat', model: 'runware:101@1', width: 128, height: 128, steps: 2, outputType: 'URL' }).result();
    expect(image?.imageURL).toContain(`:${port}/images/`);
    await client.close();
    server.kill('SIGTERM');
    expect(await server.exit).toBe(0);
    expect(server.output()).not.toContain('container-key');
    // Once it is gone, the same health check fails.
    expect(await run(stage.healthcheck, env).exit).toBe(1);
  });

  it('comes with a compose file for Redis (AOF, noeviction), two nodes and one worker', () => {
    const compose = readFileSync(`${root}compose.yaml`, 'utf8');
    expect(compose).toMatch(/appendonly", "yes"/);
    expect(compose).toMatch(/noeviction/);
    expect(compose.match(/command: \["serve"/g)).toHaveLength(1);
    expect(compose).toMatch(/node-2:\n\s+<<: \*node/);
    expect(compose).toMatch(/command: \["worker"\]/);
  });
});
