// The reference server: an HTTP server with the WebSocket face at /v1 (upgrade), the HTTP face
// (POST /v1) and image URLs; who may connect (origins, connection caps, HTTP timeouts); listen,
// graceful close, and restart on the same port. Its public face is server-api.ts.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { protocolError, statusForCode, type ProtocolErrorItem } from '../protocol/index.js';
import { createAuthenticator, type Authenticator } from './auth/auth.js';
import { answerClientError, trackResponse } from './http/client-error.js';
import { closeCodes } from './ws/close-codes.js';
import { KeyConnections, UnauthenticatedSockets, type AdmissionTicket } from './ws/connection-caps.js';
import { Faults, type ServerFaults } from './faults.js';
import { isImagePath, serveImage } from './http/images.js';
import { handleHttpTasks } from './http/tasks.js';
import { sendJson } from './http/json-response.js';
import { errorMessage } from './logger.js';
import { OpenAiError, sendOpenAiError } from './openai/errors.js';
import { OpenAiFace } from './openai/face.js';
import { imagesApiRoutes } from './openai/routes.js';
import { ImagineEndpoint } from './imagine/endpoint.js';
import { OriginPolicy } from './http/origin-policy.js';
import { PageRoute } from './page/route.js';
import { requestPath } from './http/request-target.js';
import { handleTokenRequest } from './http/token-route.js';
import { TokenIssuer } from './auth/tokens.js';
import { handleUsageRequest, USAGE_PATH } from './http/usage-route.js';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options.js';
import type { SessionStore } from './ws/session-store.js';
import { SocketSession, type SocketDeps } from './ws/socket-session.js';
import { WriteCoalescer } from '../internal/write-coalescer.js';
import { Disposer } from '../internal/disposer.js';
import type { TaskCore } from './core/task-core.js';
import type { ServerBackend } from './backend.js';
import { createMemoryBackend } from './memory-backend.js';
import { WebhookSender } from './outbound/webhooks.js';
import type { AnswerFace, ServerObserver } from './observability/events.js';
import { ServerMetrics, type HeldSnapshot } from './observability/metrics.js';
import { LoggingObserver } from './observability/observer.js';
import { observedAuthenticator } from './observability/observed-auth.js';
import { OpsRoutes, type NotReady } from './observability/ops-routes.js';
import { errorCodesOf } from './http/json-response.js';
import type { ImagewireServer, ServerStats } from './server-api.js';
import { destroySocket, refusalError, rejectUpgrade } from './http/upgrade-refusal.js';

export type { ImagewireServer, ServerStats } from './server-api.js';

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function isOpenMode(apiKeys: ResolvedServerOptions['apiKeys']): boolean {
  return apiKeys === undefined || (Array.isArray(apiKeys) && apiKeys.every((key) => key.length === 0));
}

/** How long a stop waits for POST /v1 requests to be answered before closing their connections. */
const HTTP_GRACE_MS = 1_000;

/** What every backend shares: keys and tokens, and webhook deliveries. */
interface Shared {
  readonly tokens: TokenIssuer;
  readonly authenticate: Authenticator;
  readonly webhooks: WebhookSender;
}

function createShared(options: ResolvedServerOptions, observer: ServerObserver): Shared {
  const { logger, limits, clock } = options;
  const tokens = new TokenIssuer({ ...options.tokens, now: options.tokens.now ?? (() => clock.now()) });
  const checked = createAuthenticator(options.apiKeys, (error) => logger.error('apiKeys function failed', { error: errorMessage(error) }), tokens);
  const authenticate = observedAuthenticator(checked, observer);
  const webhooks = new WebhookSender({ limits, logger, policy: options.outbound, clock });
  return { tokens, authenticate, webhooks };
}

/** The memory backend, or (with `redis`) a cluster node's, loaded only then so the default stays light. */
async function createBackend(options: ResolvedServerOptions, publicUrl: () => string, webhooks: WebhookSender, observer: ServerObserver): Promise<ServerBackend> {
  if (options.redis === undefined) return createMemoryBackend(options, publicUrl, webhooks, observer);
  const { createClusterBackend } = await import('./node/cluster-node.js');
  return createClusterBackend(options, options.redis, publicUrl, observer);
}

