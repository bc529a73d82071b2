// Runs a part of a benchmark (a server, or a crowd of client sockets) in a child process of the
// same compiled script, so each side has its own event loop and its memory is measured alone.
import { fork, type ChildProcess } from 'node:child_process';

export interface Child {
  readonly process: ChildProcess;
  /** Sends a message and resolves with the child's next reply. */
  request<T = unknown>(message: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** Extra node flags for children, e.g. BENCH_CHILD_FLAGS="--cpu-prof" to profile the servers. */
function childExecArgv(): string[] {
  return (process.env.BENCH_CHILD_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
}

/** The role this process was started with (`--role=name`), if it is a child. */
export function childRole(): string | undefined {
  return process.argv.find((arg) => arg.startsWith('--role='))?.slice('--role='.length);
}

/** Starts this same script as a child in `role`; resolves with its first message (its "ready"). */
export async function startChild<T = unknown>(role: string, extraArgs: readonly string[] = []): Promise<{ child: Child; ready: T }> {
  const script = process.argv[1];
  if (script === undefined) throw new Error('no script path');
  const proc = fork(script, [`--role=${role}`, ...extraArgs], { execArgv: ['--expose-gc', ...childExecArgv()], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const replies: ((value: unknown) => void)[] = [];
  proc.on('message', (message) => replies.shift()?.(message));
  const next = <R>(): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`bench child ${role} exited with ${code}`));
      proc.once('exit', onExit);
      replies.push((value) => {
        proc.off('exit', onExit);
        resolve(value as R);
      });
    });
  const ready = await next<T>();
  const child: Child = {
    process: proc,
    request: <R>(message: unknown) => {
      const reply = next<R>();
      proc.send(message as object);
      return reply;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill();
      }),
  };
  return { child, ready };
}

/** In a child: answers each parent message with `handle`'s result. */
export function serveParent(handle: (message: unknown) => unknown): void {
  process.on('message', (message) => {
    Promise.resolve(handle(message)).then(
      (reply) => process.send?.(reply ?? null),
      (error: unknown) => process.send?.({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
  // Exit normally (not by the signal) so flags like --cpu-prof can write their output.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}
