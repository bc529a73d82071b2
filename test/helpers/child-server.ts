// Runs the built `imagewire` CLI (`serve`, or `worker` for the cluster tests) in a child process, so
// a test can throw hostile input at a real server, kill it with a signal, and ask how it ended.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

const cli = join(packageRoot(), 'dist', 'cli', 'main.js');

/** How a child process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Any `imagewire` child process. */
export interface ChildProcessHandle extends AsyncDisposable {
  readonly pid: number;
  /** True while the process has not exited. */
  alive(): boolean;
  /** How the process ended, once it has. */
  exit(): ChildExit | undefined;
  /** Everything the process wrote to stderr so far (its last 64 KiB). */
  stderr(): string;
  /** Everything it wrote to stdout so far (its last 64 KiB). */
  stdout(): string;
  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs` when a gentler signal is ignored). */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<ChildExit>;
  /** SIGKILL unless it already ended. */
  close(): Promise<void>;
}

/** A server process started by {@link startChildServer}. */
export interface ChildServer extends ChildProcessHandle {
  /** `ws://127.0.0.1:PORT/v1`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`. */
  readonly httpUrl: string;
  readonly port: number;
}

const MAX_OUTPUT = 64 * 1024;
/** `imagewire listening on ws://HOST:PORT/v1` (then, with the page, its URL). */
const listening = /imagewire listening on (ws:\/\/[^\s,]+)/;

/** Options of {@link spawnImagewire}. */
export interface SpawnOptions {
  /** Extra environment (IMAGEWIRE_API_KEYS is cleared unless given here). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Spawns `node dist/cli/main.js ...args` with its output collected; {@link ChildProcessHandle.kill} ends it. */
export function spawnImagewire(args: readonly string[], options: SpawnOptions = {}): ChildProcessHandle & { readonly process: ChildProcess; readonly exited: Promise<void> } {
  // Node's default makes an unhandled rejection end the process, which is what the tests look for.
  const child: ChildProcess = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IMAGEWIRE_API_KEYS: '', ...options.env } });
  let stderr = '';
  let stdout = '';
  let ended: ChildExit | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-MAX_OUTPUT);
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString('utf8')).slice(-MAX_OUTPUT);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = { code, signal };
      resolve();
    });
  });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL', graceMs = 10_000): Promise<ChildExit> => {
    if (ended === undefined) {
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      if (signal !== 'SIGKILL') timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    return ended ?? { code: null, signal: null };
  };
  const close = async (): Promise<void> => void (await kill('SIGKILL'));
  return {
    process: child,
    exited,
    pid: child.pid ?? -1,
    alive: () => ended === undefined,
    exit: () => ended,
    stderr: () => stderr,
    stdout: () => stdout,
    kill,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Starts `imagewire serve --port 0` plus `args`, resolving once it prints its "imagewire listening on" line. */
export async function startChildServer(args: readonly string[] = [], options: SpawnOptions = {}): Promise<ChildServer> {
  const handle = spawnImagewire(['serve', '--port', '0', ...args], options);
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (): void => {
      const match = listening.exec(handle.stdout());
      if (match?.[1] !== undefined) {
        handle.process.stdout?.off('data', onData);
        resolve(match[1]);
      }
    };
    handle.process.stdout?.on('data', onData);
    handle.exited.then(() => reject(new Error(`the server process exited before listening (${JSON.stringify(handle.exit())}): ${handle.stderr()}`)), reject);
  });
  const { port } = new URL(url.replace(/^ws/, 'http'));
  return {
    pid: handle.pid,
    alive: handle.alive,
    exit: handle.exit,
    stderr: handle.stderr,
    stdout: handle.stdout,
    kill: handle.kill,
    close: handle.close,
    [Symbol.asyncDispose]: handle.close,
    url,
    httpUrl: `http://127.0.0.1:${port}`,
    port: Number(port),
  };
}
