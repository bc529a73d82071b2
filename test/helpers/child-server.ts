// Runs `imagewire serve` (the built CLI, default options) in a child process, so a test can throw
// hostile input at a real server and then ask whether the process is still alive.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** A server process started by {@link startChildServer}. */
export interface ChildServer extends AsyncDisposable {
  /** `ws://127.0.0.1:PORT/v1`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`. */
  readonly httpUrl: string;
  readonly port: number;
  /** True while the process has not exited. */
  alive(): boolean;
  /** How the process ended, once it has. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Everything the process wrote to stderr so far (its last 64 KiB). */
  stderr(): string;
  close(): Promise<void>;
}

const MAX_STDERR = 64 * 1024;
/** `imagewire listening on ws://HOST:PORT/v1` (then, with the page, its URL). */
const listening = /imagewire listening on (ws:\/\/[^\s,]+)/;

/** Starts `imagewire serve --port 0` plus `args`, resolving once it prints its URL. */
export async function startChildServer(args: readonly string[] = []): Promise<ChildServer> {
  // Node's default makes an unhandled rejection end the process, which is what the tests look for.
  const child: ChildProcess = spawn(process.execPath, [cli, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IMAGEWIRE_API_KEYS: '' } });
  let stderr = '';
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-MAX_STDERR);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = { code, signal };
      resolve();
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const onData = (chunk: Buffer): void => {
      stdout += chunk.toString('utf8');
      const match = listening.exec(stdout);
      if (match?.[1] !== undefined) {
        child.stdout?.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    exited.then(() => reject(new Error(`imagewire serve exited before listening (${JSON.stringify(ended)}): ${stderr}`)), reject);
  });
  const { port } = new URL(url.replace(/^ws/, 'http'));
  const close = async (): Promise<void> => {
    if (ended === undefined) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return {
    url,
    httpUrl: `http://127.0.0.1:${port}`,
    port: Number(port),
    alive: () => ended === undefined,
    exit: () => ended,
    stderr: () => stderr,
    close,
    [Symbol.asyncDispose]: close,
  };
}
