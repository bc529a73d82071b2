// The options of createServer, their defaults in one resolved object, and their checks.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RedisOptions } from 'ioredis';
import type { Engine } from '../engine/index.js';
import { systemClock, type MonotonicClock } from '../internal/clock.js';
import type { ApiKeys } from './auth/auth.js';
import { resolveLimits, type ServerLimits } from './limits.js';
import { silentLogger, stderrLogger, type Logger } from './logger.js';
import { OutboundPolicy, type OutboundTarget } from './outbound/policy.js';
import type { PageOptions } from './page/route.js';
import { resolveAllowedOrigins } from './http/origin-policy.js';
import { TOKEN_PREFIX, type TokenOptions } from './auth/tokens.js';
import type { B64JsonForm, OpenAiImagesOptions } from './openai/images.js';

/** Options of {@link createServer}. Every one is optional. */
export interface ServerOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port; 0 picks a free one. @default 0 */
  port?: number;
  /**
   * Accepted API keys: a list, or a function that decides (may be async). None given (or an empty
   * list) is open mode: any non-empty key is accepted, for local development. Keys are compared in
   * constant time and never logged.
   */
  apiKeys?: ApiKeys;
  /**
   * The renderer. With `redis`, `false` makes a node that runs no engine work itself (workers on
   * the same Redis do: `imagewire worker`); without `redis` it must not be false.
   * @default createProceduralEngine({ stepDelayMs })
   */
  engine?: Engine | false;
  /**
   * Cluster mode: the Redis that holds sessions, task records, images and the task queue, shared by
   * any number of nodes behind any load balancer (no sticky sessions) and by workers. A URL
   * (`redis://[user:password@]host[:port][/db]`, `rediss://...`), `unix:/path/to.sock`, or ioredis
   * options (without `keyPrefix`: use {@link ServerOptions.keyPrefix}). A client resumes its session
   * on any node; getResponse, conflictTaskUUID, image URLs and per-key limits hold across nodes.
   * Without it (the default) everything stays in this process and no Redis module is loaded.
   * See docs/cluster.md. @default undefined
   */
  redis?: string | RedisOptions;
  /**
   * This node's id in the cluster (its PUB/SUB channel `<keyPrefix>n:<nodeId>`); unique per running
   * node. Only with `redis`. @default a random UUID per start
   */
  nodeId?: string;
  /** Prefix of every Redis key and channel of the cluster (the queue's is the same without its colon). Only with `redis`. @default "iw:" */
  keyPrefix?: string;
  /** Per-step delay of the default procedural engine, ms. @default 40 */
  stepDelayMs?: number;
  /** A socket that sends nothing for this long is closed (1000, "idle timeout"). @default 120_000 */
  idleTimeoutMs?: number;
  /** Undelivered results of a session whose socket is gone are kept this long for a resume. @default 120_000 */
  resumeWindowMs?: number;
  /** Finished tasks (and their images) are kept this long for getResponse and conflict checks. @default 600_000 */
  taskRetentionMs?: number;
  /**
   * How long `close()` lets running tasks finish and deliver their results before it cancels the
   * rest and closes the remaining sockets (1001). In cluster mode a node waits for none: its tasks go
   * on in the workers. @default 30_000
   */
  shutdownGraceMs?: number;
  /** Limits; see {@link ServerLimits} and `defaultLimits`. */
  limits?: Partial<ServerLimits>;
  /** Base of image URLs (`${publicUrl}/images/<uuid>.<ext>`). @default `http://host:port` */
  publicUrl?: string;
  /**
   * Where the server logs; `false` for nothing. Any {@link Logger} works; `createPinoLogger()` gives
   * JSON lines. At info the server logs its start, each connection's and task's end, and its
   * shutdown (docs/operations.md, "Logs"). @default warnings and errors to stderr
   */
  logger?: Logger | false;
  /**
   * The bearer token `GET /metrics` asks for (`Authorization: Bearer <token>`, compared in constant
   * time). Without it the route is open: it shows counts, never keys, tokens or task contents.
   * @default undefined (open)
   */
  metricsToken?: string;
  /**
   * Let the server's own requests (input image URLs, webhookURL, uploadEndpoint) reach addresses
   * that are not global unicast: loopback, private (RFC 1918), link-local, unique-local, CGNAT and
   * the rest. For development and private deployments only: with untrusted clients it turns the
   * server into their way into your network. @default false
   */
  allowPrivateNetwork?: boolean;
  /**
   * Decides each connection the server makes for a client, after DNS resolution and for every
   * redirect hop: return true to let it go ahead. It can only narrow what the address rule allows
   * (global unicast, or anything with `allowPrivateNetwork`); one that throws refuses.
   * @default every address the address rule allows
   */
  allowOutbound?: (target: OutboundTarget) => boolean;
  /**
   * An extra URL-level check of input image URLs, applied to every redirect hop.
   * @deprecated Use `allowOutbound`, which also sees the resolved address and covers webhooks and
   * uploads. Still honoured, on top of the address rule.
   */
  allowInputUrl?: (url: URL) => boolean;
  /**
   * Extra HTTP routes, tried before the server's own for every request that is not a WebSocket
   * upgrade; return true when the request was handled.
   */
  httpHandler?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Session tokens minted at POST /v1/tokens (secret, lifetimes). @default a random secret per start */
  tokens?: TokenOptions;
  /**
   * The operator's credential for `GET /v1/usage` (usage per key and per token), sent as
   * `Authorization: Bearer <adminKey>`; at least 16 characters, and not one of the API keys.
   * @default none: the route answers 404
   */
  adminKey?: string;
  /** Serve the live page at `/` (true, or its options). @default false (`imagewire serve` turns it on) */
  page?: boolean | PageOptions;
  /**
   * The OpenAI-style images API: `{ b64Json: 'base64' }` sends bare base64 in `b64_json` (what
   * OpenAI's clients decode) instead of the documented data URI. @default { b64Json: 'data-uri' }
   */
  openai?: OpenAiImagesOptions;
  /**
   * Browser origins, besides the server's own, whose pages may use the server: e.g.
   * `['http://localhost:5173']` for a dev server's app. In open mode a request or upgrade with any
   * other `Origin` is refused (`originNotAllowed`, 403); with keys, only the token routes check it.
   * The server's own origins come from the address it listens on and `publicUrl`.
   * @default none
   */
  allowedOrigins?: readonly string[];
  /**
   * For tests: the time source and timers of everything the server schedules itself (its sweeps,
   * the authentication deadline, close grace, delayed pongs, resume windows, task and image
   * retention, imagine lifetimes, token expiry, webhook retries and deadlines, a stop's grace). A
   * test moves it by hand; sockets, HTTP and the engine still run on real time.
   * @default the global timers (unref'd), Date.now and performance.now
   */
  clock?: MonotonicClock;
}

