// `imagewire serve` as a command: maps the parsed flags onto runServe. The listening server keeps
// the process alive; SIGINT or SIGTERM close it gracefully and the process then ends by itself.
import { exitCodes, type ExitCode } from './exit-codes.js';
import type { ServerOptions } from '../server/index.js';
import { runServe } from './serve.js';
import { cliLogger, type LogFlags } from './logging.js';
import { errorReport, printError } from './error-report.js';

export interface ServeCommandOptions extends LogFlags {
  host: string;
  port: number;
  apiKey: string[];
  stepDelay?: number;
  publicUrl?: string;
  /** False with --no-page. */
  page?: boolean;
  /** True with --allow-private-network. */
  allowPrivateNetwork?: boolean;
  /** --allowed-origin, repeatable. */
  allowedOrigin: string[];
  /** --redis: cluster mode. */
  redis?: string;
  /** False with --no-engine. */
  engine?: boolean;
  /** --node-id. */
  nodeId?: string;
  /** --upstream: gateway mode. */
  upstream?: string;
  /** --api-keys-file. */
  apiKeysFile?: string;
  /** --shutdown-grace, ms. */
  shutdownGrace?: number;
  /** --admin-key: the credential of GET /v1/usage (also IMAGEWIRE_ADMIN_KEY). */
  adminKey?: string;
  /** --metrics-token (else IMAGEWIRE_METRICS_TOKEN). */
  metricsToken?: string;
  /** --openai-b64-json (also IMAGEWIRE_OPENAI_B64_JSON): the images API's b64_json form. */
  openaiB64Json?: 'data-uri' | 'base64';
}

/** The bearer token of GET /metrics: the flag, else IMAGEWIRE_METRICS_TOKEN; empty means none. */
function metricsTokenOf(options: ServeCommandOptions): { metricsToken?: string } {
  const token = (options.metricsToken ?? process.env.IMAGEWIRE_METRICS_TOKEN ?? '').trim();
  return token === '' ? {} : { metricsToken: token };
}

/** The cluster flags as serve options; `--no-engine` and `--node-id` mean nothing without `--redis`. */
function clusterOptions(options: ServeCommandOptions): { server?: ServerOptions } {
  if (options.redis === undefined) {
    if (options.engine === false || options.nodeId !== undefined) throw new RangeError('--no-engine and --node-id need --redis');
    return {};
  }
  return { server: { redis: options.redis, ...(options.engine === false ? { engine: false } : {}), ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }) } };
}

/** Starts the server; resolves with the exit code as soon as it listens (or failed to). */
export async function runServeCommand(options: ServeCommandOptions): Promise<ExitCode> {
  try {
    const logger = cliLogger(options);
    const cluster = clusterOptions(options);
    await runServe({
      logger,
      host: options.host,
      port: options.port,
      apiKeys: options.apiKey,
      allowedOrigins: options.allowedOrigin,
      ...(options.stepDelay === undefined ? {} : { stepDelayMs: options.stepDelay }),
      ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
      ...(options.page === false ? { page: false } : {}),
      ...(options.allowPrivateNetwork === true ? { allowPrivateNetwork: true } : {}),
      ...(options.adminKey === undefined ? {} : { adminKey: options.adminKey }),
      server: { ...cluster.server, ...metricsTokenOf(options), ...(options.openaiB64Json === undefined ? {} : { openai: { b64Json: options.openaiB64Json } }) },
      ...(options.upstream === undefined ? {} : { upstream: options.upstream }),
      ...(options.apiKeysFile === undefined ? {} : { apiKeysFile: options.apiKeysFile }),
      ...(options.shutdownGrace === undefined ? {} : { shutdownGraceMs: options.shutdownGrace }),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // A bad option (an origin that is not one, say) is the caller's mistake, not a listen failure.
    if (error instanceof TypeError || error instanceof RangeError) {
      printError(errorReport(exitCodes.usage, message), { json: false, command: 'serve' });
      return exitCodes.usage;
    }
    console.error(`imagewire: cannot start the server on ${options.host}:${options.port}: ${message}`);
    return exitCodes.connection;
  }
  return exitCodes.ok;
}
