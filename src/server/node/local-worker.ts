// The worker a cluster node runs beside its faces (unless `engine: false`): the same worker as
// `imagewire worker`, on the node's Redis, prefix, windows and limits, with the node's engine.
import type { Engine } from '../../engine/index.js';
import type { RedisOption } from '../cluster/redis-options.js';
import { createWorker, type ClusterWorker } from '../cluster/worker.js';
import type { ResolvedServerOptions } from '../options.js';
import type { ServerObserver, TaskEnd } from '../observability/events.js';

/** Starts the node's own worker; undefined when the node runs no engine work. */
export async function startLocalWorker(options: ResolvedServerOptions, redis: RedisOption, engine: Engine | undefined, observer?: ServerObserver): Promise<ClusterWorker | undefined> {
  if (engine === undefined) return undefined;
  return createWorker({
    redis,
    engine,
    // As many tasks at once as the in-memory router runs on its engine.
    concurrency: options.limits.maxConcurrentTasks,
    logger: options.logger,
    limits: options.limits,
    keyPrefix: options.keyPrefix,
    resumeWindowMs: options.resumeWindowMs,
    taskRetentionMs: options.taskRetentionMs,
    allowPrivateNetwork: options.allowPrivateNetwork,
    ...(options.allowOutbound === undefined ? {} : { allowOutbound: options.allowOutbound }),
    name: `imagewire-node-${options.nodeId}-worker`,
    // The tasks this node runs itself count in its own /metrics.
    ...(observer === undefined ? {} : { onTaskEnd: (end: TaskEnd) => observer.taskEnded(end) }),
  });
}
