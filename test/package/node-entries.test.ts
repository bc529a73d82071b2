// Node resolves the package's own entries the way an installed app would (package self-reference
// through the exports map), and the `imagewire` bin points at an executable built file.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `code` as an ES module in a fresh Node process inside the package and returns its stdout. */
function nodeEval(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
}

describe('Node entries', () => {
  it('resolves `imagewire/server` in Node to the server build, with createServer', () => {
    const out = nodeEval(`
      const server = await import('imagewire/server');
      console.log(import.meta.resolve('imagewire/server'));
      console.log(typeof server.createServer, typeof server.createProceduralEngine);`);
    const [resolved, kinds] = out.trim().split('\n');
    expect(resolved).toMatch(/\/dist\/server\/index\.js$/);
    expect(kinds).toBe('function function');
  });

  it('resolves `imagewire/gateway` in Node to the gateway build, with createUpstreamEngine', () => {
    const out = nodeEval(`
      const gateway = await import('imagewire/gateway');
      console.log(import.meta.resolve('imagewire/gateway'), typeof gateway.createUpstreamEngine);`);
    expect(out.trim()).toMatch(/\/dist\/gateway\/index\.js function$/);
  });

  it('resolves `imagewire` and `imagewire/protocol` in Node', () => {
    const out = nodeEval(`
      const client = await import('imagewire');
      const protocol = await import('imagewire/protocol');
      console.log(import.meta.resolve('imagewire'), typeof client.createClient, typeof protocol.validateTask);`);
    expect(out.trim()).toMatch(/\/dist\/index\.js function function$/);
  });

  it('declares the `imagewire` bin, built, executable and with a node shebang', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { bin?: Record<string, string> };
    expect(pkg.bin).toEqual({ imagewire: './dist/cli/main.js' });
    const main = `${root}dist/cli/main.js`;
    accessSync(main, constants.X_OK);
    expect(readFileSync(main, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
