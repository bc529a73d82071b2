// `imagewire serve` as an operator runs it: keys from a file or the environment (never the command
// line), SIGTERM letting a running task deliver before the sockets close with 1001, and a second
// signal ending the process at once.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFinal, RawClient } from '../helpers/raw-client.js';
import { spawnImagewire, startChildServer, type ChildServer } from '../helpers/child-server.js';
import { inferenceTask } from '../helpers/test-server.js';
import { startCluster } from '../helpers/cluster.js';

let dir = '';
let server: ChildServer | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imagewire-keys-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function keysFile(text: string): Promise<string> {
  const path = join(dir, 'keys');
  await writeFile(path, text);
  await chmod(path, 0o600);
  return path;
}

describe('keys from a file', () => {
  it.each(['flag', 'environment'] as const)('accepts exactly the keys of the file given by %s', async (how) => {
    const path = await keysFile('# the team keys\nkey-one\n\n  key-two  \n');
    server = how === 'flag' ? await startChildServer(['--no-page', '--api-keys-file', path]) : await startChildServer(['--no-page'], { env: { IMAGEWIRE_API_KEYS_FILE: path } });
    const good = await RawClient.connect(server.url);
    expect(await good.authenticate('key-two')).toMatchObject({ taskType: 'authentication' });
    await good.close();
    const bad = await RawClient.connect(server.url);
    const refused = bad.authenticate('# the team keys');
    await expect(refused).rejects.toThrow('invalidApiKey');
    await bad.close();
    expect(`${server.stdout()}${server.stderr()}`).not.toContain('key-two');
  });

  it('is a usage error when the file is missing or empty, without quoting it', async () => {
    for (const path of [join(dir, 'missing'), await keysFile('# nothing but a comment\n')]) {
      const child = spawnImagewire(['serve', '--port', '0', '--no-page', '--api-keys-file', path]);
      await child.exited;
      expect(child.exit()?.code).toBe(2);
      expect(child.stderr()).toContain('--api-keys-file');
      expect(child.stderr()).not.toContain('nothing but a comment');
    }
  });
});

describe('SIGTERM', () => {
  it('lets a running task deliver, closes its socket with 1001 and exits with 0', async () => {
    server = await startChildServer(['--no-page', '--step-delay', '60']);
    const { client } = await RawClient.authenticated(server.url);
    const task = inferenceTask({ steps: 8 });
    client.send([task]);
    await client.waitFor((f) => f.kind === 'json' && f.data.some((item) => item.taskUUID === task.taskUUID), { timeoutMs: 10_000 }).catch(() => undefined);
    const exit = server.kill('SIGTERM', 20_000);
    await client.waitFor((f) => isFinal(f, task.taskUUID), { timeoutMs: 10_000 });
    expect(await client.waitForClose()).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(await exit).toEqual({ code: 0, signal: null });
  });

  it('exits at once with 130 on a second signal', async () => {
    server = await startChildServer(['--no-page', '--step-delay', '1000']);
    const { client } = await RawClient.authenticated(server.url);
    client.send([inferenceTask({ steps: 60 })]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(server.pid, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.alive()).toBe(true);
    expect(await server.kill('SIGTERM', 5_000)).toEqual({ code: 130, signal: null });
    await client.close();
  });
});

describe('session tokens across cluster nodes', () => {
  it('a token minted on one node authenticates on another when both have IMAGEWIRE_TOKEN_SECRET', async () => {
    const cluster = await startCluster({ nodes: 2, workers: 0, env: { IMAGEWIRE_TOKEN_SECRET: 'a shared secret of at least thirty-two bytes' } });
    try {
      const [a, b] = cluster.nodes.map((node) => node.server);
      if (a === undefined || b === undefined) throw new Error('two nodes expected');
      const minted = await fetch(`${a.httpUrl}/v1/tokens`, { method: 'POST', headers: { authorization: 'Bearer team-key' } });
      expect(minted.status).toBe(200);
      const token = ((await minted.json()) as { data: { token: string }[] }).data[0]?.token ?? '';
      const other = await RawClient.connect(b.url);
      expect(await other.authenticate(token)).toMatchObject({ taskType: 'authentication' });
      await other.close();
      expect(`${a.stderr()}${b.stderr()}`).not.toContain('thirty-two');
    } finally {
      await cluster.close();
    }
  });
});
