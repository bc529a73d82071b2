// A cluster node's health as /readyz and /metrics read it: whether its Redis connection is up (no
// round trip), and at scrape time a PING and the queue's counts, each within a bound, so a Redis
// that hangs never holds a scrape longer than that.
import type { Redis } from 'ioredis';
import type { TaskQueue } from '../cluster/task-queue.js';
import type { ClusterHealth } from '../observability/metrics.js';

/** `work`'s value, or undefined when it fails or takes longer than `ms`. */
async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The health reads of a node on its command connection and its queue. */
export class ClusterHealthProbe {
  readonly #command: Redis;
  readonly #queueConnection: Redis;
  readonly #queue: TaskQueue;

  constructor(command: Redis, queueConnection: Redis, queue: TaskQueue) {
    this.#command = command;
    this.#queueConnection = queueConnection;
    this.#queue = queue;
  }

  /** True while the command connection is up (its status, read without a round trip). */
  reachable(): boolean {
    return this.#command.status === 'ready';
  }

  /**
   * PING and the queue's counts, together within `boundMs`. The counts are asked only while the
   * queue's connection is up: its commands wait for a reconnect, and scrapes during an outage must
   * not pile them up.
   */
  async probe(boundMs: number): Promise<ClusterHealth> {
    const pong = this.reachable() ? within(this.#command.ping(), boundMs) : Promise.resolve(undefined);
    const counts = this.#queueConnection.status === 'ready' ? within(this.#queue.counts(), boundMs) : Promise.resolve(undefined);
    const [answered, jobs] = await Promise.all([pong, counts]);
    return { redisUp: answered === 'PONG', waiting: jobs?.waiting, active: jobs?.active };
  }
}
