// Nothing is left behind: after close() no timer of the client runs and no listener stays on a
// caller's AbortSignal; an idle client never keeps a Node process alive, while a pending task does.
import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { systemClock, type Clock, type TimerHandle } from '../../src/internal/clock.js';
import { clientOf, closeAfterTest, smallRequest } from '../helpers/test-client.js';
import { startTestServer } from '../helpers/test-server.js';

/** The system clock, counting the timers that are armed and not yet fired or cleared. */
function countingClock(): Clock & { readonly live: number } {
  const live = new Set<TimerHandle>();
  return {
    get live() {
      return live.size;
    },
    now: () => systemClock.now(),
    setTimeout(callback, ms) {
      const handle = systemClock.setTimeout(() => {
        live.delete(handle);
        callback();
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      live.delete(handle);
      systemClock.clearTimeout(handle);
    },
  };
}

/** Runs `body`, keeping the process warnings named `name` off stderr; resolves with them as `name: message`. */
async function capturingWarnings(name: string, body: () => Promise<unknown>): Promise<string[]> {
  const captured: string[] = [];
  const emitWarning = process.emitWarning.bind(process);
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, ...rest: unknown[]) => {
    if (warning instanceof Error && warning.name === name) captured.push(`${warning.name}: ${warning.message}`);
    else (emitWarning as (warning: string | Error, ...rest: unknown[]) => void)(warning, ...rest);
  });
  try {
    await body();
  } finally {
    spy.mockRestore();
  }
  return captured;
}

describe('leaks', () => {
  it('leaves no timer armed after close(), through tasks, drops, pings and a timeout', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 1 }));
    const clock = countingClock();
    const client = clientOf(server, { clock, keepAlive: { intervalMs: 50, pongTimeoutMs: 50 } });
    await client.imageInference(smallRequest({ numberResults: 2, previews: true })).result();
    server.faults.dropAfterFrames(1);
    await client.imageInference(smallRequest({ numberResults: 2 })).result();
    await client.ping();
    await client.imageInference(smallRequest({ steps: 50, timeoutMs: 1 })).result().catch(() => undefined);
    expect(clock.live).toBeGreaterThan(0);
    await client.close();
    expect(clock.live).toBe(0);
  });

  it('removes its listener from a long-lived AbortSignal when each task ends', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const controller = new AbortController();
    // 50 tasks at once on one signal share one listener, so Node's leak warning (past 10
    // listeners) never fires; it would be taken off stderr and checked here.
    const warnings = await capturingWarnings('MaxListenersExceededWarning', () =>
      Promise.all(Array.from({ length: 50 }, () => client.imageInference(smallRequest({ signal: controller.signal })).result())),
    );
    expect(warnings).toEqual([]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const pending = client.imageInference(smallRequest({ steps: 50, signal: controller.signal }));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await client.close();
    await pending.result().catch(() => undefined);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('closes its socket: the server sees no connection after close()', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    await client.connect();
    expect(server.stats().connections).toBe(1);
    await client.close();
    await new Promise<void>((resolve) => {
      const check = () => (server.stats().connections === 0 ? resolve() : setImmediate(check));
      check();
    });
    expect(client.state).toBe('closed');
  });
});

describe('process lifetime', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'imagewire-client-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Bundles `source` (importing the Node entry) and runs it; resolves with its exit code and output. */
  async function runScript(source: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const entry = join(dir, `script-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(entry, source.replace('IMAGEWIRE', join(root, 'src/index.ts')));
    const outfile = `${entry}.cjs`;
    // CommonJS, so nothing but the event loop keeps the process alive (no top-level await).
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'silent', external: ['bufferutil', 'utf-8-validate'] });
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [outfile], { env: { ...process.env, ...env }, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const killer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the script did not exit within 15 s; output: ${output}`));
      }, 15_000);
      child.on('exit', (code) => {
        clearTimeout(killer);
        resolve({ code, output });
      });
    });
  }

  it('lets the process exit with an idle client that was never closed, and stays alive for a pending task', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 5 }));
    const { code, output } = await runScript(
      `import { createClient } from 'IMAGEWIRE';
       const client = createClient({ apiKey: 'k', url: process.env.URL });
       // Nothing but the pending task keeps the process alive while it runs.
       void client.imageInference({ positivePrompt: 'a quiet harbour', model: 'runware:101@1', width: 128, height: 128, steps: 20, numberResults: 2 }).result().then((images) => {
         console.log('images', images.length, client.state);
         // The client stays open and idle; the process must still exit on its own.
       });`,
      { URL: server.url },
    );
    expect(output).toContain('images 2 open');
    expect(code).toBe(0);
  }, 30_000);

  it('keeps the process alive until close() has finished its closing handshake', async () => {
    const server = closeAfterTest(await startTestServer());
    const { code, output } = await runScript(
      `import { createClient } from 'IMAGEWIRE';
       const client = createClient({ apiKey: 'k', url: process.env.URL });
       void client.connect().then(() => client.close()).then(() => console.log('closed', client.state));`,
      { URL: server.url },
    );
    expect(output).toContain('closed closed');
    expect(code).toBe(0);
  }, 30_000);
});
