// `imagewire serve`: starts the reference server, prints one line with its URL, and shuts it down
// gracefully on SIGINT or SIGTERM. The command-line parsing lives in main.ts; this is the action.
import { createServer, type ImagewireServer, type Logger, type ServerOptions } from '../server/index.js';
import { stderrLogger } from '../server/logger.js';
import type { UpstreamEngine } from '../gateway/index.js';
import { upstreamEngineFor } from './upstream.js';
import { readKeysFile } from './keys-file.js';

/** Options of {@link runServe}; the CLI fills them from its flags. */
export interface ServeOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** Accepted keys; when empty, keys come from IMAGEWIRE_API_KEYS (comma-separated); with neither, any non-empty key works. */
  apiKeys?: readonly string[];
  /** Per-step delay of the procedural engine, ms. @default 40 */
  stepDelayMs?: number;
  /** Base of image URLs. @default http://host:port */
  publicUrl?: string;
  /** Serve the live page at `/` (its tokens only for callers holding the page secret of the printed URL). @default true */
  page?: boolean;
  /**
   * Let input image URLs, webhooks and upload endpoints reach loopback and private addresses
   * (createServer's `allowPrivateNetwork`); a warning is logged when on. @default false
   */
  allowPrivateNetwork?: boolean;
  /** Browser origins, besides the server's own, whose pages may use the server (`--allowed-origin`). */
  allowedOrigins?: readonly string[];
  /** The credential of GET /v1/usage; when absent, IMAGEWIRE_ADMIN_KEY; with neither the route answers 404. */
  adminKey?: string;
  /** Any other server option (e.g. an httpHandler for extra routes); the fields above win. */
  server?: ServerOptions;
  /** Where the one "listening" line goes. @default process.stdout */
  print?: (line: string) => void;
  /** Install SIGINT and SIGTERM handlers that stop the server. @default true */
  handleSignals?: boolean;
  /**
   * Gateway mode: the WebSocket URL of a Runware-compatible upstream that runs every task; its key
   * comes from IMAGEWIRE_UPSTREAM_KEY in `env`, never from an option.
   */
  upstream?: string;
  /** A file of accepted keys, one per line (blank lines and `#` comments skipped), added to `apiKeys`. */
  apiKeysFile?: string;
  /** How long a stop lets running tasks finish (createServer's `shutdownGraceMs`). @default 30000 */
  shutdownGraceMs?: number;
  /** The environment keys are read from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** @default warnings and errors to stderr */
  logger?: Logger | false;
}

