// The reference server's public face: what createServer resolves with and what stats() counts.
// The implementation is server.ts.
import type { ServerFaults } from './faults.js';
import type { NotReady } from './observability/ops-routes.js';

/**
 * Counters of what the server holds right now, read from this process's memory (so `stats()` stays
 * synchronous and free). On a cluster node (`redis`) sessions, held frames and tasks live in Redis
 * and belong to the whole cluster; the fields then count only what this node holds itself, as each
 * field says.
 */
export interface ServerStats {
  /** Open WebSocket connections (on a cluster node: this node's). */
  connections: number;
  /** Sessions kept, attached or held for resume. Cluster node: sessions attached to this node's sockets (sessions without a socket are kept in Redis, for any node). */
  sessions: number;
  /** Frames held for resume or awaiting an acknowledgement. Cluster node: always 0, the frames are held in Redis (docs/cluster.md, "Counters on a cluster node"). */
  heldFrames: number;
  /** Approximate bytes of those frames. Cluster node: always 0, as heldFrames. */
  heldBytes: number;
  /** Tasks running or queued. Cluster node: always 0, tasks run on workers (the node's own too) and are counted in Redis. */
  tasksRunning: number;
}

/** A running reference server. */
export interface ImagewireServer extends AsyncDisposable {
  /** The WebSocket endpoint, e.g. `ws://127.0.0.1:PORT/v1`. */
  readonly url: string;
  /** The HTTP base, e.g. `http://127.0.0.1:PORT` (POST /v1, image URLs). */
  readonly httpUrl: string;
  /** The port listened on (stays the same across restarts). */
  readonly port: number;
  /**
   * The live page's address with its secret in the fragment, `http://127.0.0.1:PORT/#secret=...`
   * (`imagewire serve` prints it); undefined without `page`. Treat it as a credential.
   */
  readonly pageUrl: string | undefined;
  /** Fault-injection hooks for tests; inert unless called. */
  readonly faults: ServerFaults;
  /** What this process holds right now (see {@link ServerStats} for what each field counts on a cluster node). */
  stats(): ServerStats;
  /**
   * True while the server takes new work (`GET /readyz` answers 200): false from the start of
   * `close()` (or a restart) on, and on a cluster node while its Redis connection is down.
   */
  readonly ready: boolean;
  /** Why the server is not ready (`draining`: closing or restarting; `redisUnavailable`), or undefined when it is. */
  readonly notReady: NotReady;
  /**
   * Stops listening (sockets closed with 1001) and listens again on the same port. Without
   * `keepState` (the default) sessions, tasks and images are lost, as in a real restart; with it
   * they survive, running tasks go on, and clients can resume.
   */
  restart(options?: { keepState?: boolean }): Promise<void>;
  /**
   * Graceful shutdown. At once: no new sockets (503) or tasks (`serverShuttingDown`), and sockets
   * with no task running are closed with 1001 "server shutting down" (clients reconnect elsewhere
   * at once). Running tasks then get `shutdownGraceMs` to finish and deliver their results; each
   * socket is closed with 1001 once its tasks are done; at the deadline the rest are cancelled and
   * every socket closed. In cluster mode nothing waits: tasks go on in the workers and sessions
   * resume on other nodes. Idempotent.
   */
  close(): Promise<void>;
}
