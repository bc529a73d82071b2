// `imagewire worker`: runs the engine for tasks any `serve --redis` node accepted, prints one line
// when it takes jobs, and stops gracefully on SIGINT or SIGTERM (running tasks finish or go back).
import { createProceduralEngine } from '../engine/index.js';
import { createWorker, type ClusterWorker } from '../server/cluster/worker.js';
import { stderrLogger } from '../server/logger.js';
import { exitCodes, type ExitCode } from './exit-codes.js';

/** The parsed flags of `imagewire worker`. */
export interface WorkerCommandOptions {
  redis: string;
  concurrency?: number;
  stepDelay?: number;
  /** True with --allow-private-network. */
  allowPrivateNetwork?: boolean;
}

const signals = ['SIGINT', 'SIGTERM'] as const;

/** Starts the worker; resolves with the exit code once it is ready (or could not start). The worker keeps the process alive. */
export async function runWorkerCommand(options: WorkerCommandOptions, print: (line: string) => void = (line) => void process.stdout.write(`${line}\n`)): Promise<ExitCode> {
  let worker: ClusterWorker;
  try {
    const engine = createProceduralEngine(options.stepDelay === undefined ? {} : { stepDelayMs: options.stepDelay });
    worker = await createWorker({ redis: options.redis, engine, logger: stderrLogger, ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }), ...(options.allowPrivateNetwork === true ? { allowPrivateNetwork: true } : {}) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`imagewire: cannot start the worker: ${message}`);
    return error instanceof TypeError || error instanceof RangeError ? exitCodes.usage : exitCodes.connection;
  }
  if (options.allowPrivateNetwork === true) stderrLogger.warn('private network allowed: input image URLs, webhooks and upload endpoints may reach loopback and private addresses of this host and its network');
  let stopping = false;
  const onSignal = (): void => {
    // A second signal while stopping: leave at once (the queue hands the tasks to another worker).
    if (stopping) process.exit(exitCodes.interrupted);
    stopping = true;
    worker.close().then(
      () => {
        for (const signal of signals) process.off(signal, onSignal);
      },
      (error: unknown) => {
        process.stderr.write(`imagewire: the worker did not stop cleanly: ${error instanceof Error ? error.message : 'unknown error'}\n`);
        process.exit(exitCodes.failure);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  print(`imagewire worker ready (concurrency ${worker.concurrency})`);
  return exitCodes.ok;
}