/** Keys from the options, else from IMAGEWIRE_API_KEYS; an empty list means open mode. */
export function resolveApiKeys(given: readonly string[] | undefined, env: Readonly<Record<string, string | undefined>>): string[] {
  const fromOptions = (given ?? []).map((key) => key.trim()).filter((key) => key.length > 0);
  if (fromOptions.length > 0) return fromOptions;
  return (env.IMAGEWIRE_API_KEYS ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
}

/** The upstream engine of `--upstream`; it replaces the procedural engine, so its flags do not go with it. */
function gatewayEngine(url: string, serverOptions: ServerOptions, env: Readonly<Record<string, string | undefined>>): UpstreamEngine {
  if (serverOptions.stepDelayMs !== undefined) throw new RangeError('--step-delay sets the procedural engine, which --upstream replaces');
  if (serverOptions.engine === false) throw new RangeError('--upstream needs a node that runs engine work (drop --no-engine)');
  return upstreamEngineFor(url, env);
}

/** The start-up warnings: what this configuration exposes that an operator should know. */
function warnAboutExposure(serverOptions: ServerOptions, apiKeys: readonly string[], host: string, warn: Logger): void {
  if (apiKeys.length === 0 && !loopbackHosts.has(host)) {
    warn.warn('open mode on a non-loopback interface: any non-empty API key is accepted; pass --api-key or IMAGEWIRE_API_KEYS', { host });
  }
  if (serverOptions.redis !== undefined && serverOptions.tokens?.secret === undefined) {
    warn.warn('cluster mode without IMAGEWIRE_TOKEN_SECRET: session tokens minted by this node work on this node only; give every node the same secret', { host });
  }
  if (serverOptions.metricsToken === undefined && !loopbackHosts.has(host)) {
    warn.warn('GET /metrics is open on a non-loopback interface: anyone who reaches it sees the counts; pass --metrics-token or IMAGEWIRE_METRICS_TOKEN', { host });
  }
  if (serverOptions.allowPrivateNetwork === true) {
    warn.warn('private network allowed: input image URLs, webhooks and upload endpoints may reach loopback and private addresses of this host and its network', { host });
  }
}

const signals = ['SIGINT', 'SIGTERM'] as const;
const loopbackHosts: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Starts the server and prints exactly one line, `imagewire listening on ws://H:P/v1` (and, with
 * the page, `, live page at http://H:P/#secret=...`: the page secret travels in the fragment, which
 * browsers never send to a server or put in a Referer). `stop()`
 * closes it gracefully (running tasks cancelled, sockets closed with 1001); SIGINT or SIGTERM do the
 * same, and a second signal while stopping exits at once with code 130.
 */
export async function runServe(options: ServeOptions = {}): Promise<{ server: ImagewireServer; stop: () => Promise<void> }> {
  const apiKeys = resolveApiKeys([...(options.apiKeys ?? []), ...(options.apiKeysFile === undefined ? [] : await readKeysFile(options.apiKeysFile))], options.env ?? process.env);
  const serverOptions: ServerOptions = { ...options.server };
  if (options.host !== undefined) serverOptions.host = options.host;
  if (options.port !== undefined) serverOptions.port = options.port;
  if (options.stepDelayMs !== undefined) serverOptions.stepDelayMs = options.stepDelayMs;
  if (options.shutdownGraceMs !== undefined) serverOptions.shutdownGraceMs = options.shutdownGraceMs;
  if (options.publicUrl !== undefined) serverOptions.publicUrl = options.publicUrl;
  if (options.logger !== undefined) serverOptions.logger = options.logger;
  if (options.allowedOrigins !== undefined && options.allowedOrigins.length > 0) serverOptions.allowedOrigins = [...(serverOptions.allowedOrigins ?? []), ...options.allowedOrigins];
  if (options.page !== false) serverOptions.page ??= true;
  if (options.allowPrivateNetwork !== undefined) serverOptions.allowPrivateNetwork = options.allowPrivateNetwork;
  if (apiKeys.length > 0) serverOptions.apiKeys = apiKeys;
  const env = options.env ?? process.env;
  const tokenSecret = env.IMAGEWIRE_TOKEN_SECRET?.trim();
  if (tokenSecret !== undefined && tokenSecret !== '') serverOptions.tokens = { ...serverOptions.tokens, secret: tokenSecret };
  const adminKey = options.adminKey ?? env.IMAGEWIRE_ADMIN_KEY;
  if (adminKey !== undefined && adminKey !== '') serverOptions.adminKey = adminKey;
  const upstream = options.upstream === undefined ? undefined : gatewayEngine(options.upstream, serverOptions, env);
  if (upstream !== undefined) serverOptions.engine = upstream;
  const server = await createServer(serverOptions).catch(async (error: unknown) => {
    await upstream?.close();
    throw error;
  });
  const host = serverOptions.host ?? '127.0.0.1';
  const warn = options.logger === false ? undefined : (options.logger ?? stderrLogger);
  if (warn !== undefined) warnAboutExposure(serverOptions, apiKeys, host, warn);

  let stopping: Promise<void> | undefined;
  const onSignal = (): void => {
    if (stopping !== undefined) process.exit(130);
    stop().catch((error: unknown) => {
      process.stderr.write(`imagewire: the server did not shut down cleanly: ${error instanceof Error ? error.message : 'unknown error'}\n`);
      process.exit(1);
    });
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // The handlers stay while the drain runs: a second signal must end the process at once.
      try {
        await server.close();
        await upstream?.close();
      } finally {
        for (const signal of signals) process.off(signal, onSignal);
      }
    })();
    return stopping;
  };
  if (options.handleSignals !== false) for (const signal of signals) process.on(signal, onSignal);

  const print = options.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  print(`imagewire listening on ${server.url}${server.pageUrl === undefined ? '' : `, live page at ${server.pageUrl}`}`);
  return { server, stop };
}
