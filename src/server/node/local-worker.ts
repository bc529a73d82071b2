// The worker a cluster node runs beside its faces (unless `engine: false`): the same worker as
// `imagewire worker`, on the node's Redis, prefix, windows and limits, with the node's engine.
import type { Engine } from '../../engine/index.js';
import type { RedisOption } from '../cluster/redis-options.js';
import { createWorker, type ClusterWorker, type WorkerOptions } from '../cluster/worker.js';
import type { ResolvedServerOptions } from '../options.js';
import type { ServerObserver } from '../observability/events.js';

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
    ...reportTo(observer),
  });
}

/** The node's observer as the worker's hooks: the tasks this node runs count in its own /metrics. */
function reportTo(observer: ServerObserver | undefined): Pick<WorkerOptions, 'onTaskEnd' | 'onOutbound'> {
  if (observer === undefined) return {};
  return { onTaskEnd: (end) => observer.taskEnded(end), onOutbound: (kind, outcome) => observer.outbound(kind, outcome) };
}
