// Starts a real `redis-server` (Debian's package) for a test file or a benchmark: its own temporary
// folder, a unix socket and no TCP port, AOF with `appendfsync always` as docs/cluster.md asks for.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian installs it; CI installs the package (.ci/run). */
export const REDIS_SERVER = '/usr/bin/redis-server';

/** A running Redis, which a test may kill and start again on the same data. */
export interface TestRedis extends AsyncDisposable {
  /** `redis+unix:` style options for ioredis: `{ path }`. */
  readonly path: string;
  /** `redis://` URL form understood by imagewire (`unix:PATH`). */
  readonly url: string;
  /** Kills the process (SIGKILL by default), keeping its folder and AOF. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same folder (after {@link TestRedis.kill}). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

/**
 * True when the Redis tests can run. In CI (`CI` set) a missing binary is an error, so those tests
 * can never pass there by being skipped.
 */
export function redisAvailable(): boolean {
  if (existsSync(REDIS_SERVER)) return true;
  const why = `${REDIS_SERVER} is not installed (apt-get install redis-server)`;
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') throw new Error(`Redis tests cannot run in CI: ${why}`);
  console.warn(`Redis tests skipped: ${why}`);
  return false;
}

/** Starts redis-server in a fresh temporary folder and waits until it answers PING. */
export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'imagewire-redis-'));
  const path = join(dir, 'redis.sock');
  let child: ChildProcess | undefined = await launch(dir, path);
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    await exited;
  };
  const close = async (): Promise<void> => {
    await kill();
    await rm(dir, { recursive: true, force: true });
  };
  return {
    path,
    url: `unix:${path}`,
    kill,
    restart: async () => {
      await kill();
      child = await launch(dir, path);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function launch(dir: string, path: string): Promise<ChildProcess> {
  const args = ['--port', '0', '--unixsocket', path, '--unixsocketperm', '700', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4096)));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${stderr}`);
    if (await answersPing(path)) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer within 10 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function answersPing(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString('utf8').startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
