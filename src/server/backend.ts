// What holds a server's state and runs its tasks, behind one interface: this process's memory (the
// default) or a cluster node's Redis stores, queue and in-process worker. The composition root
// (server.ts) builds one and never asks which.
import type { TaskCore } from './core/task-core.js';
import type { ImageReader } from './http/images.js';
import type { ImagineStore } from './imagine/store.js';
import type { SessionStore } from './ws/session-store.js';
import type { UsageStore } from './usage/usage-store.js';
import type { ClusterHealth } from './observability/metrics.js';

/** A server's stores and task core. */
export interface ServerBackend {
  readonly sessions: SessionStore;
  readonly router: TaskCore;
  /** Reads stored images for `GET /images/<uuid>.<ext>`. */
  readonly images: ImageReader;
  /** Usage of keys and tokens, and the counters their scopes are enforced with (GET /v1/usage reads it). */
  readonly usage: UsageStore;
  /** The imagine endpoint's store; undefined: the endpoint keeps its images in memory. */
  readonly imagine: ImagineStore | undefined;
  /** Tasks running now (this process's, or the cluster's this node accepted). */
  running(): number;
  /** Engine slots in use in this process (a cluster node: 0, its worker's jobs are counted in the queue). */
  slotsInUse(): number;
  /** Cluster mode: false while the shared state (Redis) is out of reach; cheap, no round trip. Absent: always reachable. */
  reachable?(): boolean;
  /** Cluster mode: Redis and the queue as the metrics show them, answered within `boundMs`. */
  probe?(boundMs: number): Promise<ClusterHealth>;
  /** Forgets expired records and images (the server's periodic sweep). */
  sweep(): void;
  /** A restart without keepState: this process forgets what it holds (a cluster's shared state stays). */
  clear(): void;
  /** Aborts every task this process runs (close). */
  abortAll(): void;
  /** Stops everything the backend owns (connections, workers, timers). */
  close(): Promise<void>;
}
