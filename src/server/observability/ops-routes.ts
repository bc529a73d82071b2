// The operations routes: GET /healthz (the process answers), GET /readyz (it takes new work: 503
// while it drains or, on a cluster node, while Redis is out of reach) and GET /metrics (Prometheus
// text, behind its own bearer token when one is configured, compared in constant time).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { protocolError } from '../../protocol/index.js';
import { sendJson } from '../http/json-response.js';
import type { ServerMetrics } from './metrics.js';

/** Why the server does not take new work, or undefined when it does. */
export type NotReady = 'draining' | 'redisUnavailable' | undefined;

/** What the routes read. */
export interface OpsRoutesOptions {
  readonly metrics: ServerMetrics;
  /** GET /metrics asks for `Authorization: Bearer <metricsToken>`; undefined: it is open. */
  readonly metricsToken: string | undefined;
  /** Why the server is not ready now (cheap and synchronous). */
  notReady(): NotReady;
}

const paths: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The three routes of one server. */
export class OpsRoutes {
  readonly #options: OpsRoutesOptions;
  /** The token's digest: compared digest to digest, so neither its length nor a mismatch's place shows in the timing. */
  readonly #tokenDigest: Buffer | undefined;

  constructor(options: OpsRoutesOptions) {
    this.#options = options;
    this.#tokenDigest = options.metricsToken === undefined ? undefined : digest(options.metricsToken);
  }

  /** True for the paths these routes answer. */
  static handles(pathname: string): boolean {
    return paths.has(pathname);
  }

  /** Answers one request to a path {@link OpsRoutes.handles} accepted. */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { errors: [protocolError('methodNotAllowed', `${pathname} answers GET and HEAD only`, { type: 'string' })] }, { allow: 'GET, HEAD' });
      return;
    }
    if (pathname === '/healthz') sendJson(res, 200, { status: 'ok' });
    else if (pathname === '/readyz') this.#ready(res);
    else await this.#metrics(req, res);
  }

  #ready(res: ServerResponse): void {
    const why = this.#options.notReady();
    if (why === undefined) {
      sendJson(res, 200, { status: 'ready' }, { 'cache-control': 'no-store' });
      return;
    }
    const error =
      why === 'draining'
        ? protocolError('serverShuttingDown', 'the server is shutting down and takes no new work')
        : protocolError('serviceUnavailable', 'the server cannot reach Redis right now');
    sendJson(res, 503, { status: why, errors: [error] }, { 'retry-after': '1', 'cache-control': 'no-store' });
  }

  async #metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#authorized(req)) {
      sendJson(res, 401, { errors: [protocolError('invalidMetricsToken', 'GET /metrics needs Authorization: Bearer <metrics token>')] }, { 'www-authenticate': 'Bearer realm="metrics"' });
      return;
    }
    const { metrics } = this.#options;
    const text = await metrics.scrape();
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': `${Buffer.byteLength(text)}`, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  #authorized(req: IncomingMessage): boolean {
    const expected = this.#tokenDigest;
    if (expected === undefined) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return timingSafeEqual(digest(match?.[1] ?? ''), expected) && match !== null;
  }
}
