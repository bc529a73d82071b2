// A cluster node's backend: its Redis connections, the session log, task and image stores, the
// queue, its channel, the WebSocket sessions and task core on them, and (unless `engine: false`)
// a worker in this process. Loaded only when createServer is given `redis`.
import type { ServerObserver } from '../observability/events.js';
import { createProceduralEngine, type Engine } from '../../engine/index.js';
import type { ServerBackend } from '../backend.js';
import { RedisImageStore } from '../cluster/image-store.js';
import { defaultCommandTimeoutMs, RedisConnections, type RedisOption } from '../cluster/redis-options.js';
import { SessionLog } from '../cluster/session-log.js';
import { TaskQueue } from '../cluster/task-queue.js';
import { TaskStore } from '../cluster/task-store.js';
import { RedisUsageStore } from '../cluster/usage-store.js';
import { errorMessage } from '../logger.js';
import type { ResolvedServerOptions } from '../options.js';
import { ClusterImagineStore } from './cluster-imagine-store.js';
import { ClusterSessionStore } from './cluster-session-store.js';
import { ClusterTaskRouter } from './cluster-task-router.js';
import { startLocalWorker } from './local-worker.js';
import { listenOnNodeChannel } from './node-channel.js';
import { OrphanSweeper } from './orphan-sweep.js';
import { TaskWatch } from './task-watch.js';
import { TransientTargets } from './transient-target.js';
import { ClusterHealthProbe } from './cluster-health.js';

/** The Redis-backed stores of a node, on one command connection. */
function createStores(options: ResolvedServerOptions, connections: RedisConnections) {
  const { limits, keyPrefix } = options;
  const redis = connections.create('command');
  const log = new SessionLog({ redis, limits, keyPrefix, resumeWindowMs: options.resumeWindowMs });
  const tasks = new TaskStore({ redis, sessions: log, limits, retentionMs: options.taskRetentionMs });
  const images = new RedisImageStore({ redis, limits, retentionMs: options.taskRetentionMs, keyPrefix });
  const imagine = new ClusterImagineStore(redis, options);
  const queueConnection = connections.create('queue');
  const queue = new TaskQueue({ connection: queueConnection, keyPrefix });
  const usage = new RedisUsageStore({ redis, keyPrefix, maxOwners: limits.maxUsageOwners, maxTokens: limits.maxUsageTokens, retentionMs: limits.usageRetentionMs });
  return { log, tasks, images, imagine, queue, usage, health: new ClusterHealthProbe(redis, queueConnection, queue) };
}

/** Builds a node on `redis` and resolves once it listens on its channel; rejects (and closes what it made) when Redis cannot be reached. */
export async function createClusterBackend(options: ResolvedServerOptions, redis: RedisOption, publicUrl: () => string, observer?: ServerObserver): Promise<ServerBackend> {
  const { logger, limits, clock, nodeId } = options;
  const connections = new RedisConnections({ redis, name: `imagewire-node-${nodeId}`, onError: (error, role) => logger.warn('redis connection error', { role, error: errorMessage(error) }) });
  try {
    const { log, tasks, images, imagine, queue, usage, health } = createStores(options, connections);
    const watch = new TaskWatch(tasks, logger, clock);
    const sessions = new ClusterSessionStore({ log, nodeId, limits, logger, clock, written: (session, frame) => watch.seen(session, frame) });
    const transients = new TransientTargets(log, sessions, logger);
    const engine: Engine | undefined = options.engine === false ? undefined : (options.engine ?? createProceduralEngine({ stepDelayMs: options.stepDelayMs }));
    const router = new ClusterTaskRouter({ tasks, log, images, queue, watch, transients, engine, limits, logger, publicUrl, usage });
    const unlisten = await listenOnNodeChannel(connections.create('subscriber'), log.keys.nodeChannel(nodeId), sessions, logger);
    const worker = await startLocalWorker(options, redis, engine, observer);
    const orphans = new OrphanSweeper(tasks, queue, logger, clock);
    let sweeping = false;
    return {
      sessions,
      router,
      images,
      imagine,
      usage,
      running: () => 0,
      slotsInUse: () => 0,
      reachable: () => health.reachable(),
      probe: (boundMs) => health.probe(boundMs),
      sweep: () => {
        if (sweeping) return;
        sweeping = true;
        images
          .sweep()
          .catch((error: unknown) => logger.warn('cluster sweep failed', { error: errorMessage(error) }))
          .finally(() => (sweeping = false));
      },
      clear: () => sessions.clear(),
      abortAll: () => undefined,
      close: async () => {
        // Admissions under way are queued (or taken back) before the connections they need close.
        await router.drain(defaultCommandTimeoutMs);
        orphans.close();
        watch.close();
        sessions.close();
        unlisten();
        await worker?.close();
        await queue.close().catch(() => undefined);
        await connections.close();
      },
    };
  } catch (error) {
    await connections.close();
    throw error;
  }
}