/** The options with every default applied. */
export interface ResolvedServerOptions {
  readonly host: string;
  readonly port: number;
  readonly apiKeys: ApiKeys | undefined;
  readonly engine: Engine | false | undefined;
  /** Cluster mode's Redis; undefined: everything in memory. */
  readonly redis: string | RedisOptions | undefined;
  readonly nodeId: string;
  readonly keyPrefix: string;
  readonly stepDelayMs: number;
  readonly idleTimeoutMs: number;
  readonly resumeWindowMs: number;
  readonly taskRetentionMs: number;
  readonly shutdownGraceMs: number;
  readonly limits: ServerLimits;
  readonly publicUrl: string | undefined;
  readonly logger: Logger;
  readonly metricsToken: string | undefined;
  /** Which URLs and addresses the server's own requests may reach. */
  readonly outbound: OutboundPolicy;
  /** As given: a cluster node's own worker builds its policy from them. */
  readonly allowPrivateNetwork: boolean;
  readonly allowOutbound: ServerOptions['allowOutbound'];
  readonly httpHandler: ServerOptions['httpHandler'];
  readonly tokens: TokenOptions;
  readonly adminKey: string | undefined;
  readonly page: PageOptions | undefined;
  /** The images API's `b64_json` form. */
  readonly openai: { readonly b64Json: B64JsonForm };
  readonly allowedOrigins: readonly string[];
  readonly clock: MonotonicClock;
}