type Lifecycle = 'listening' | 'restarting' | 'closing' | 'closed';

/** How often a drain looks for finished tasks and sockets it may close. */
const DRAIN_POLL_MS = 25;

/** The server's metrics and the observer that feeds them (and the info log lines). */
interface Observability {
  readonly metrics: ServerMetrics;
  readonly observer: ServerObserver;
}

/** The mode the start line names: where tasks run. */
function modeOf(options: ResolvedServerOptions): string {
  const gateway = options.engine !== false && options.engine?.name === 'upstream';
  if (options.redis === undefined) return gateway ? 'gateway' : 'single';
  return gateway ? 'gateway cluster node' : options.engine === false ? 'cluster node (no engine)' : 'cluster node';
}

class ReferenceServer implements ImagewireServer {
  readonly #options: ResolvedServerOptions;
  readonly #authenticate: Authenticator;
  readonly #faults: Faults;
  readonly #backend: ServerBackend;
  readonly #sessions: SessionStore;
  readonly #router: TaskCore;
  /** The OpenAI-style images API and the imagine endpoint, on the same router and engine. */
  readonly #openai: OpenAiFace;
  readonly #imagine: ImagineEndpoint;
  readonly #tokens: TokenIssuer;
  /** The live page, when `page` is set. */
  readonly #page: PageRoute | undefined;
  readonly #sockets = new Set<SocketSession>();
  /** Upgrades not authenticated yet, in total and per remote address. */
  readonly #unauthenticated: UnauthenticatedSockets;
  /** Authenticated sockets per key. */
  readonly #connections: KeyConnections;
  /** Which origins and hosts browsers may use; built at listen, when the port is known. */
  #origins: OriginPolicy | undefined;
  readonly #writes = new WriteCoalescer();
  /** One deps object for every socket: an idle server holds thousands, each should cost little. */
  readonly #socketDeps: SocketDeps;
  readonly #socketsGone: (() => void)[] = [];
  /** POST /v1 requests still being answered; a stop lets them finish (briefly) before cutting them. */
  readonly #httpPending = new Set<Promise<void>>();
  /** Owns the server's own timers (the sweeps, a stop's grace); close() disposes it. */
  readonly #timers = new Disposer();
  #http: Server | undefined;
  readonly #webhooks: WebhookSender;
  #wss: WebSocketServer | undefined;
  #port = 0;
  #lifecycle: Lifecycle = 'listening';
  #closed: Promise<void> | undefined;
  readonly #observer: ServerObserver;
  /** /healthz, /readyz and /metrics. */
  readonly #ops: OpsRoutes;

