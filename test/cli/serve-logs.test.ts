// `imagewire serve` logs: JSON lines on stderr when it is not a terminal (stdout keeps only the
// "listening" line), at the level of --log-level or IMAGEWIRE_LOG_LEVEL; a bad level is a usage
// error. Spawns the built CLI.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnImagewire, startChildServer, type ChildProcessHandle } from '../helpers/child-server.js';
import { eventually } from '../helpers/eventually.js';
import { exitCodes } from '../../src/cli/exit-codes.js';

const children: ChildProcessHandle[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.close()));
});

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('imagewire serve logs', () => {
  it('writes JSON lines to stderr and only the listening line to stdout', async () => {
    const server = await startChildServer(['--no-page', '--metrics-token', 'scrape-secret-1']);
    children.push(server);
    expect(server.stdout().trim().split('\n')).toEqual([`imagewire listening on ${server.url}`]);
    await eventually(() => jsonLines(server.stderr()), (lines) => lines.some((line) => line.msg === 'listening'));
    expect((await fetch(`${server.httpUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.httpUrl}/metrics`, { headers: { authorization: 'Bearer scrape-secret-1' } })).status).toBe(200);
    const exit = await server.kill('SIGTERM');
    expect(exit.code).toBe(0);
    const lines = jsonLines(server.stderr());
    expect(lines.map((line) => line.msg)).toEqual(['listening', 'shutting down', 'shut down']);
    expect(lines[0]).toMatchObject({ level: 'info', time: expect.any(String), mode: 'single' });
    expect(server.stderr()).not.toContain('scrape-secret-1');
  });

  it('takes its level from IMAGEWIRE_LOG_LEVEL', async () => {
    const server = await startChildServer(['--no-page'], { env: { IMAGEWIRE_LOG_LEVEL: 'warn' } });
    children.push(server);
    await server.kill('SIGTERM');
    expect(server.stderr()).toBe('');
  });

  it('refuses a level that is not one, as a usage error', async () => {
    const child = spawnImagewire(['serve', '--port', '0', '--log-level', 'loud']);
    children.push(child);
    await child.exited;
    expect(child.exit()?.code).toBe(exitCodes.usage);
    expect(child.stderr()).toContain('--log-level');
  });
});
