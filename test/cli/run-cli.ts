// Runs the built `imagewire` CLI (dist/cli/main.js) as a child process and collects what it writes,
// with the time each stderr line arrived, so a test can tell output written during the run from
// output written at its end.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { resolve } from 'node:path';

export const cliMain = resolve(import.meta.dirname, '../../dist/cli/main.js');

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Every complete stderr line, with whether the process was still running when it arrived. */
  stderrLines: () => { line: string; whileRunning: boolean }[];
  exit: Promise<number | null>;
}

/** Starts the CLI with `args`; IMAGEWIRE_API_KEY(S) are cleared unless `env` sets them. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}, options: Pick<SpawnOptions, 'uid' | 'gid' | 'cwd'> = {}): CliRun {
  const child = spawn(process.execPath, [cliMain, ...args], {
    env: { ...process.env, IMAGEWIRE_API_KEY: undefined, IMAGEWIRE_API_KEYS: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
  let stdout = '';
  let stderr = '';
  let exited = false;
  const lines: { line: string; whileRunning: boolean }[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    // 'exit' has not fired yet: the child was alive when it wrote this.
    for (const line of parts) lines.push({ line, whileRunning: !exited && child.exitCode === null });
  });
  child.once('exit', () => (exited = true));
  const exit = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, stderrLines: () => lines, exit };
}

/** Runs the CLI to its end. */
export async function runCli(args: string[], env?: Record<string, string | undefined>, options?: Pick<SpawnOptions, 'uid' | 'gid' | 'cwd'>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const started = startCli(args, env, options);
  const code = await started.exit;
  return { code, stdout: started.stdout(), stderr: started.stderr() };
}