  constructor(options: ResolvedServerOptions, shared: Shared, backend: ServerBackend, observability: Observability) {
    this.#options = options;
    const { logger, limits } = options;
    this.#unauthenticated = new UnauthenticatedSockets(limits.maxUnauthenticatedSockets, limits.maxUnauthenticatedSocketsPerAddress);
    this.#connections = new KeyConnections(limits.maxConnectionsPerKey);
    this.#faults = new Faults({
      terminateAll: () => {
        for (const socket of [...this.#sockets]) socket.terminate('fault: dropAll');
      },
      unfreeze: () => {
        for (const socket of [...this.#sockets]) socket.unfreeze();
      },
    });
    const publicUrl = (): string => this.#publicUrl();
    this.#tokens = shared.tokens;
    this.#authenticate = shared.authenticate;
    this.#webhooks = shared.webhooks;
    this.#backend = backend;
    this.#sessions = backend.sessions;
    this.#router = backend.router;
    this.#page = options.page === undefined ? undefined : new PageRoute(options.page, this.#tokens);
    this.#socketDeps = {
      router: this.#router,
      sessions: this.#sessions,
      authenticate: this.#authenticate,
      faults: this.#faults,
      limits,
      logger,
      writes: this.#writes,
      connections: this.#connections,
      clock: options.clock,
      observer: observability.observer,
      closed: (gone) => this.#socketClosed(gone),
    };
    this.#observer = observability.observer;
    this.#ops = new OpsRoutes({ metrics: observability.metrics, metricsToken: options.metricsToken, notReady: () => this.notReady });
    observability.metrics.bind({ snapshot: () => this.#snapshot(), cluster: backend.probe === undefined ? undefined : (boundMs) => backend.probe?.(boundMs) ?? Promise.reject(new Error('no probe')) });
    this.#imagine = new ImagineEndpoint({ router: this.#router, limits, clock: options.clock, publicUrl, store: backend.imagine });
    this.#openai = new OpenAiFace({ authenticate: this.#authenticate, logger }, [imagesApiRoutes({ router: this.#router, limits, publicUrl, clock: options.clock, b64Json: options.openai.b64Json }), this.#imagine]);
    this.#startSweeps();
  }

  /**
   * The server's two periodic sweeps, owned by its disposer: expired records and images, and every
   * socket's silence and send buffer. One timer checks every socket instead of a timer per socket:
   * an idle server may hold tens of thousands. A silent socket is closed within a quarter of the
   * window (at most 1 s) after it; the same sweep closes sockets whose peer stopped reading (see
   * checkSendBuffer).
   */
  #startSweeps(): void {
    const { clock, logger, idleTimeoutMs } = this.#options;
    const sweepMs = Math.min(60_000, Math.max(1_000, this.#options.taskRetentionMs / 2));
    this.#timers.every(clock, sweepMs, () => {
      this.#backend.sweep();
      this.#imagine.sweep();
    });
    this.#timers.every(clock, Math.max(10, Math.min(1_000, idleTimeoutMs / 4)), () => {
      const now = clock.monotonic();
      const silentSince = now - idleTimeoutMs;
      for (const socket of this.#sockets) {
        try {
          socket.closeIfSilentSince(silentSince);
          socket.checkSendBuffer(now);
        } catch (error) {
          logger.error('socket sweep failed', { error: errorMessage(error) });
        }
      }
    });
  }

  get url(): string {
    return `ws://${hostForUrl(this.#options.host)}:${this.#port}/v1`;
  }

  get httpUrl(): string {
    return `http://${hostForUrl(this.#options.host)}:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  get pageUrl(): string | undefined {
    return this.#page === undefined ? undefined : `${this.httpUrl}${this.#page.entryPath}`;
  }

  get faults(): ServerFaults {
    return this.#faults;
  }

  #publicUrl(): string {
    return this.#options.publicUrl ?? this.httpUrl;
  }

  /** The base of image URLs (`publicUrl`, else this server's HTTP address). */
  get publicBase(): string {
    return this.#publicUrl();
  }

