// `imagewire worker`: runs the engine for tasks any `serve --redis` node accepted, prints one line
// when it takes jobs, and stops gracefully on SIGINT or SIGTERM (running tasks finish or go back).
import { createProceduralEngine, type Engine } from '../engine/index.js';
import { upstreamEngineFor } from './upstream.js';
import { createWorker, type ClusterWorker } from '../server/cluster/worker.js';
import type { Logger } from '../server/logger.js';
import { startWorkerMetrics, type WorkerMetrics } from '../server/observability/worker-metrics.js';
import { cliLogger, type LogFlags } from './logging.js';
import { exitCodes, type ExitCode } from './exit-codes.js';
import { errorReport, printError } from './error-report.js';

/** The parsed flags of `imagewire worker`. */
export interface WorkerCommandOptions extends LogFlags {
  redis: string;
  concurrency?: number;
  stepDelay?: number;
  /** True with --allow-private-network. */
  allowPrivateNetwork?: boolean;
  /** --upstream: run tasks on a Runware-compatible upstream (key from IMAGEWIRE_UPSTREAM_KEY). */
  upstream?: string;
  /** --metrics-port: serve /metrics, /healthz and /readyz on this port. */
  metricsPort?: number;
  /** --metrics-host. */
  metricsHost?: string;
  /** --metrics-token (else IMAGEWIRE_METRICS_TOKEN). */
  metricsToken?: string;
}

/** The worker's metrics listener, when --metrics-port asks for one. */
async function metricsOf(options: WorkerCommandOptions, logger: Logger): Promise<WorkerMetrics | undefined> {
  if (options.metricsPort === undefined) return undefined;
  const token = (options.metricsToken ?? process.env.IMAGEWIRE_METRICS_TOKEN ?? '').trim();
  return startWorkerMetrics({ port: options.metricsPort, host: options.metricsHost ?? '127.0.0.1', logger, ...(token === '' ? {} : { metricsToken: token }) });
}

/** The worker's engine: the upstream with --upstream, else the procedural one. */
function engineOf(options: WorkerCommandOptions): Engine & { close?: () => Promise<void> } {
  if (options.upstream === undefined) return createProceduralEngine(options.stepDelay === undefined ? {} : { stepDelayMs: options.stepDelay });
  if (options.stepDelay !== undefined) throw new RangeError('--step-delay sets the procedural engine, which --upstream replaces');
  return upstreamEngineFor(options.upstream);
}

const signals = ['SIGINT', 'SIGTERM'] as const;

/** Starts the worker; resolves with the exit code once it is ready (or could not start). The worker keeps the process alive. */
export async function runWorkerCommand(options: WorkerCommandOptions, print: (line: string) => void = (line) => void process.stdout.write(`${line}\n`)): Promise<ExitCode> {
  let worker: ClusterWorker;
  let engine: ReturnType<typeof engineOf> | undefined;
  let logger: Logger | undefined;
  let metrics: WorkerMetrics | undefined;
  try {
    logger = cliLogger(options);
    engine = engineOf(options);
    metrics = await metricsOf(options, logger);
    const counted = metrics === undefined ? {} : { onTaskEnd: metrics.onTaskEnd, onOutbound: metrics.onOutbound };
    worker = await createWorker({ redis: options.redis, engine, logger, ...counted, ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }), ...(options.allowPrivateNetwork === true ? { allowPrivateNetwork: true } : {}) });
  } catch (error) {
    await engine?.close?.();
    await metrics?.close();
    const message = error instanceof Error ? error.message : String(error);
    // A bad flag is the caller's mistake: one line and the hint to --help, as for any usage error.
    if (error instanceof TypeError || error instanceof RangeError) {
      printError(errorReport(exitCodes.usage, message), { json: false, command: 'worker' });
      return exitCodes.usage;
    }
    console.error(`imagewire: cannot start the worker: ${message}`);
    return exitCodes.connection;
  }
  if (options.allowPrivateNetwork === true) logger.warn('private network allowed: input image URLs, webhooks and upload endpoints may reach loopback and private addresses of this host and its network');
  let stopping = false;
  const onSignal = (): void => {
    // A second signal while stopping: leave at once (the queue hands the tasks to another worker).
    if (stopping) process.exit(exitCodes.interrupted);
    stopping = true;
    if (metrics !== undefined) metrics.draining = true;
    worker
      .close()
      .then(() => engine?.close?.())
      .then(() => metrics?.close())
      .then(
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
  print(`imagewire worker ready (concurrency ${worker.concurrency})${metrics === undefined ? '' : `, metrics at ${metrics.url}`}`);
  return exitCodes.ok;
}
