// A worker's own metrics: its task ends counted (and logged) as a server counts its own, and
// /metrics, /healthz and /readyz on a small listener, since a worker has no server to carry them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { OutboundOutcome, TaskEnd } from './events.js';
import type { OutboundKind } from '../outbound/policy.js';
import { ServerMetrics } from './metrics.js';
import { LoggingObserver } from './observer.js';
import { OpsRoutes } from './ops-routes.js';
import { sendJson } from '../http/json-response.js';
import { protocolError } from '../../protocol/index.js';

/** Options of {@link startWorkerMetrics}. */
export interface WorkerMetricsOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free one. */
  readonly port: number;
  /** GET /metrics asks for `Authorization: Bearer <metricsToken>`; undefined: it is open. */
  readonly metricsToken?: string | undefined;
  readonly logger: Logger;
}

/** A running metrics listener; give {@link WorkerMetrics.onTaskEnd} to createWorker. */
export interface WorkerMetrics {
  readonly url: string;
  readonly onTaskEnd: (end: TaskEnd) => void;
  readonly onOutbound: (kind: OutboundKind, outcome: OutboundOutcome) => void;
  /** Set while the worker stops: /readyz answers 503. */
  draining: boolean;
  close(): Promise<void>;
}

/** Listens for scrapes of a worker's metrics. */
export async function startWorkerMetrics(options: WorkerMetricsOptions): Promise<WorkerMetrics> {
  const metrics = new ServerMetrics();
  const observer = new LoggingObserver(options.logger, metrics);
  const state = { draining: false };
  const routes = new OpsRoutes({ metrics, metricsToken: options.metricsToken, notReady: () => (state.draining ? 'draining' : undefined) });
  const server: Server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://worker').pathname;
    if (!OpsRoutes.handles(pathname)) {
      sendJson(res, 404, { errors: [protocolError('invalidFrame', `a worker answers /metrics, /healthz and /readyz only`, { type: 'string' })] });
      return;
    }
    routes.handle(req, res, pathname).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/metrics`,
    onTaskEnd: (end) => observer.taskEnded(end),
    onOutbound: (kind, outcome) => observer.outbound(kind, outcome),
    get draining() {
      return state.draining;
    },
    set draining(value: boolean) {
      state.draining = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