  get notReady(): NotReady {
    if (this.#lifecycle !== 'listening') return 'draining';
    return this.#backend.reachable?.() === false ? 'redisUnavailable' : undefined;
  }

  get ready(): boolean {
    return this.notReady === undefined;
  }

  /** The gauges a scrape reads. */
  #snapshot(): HeldSnapshot {
    const stats = this.stats();
    return { ...stats, tasksQueued: this.#router.queued, slotsInUse: this.#backend.slotsInUse(), ready: this.ready };
  }

  stats(): ServerStats {
    return {
      connections: this.#sockets.size,
      sessions: this.#sessions.size,
      heldFrames: this.#sessions.heldFrames,
      heldBytes: this.#sessions.heldBytes,
      tasksRunning: this.#backend.running(),
    };
  }

  /** Starts the HTTP server and the WebSocket face on `port`. */
  async listen(port: number): Promise<void> {
    const { limits } = this.#options;
    const http = createHttpServer(
      {
        headersTimeout: limits.httpHeadersTimeoutMs,
        requestTimeout: limits.httpRequestTimeoutMs,
        keepAliveTimeout: limits.httpKeepAliveTimeoutMs,
        maxHeaderSize: limits.maxHttpHeaderBytes,
        // node:http checks the two timeouts on this interval (30 s by default): a quarter of the
        // shorter one, at most a second, so a slow request is cut close to its deadline.
        connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.min(limits.httpHeadersTimeoutMs || Infinity, limits.httpRequestTimeoutMs || Infinity) / 4)),
      },
      (req, res) => {
        // #onRequest answers its own failures; this catches a failure of that answer itself.
        this.#onRequest(req, res).catch((error: unknown) => {
          this.#options.logger.error('http answer failed', { error: errorMessage(error) });
          res.destroy();
        });
      },
    );
    http.keepAliveTimeout = limits.httpKeepAliveTimeoutMs;
    // Every message a chunk completes is emitted before the next 'data' listener of the socket runs,
    // which the count of unauthenticated input relies on (preauth-guard.ts). It is ws's default; said
    // here so that a change of default cannot loosen that bound.
    const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxSocketMessageBytes, perMessageDeflate: false, clientTracking: false, allowSynchronousEvents: true });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(wss, req, socket, head));
    http.on('clientError', answerClientError);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, this.#options.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    http.on('error', (error) => this.#options.logger.error('http server error', { error: error.message }));
    this.#http = http;
    this.#wss = wss;
    this.#port = (http.address() as AddressInfo).port;
    this.#origins = new OriginPolicy({
      host: this.#options.host,
      port: this.#port,
      publicUrl: this.#options.publicUrl,
      allowedOrigins: this.#options.allowedOrigins,
      openMode: isOpenMode(this.#options.apiKeys),
    });
    const { host, redis, nodeId } = this.#options;
    this.#options.logger.info('listening', { url: this.url, address: `${host}:${this.#port}`, mode: modeOf(this.#options), nodeId: redis === undefined ? undefined : nodeId });
  }

  #onUpgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A module-level listener: an arrow here would share this scope's closure context, which holds
    // `req`, and keep the whole request (headers and all) alive for the socket's life.
    socket.on('error', destroySocket);
    try {
      this.#upgrade(wss, req, socket, head);
    } catch (error) {
      // Nothing a peer sends may end the process: a failure here is answered and the socket closed.
      this.#options.logger.error('upgrade failed', { error: errorMessage(error) });
      if (socket.writable) this.#rejectUpgrade(socket, 500, protocolError('internalServerError', 'the server failed to handle this upgrade'));
      else socket.destroy();
    }
  }

  #upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#lifecycle !== 'listening') {
      this.#rejectUpgrade(socket, 503, protocolError('serverShuttingDown', 'the server is stopping or restarting; connect again shortly'));
      return;
    }
    // Route on the path alone: official SDKs add ?sdk=js&version=... (and &dryRun=1).
    const pathname = requestPath(req.url);
    if (pathname === undefined) {
      this.#rejectUpgrade(socket, 400, protocolError('invalidRequestTarget', 'the request target is not a valid path; connect to /v1'));
      return;
    }
    if (pathname !== '/v1' && pathname !== '/v1/') {
      this.#rejectUpgrade(socket, 404, protocolError('invalidFrame', `no WebSocket is served at ${pathname}; connect to /v1`, { type: 'frame' }));
      return;
    }
    const refusal = this.#origins?.check(req.headers);
    if (refusal !== undefined) {
      this.#options.logger.info('upgrade refused', { reason: refusal.kind });
      this.#rejectUpgrade(socket, 403, refusalError(refusal));
      return;
    }
    const admitted = this.#unauthenticated.admit(req.socket.remoteAddress, socket);
    if (typeof admitted === 'string') {
      const { maxUnauthenticatedSockets, maxUnauthenticatedSocketsPerAddress } = this.#options.limits;
      const error =
        admitted === 'total'
          ? protocolError('tooManyConnections', `the server has ${maxUnauthenticatedSockets} connections waiting to authenticate; try again shortly`)
          : protocolError('tooManyConnections', `this address has ${maxUnauthenticatedSocketsPerAddress} connections waiting to authenticate; authenticate those first`);
      this.#rejectUpgrade(socket, admitted === 'total' ? 503 : statusForCode('tooManyConnections'), error, 'Retry-After: 1\r\n');
      return;
    }
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, socket, peer, admitted));
  }

  /** An upgrade answered with an HTTP error, counted by its code. */
  #rejectUpgrade(socket: Duplex, status: number, error: ProtocolErrorItem, headers = ''): void {
    this.#countErrors([error.code], 'http');
    rejectUpgrade(socket, status, error, headers);
  }

  #countErrors(codes: readonly string[], face: AnswerFace): void {
    for (const code of codes) this.#observer.errorAnswered(code, face);
  }

  /** Counts the error codes of an HTTP answer once it is sent. */
  readonly #countAnswer = (res: ServerResponse): void => {
    this.#countErrors(errorCodesOf(res), 'http');
  };

  #accept(ws: WebSocket, tcp: Duplex, peer: string, ticket: AdmissionTicket): void {
    if (this.#faults.takeCloseOnConnect()) {
      ws.terminate();
      return;
    }
    const socket = new SocketSession(ws, tcp, this.#socketDeps, peer, ticket);
    this.#sockets.add(socket);
  }

  #socketClosed(socket: SocketSession): void {
    this.#sockets.delete(socket);
    if (this.#sockets.size === 0) for (const resolve of this.#socketsGone.splice(0)) resolve();
  }

  /** Tracks an HTTP answer in progress, so that a stop lets it finish (briefly) first. */
  async #answering(answered: Promise<void>): Promise<void> {
    this.#httpPending.add(answered);
    try {
      await answered;
    } finally {
      this.#httpPending.delete(answered);
    }
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    trackResponse(req, res);
    res.once('finish', () => this.#countAnswer(res));
    try {
      const extra = this.#options.httpHandler;
      if (extra !== undefined && (await extra(req, res))) return;
      const pathname = requestPath(req.url);
      if (pathname === undefined) {
        sendJson(res, 400, { errors: [protocolError('invalidRequestTarget', 'the request target is not a valid path', { type: 'string' })] });
        return;
      }
      // Open mode guards every route; with keys, a page elsewhere cannot use them without a key,
      // except the routes that hand out credentials.
      const tokenRoute = pathname === '/v1/tokens' || (this.#page !== undefined && PageRoute.isTokenPath(pathname));
      const refusal = this.#origins?.check(req.headers, tokenRoute);
      if (refusal !== undefined) {
        this.#options.logger.info('request refused', { reason: refusal.kind, path: pathname });
        const error = refusalError(refusal);
        if (this.#openai.handles(pathname)) sendOpenAiError(res, new OpenAiError(403, error.message, { code: refusal.kind === 'origin' ? 'origin_not_allowed' : 'host_not_allowed' }));
        else sendJson(res, statusForCode(error.code), { errors: [error] });
        return;
      }
      if (pathname === '/v1' || pathname === '/v1/') {
        if (req.method === 'GET') {
          sendJson(res, 426, { errors: [protocolError('invalidFrame', 'GET /v1 needs a WebSocket upgrade; POST task arrays to /v1 for HTTP', { type: 'frame' })] });
          return;
        }
        await this.#answering(handleHttpTasks(req, res, { router: this.#router, authenticate: this.#authenticate, limits: this.#options.limits }));
        return;
      }
      if (pathname === '/v1/tokens') {
        await this.#answering(handleTokenRequest(req, res, { authenticate: this.#authenticate, tokens: this.#tokens }));
        return;
      }
      if (pathname === USAGE_PATH) {
        await this.#answering(handleUsageRequest(req, res, { adminKey: this.#options.adminKey, usage: this.#backend.usage }));
        return;
      }
      if (this.#page?.handles(pathname) === true) {
        await this.#page.handle(req, res, pathname);
        return;
      }
      if (isImagePath(pathname)) {
        await serveImage(pathname, req, res, this.#backend.images);
        return;
      }
      if (this.#openai.handles(pathname)) {
        await this.#answering(this.#openai.handle(req, res, pathname));
        return;
      }
      if (OpsRoutes.handles(pathname)) {
        await this.#ops.handle(req, res, pathname);
        return;
      }
      sendJson(res, 404, { errors: [protocolError('invalidFrame', `nothing is served at ${pathname}; the API is at /v1`, { type: 'frame' })] });
    } catch (error) {
      this.#options.logger.error('http request failed', { error: errorMessage(error) });
      if (!res.headersSent) sendJson(res, 500, { errors: [protocolError('internalServerError', 'the server failed to answer this request')] });
      else res.destroy();
    }
  }

  /** Closes every socket with `code` and the listening server; resolves once all are gone. */
  async #stopListening(code: number, reason: string): Promise<void> {
    const http = this.#http;
    const wss = this.#wss;
    this.#http = undefined;
    this.#wss = undefined;
    const sockets = [...this.#sockets];
    const gone = sockets.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.#socketsGone.push(resolve));
    for (const socket of sockets) socket.close(code, reason);
    const httpClosed =
      http === undefined
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            http.close(() => resolve());
            http.closeIdleConnections();
          });
    await gone;
    wss?.close();
    // Requests whose tasks were just cancelled get their answer out; ones still waiting are cut.
    if (this.#httpPending.size > 0) {
      let endGrace = (): void => undefined;
      const grace = new Promise<void>((resolve) => {
        endGrace = this.#timers.timeout(this.#options.clock, HTTP_GRACE_MS, resolve);
      });
      await Promise.race([Promise.allSettled([...this.#httpPending]), grace]);
      endGrace();
    }
    http?.closeAllConnections();
    await httpClosed;
  }

  async restart(options: { keepState?: boolean } = {}): Promise<void> {
    if (this.#lifecycle !== 'listening') throw new Error(`cannot restart a server that is ${this.#lifecycle}`);
    this.#lifecycle = 'restarting';
    try {
      await this.#stopListening(closeCodes.goingAway, 'server restarting');
      if (options.keepState !== true) {
        this.#backend.clear();
        this.#imagine.clear();
      }
      await this.listen(this.#port);
    } finally {
      if (this.#lifecycle === 'restarting') this.#lifecycle = 'listening';
    }
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    // From here /readyz answers 503: a load balancer stops sending new work while the server drains.
    this.#lifecycle = 'closing';
    const startedAt = this.#options.clock.monotonic();
    const { logger } = this.#options;
    logger.info('shutting down', { connections: this.#sockets.size, tasksRunning: this.#backend.running(), graceMs: this.#options.shutdownGraceMs });
    this.#router.setClosing(true);
    await this.#drain();
    this.#backend.abortAll();
    await this.#stopListening(closeCodes.goingAway, 'server shutting down');
    await this.#webhooks.close();
    await this.#backend.close();
    this.#imagine.clear();
    this.#timers.dispose();
    this.#writes.close();
    this.#lifecycle = 'closed';
    logger.info('shut down', { durationMs: Math.round(this.#options.clock.monotonic() - startedAt) });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Lets running tasks finish within shutdownGraceMs, closing each socket with 1001 as soon as its
   * connection has nothing running (its client reconnects elsewhere at once).
   */
  async #drain(): Promise<void> {
    const deadline = this.#options.clock.monotonic() + this.#options.shutdownGraceMs;
    for (;;) {
      for (const socket of [...this.#sockets]) if (!socket.busy) socket.close(closeCodes.goingAway, 'server shutting down');
      if (this.#backend.running() === 0 || this.#options.clock.monotonic() >= deadline) return;
      await new Promise<void>((resolve) => this.#timers.timeout(this.#options.clock, DRAIN_POLL_MS, resolve));
    }
  }
}

/**
 * Starts a reference server and resolves once it listens.
 *
 * @example
 * ```ts
 * await using server = await createServer({ apiKeys: ['secret'] });
 * console.log(server.url); // ws://127.0.0.1:PORT/v1
 * ```
 * @throws RangeError or TypeError for bad options; the listen error (e.g. EADDRINUSE) otherwise.
 */
export async function createServer(options: ServerOptions = {}): Promise<ImagewireServer> {
  const resolved = resolveServerOptions(options);
  // One registry per server: two servers in one process keep their metrics apart.
  const metrics = new ServerMetrics();
  const observer = new LoggingObserver(resolved.logger, metrics);
  resolved.outbound.onOutcome((kind, outcome) => observer.outbound(kind, outcome));
  const shared = createShared(resolved, observer);
  // The backend is made before the server, which gives image URLs their base once it listens.
  const built: { server?: ReferenceServer } = {};
  const publicUrl = (): string => built.server?.publicBase ?? '';
  const backend = await createBackend(resolved, publicUrl, shared.webhooks, observer);
  const server = new ReferenceServer(resolved, shared, backend, { metrics, observer });
  built.server = server;
  try {
    await server.listen(resolved.port);
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