function milliseconds(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < 0) throw new RangeError(`${name} must be a finite number of milliseconds >= 0; got ${resolved}`);
  return resolved;
}

/** The admin key, checked: long enough, a string, and no API key (a key's holder must not read every key's usage). */
function resolveAdminKey(options: ServerOptions): string | undefined {
  const key = options.adminKey;
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length < 16) throw new RangeError('adminKey must be a string of at least 16 characters');
  if (Array.isArray(options.apiKeys) && options.apiKeys.includes(key)) throw new RangeError('adminKey must not be one of the API keys');
  return key;
}

function checkMetricsToken(token: unknown): string | undefined {
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(token)) throw new RangeError('metricsToken must be 1 to 1024 printable ASCII characters without spaces');
  return token;
}

function resolveOpenAi(options: OpenAiImagesOptions | undefined): { b64Json: B64JsonForm } {
  const b64Json = options?.b64Json ?? 'data-uri';
  if (b64Json !== 'data-uri' && b64Json !== 'base64') throw new RangeError(`openai.b64Json must be 'data-uri' or 'base64'; got ${JSON.stringify(b64Json)}`);
  return { b64Json };
}

/** Applies defaults and checks values; throws RangeError or TypeError on bad options. */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer from 0 to 65535; got ${port}`);
  if (Array.isArray(options.apiKeys) && options.apiKeys.some((key: unknown) => typeof key !== 'string')) {
    throw new TypeError('apiKeys must be strings');
  }
  const allowPrivateNetwork = options.allowPrivateNetwork ?? false;
  if (typeof allowPrivateNetwork !== 'boolean') throw new TypeError(`allowPrivateNetwork must be a boolean; got ${typeof allowPrivateNetwork}`);
  for (const name of ['allowOutbound', 'allowInputUrl'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`${name} must be a function`);
  }
  // Such a key could never authenticate: a credential with the token prefix is only read as a token.
  if (Array.isArray(options.apiKeys) && options.apiKeys.some((key) => key.startsWith(TOKEN_PREFIX))) {
    throw new RangeError(`API keys must not start with ${TOKEN_PREFIX}: credentials that do are read as session tokens`);
  }
  if (options.redis === undefined && options.engine === false) throw new RangeError('engine: false needs redis: a server without a cluster must run its engine itself');
  const nodeId = options.nodeId ?? randomUUID();
  if (!/^[A-Za-z0-9._:-]{1,100}$/.test(nodeId)) throw new RangeError('nodeId must be 1 to 100 letters, digits, dots, colons, underscores or dashes');
  return {
    host: options.host ?? '127.0.0.1',
    port,
    apiKeys: options.apiKeys,
    engine: options.engine,
    redis: options.redis,
    nodeId,
    keyPrefix: options.keyPrefix ?? 'iw:',
    stepDelayMs: milliseconds(options.stepDelayMs, 40, 'stepDelayMs'),
    idleTimeoutMs: milliseconds(options.idleTimeoutMs, 120_000, 'idleTimeoutMs'),
    resumeWindowMs: milliseconds(options.resumeWindowMs, 120_000, 'resumeWindowMs'),
    shutdownGraceMs: milliseconds(options.shutdownGraceMs, 30_000, 'shutdownGraceMs'),
    taskRetentionMs: milliseconds(options.taskRetentionMs, 600_000, 'taskRetentionMs'),
    limits: resolveLimits(options.limits),
    publicUrl: options.publicUrl?.replace(/\/+$/, ''),
    metricsToken: checkMetricsToken(options.metricsToken),
    logger: options.logger === false ? silentLogger : (options.logger ?? stderrLogger),
    outbound: new OutboundPolicy({ allowPrivateNetwork, allowOutbound: options.allowOutbound, allowInputUrl: options.allowInputUrl }),
    allowPrivateNetwork,
    allowOutbound: options.allowOutbound,
    httpHandler: options.httpHandler,
    tokens: options.tokens ?? {},
    adminKey: resolveAdminKey(options),
    page: options.page === true ? {} : options.page === false ? undefined : options.page,
    openai: resolveOpenAi(options.openai),
    allowedOrigins: resolveAllowedOrigins(options.allowedOrigins),
    clock: options.clock ?? systemClock,
  };
}
