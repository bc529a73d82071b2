// What the worker suites and the worker benchmark share: a real redis-server, the node-side stores
// a test plays the node with (session log, task store, image store, queue), and helpers to admit
// and enqueue a task by hand and read back what the worker wrote to the session log.
import type { Redis } from 'ioredis';
import { normalizeImageInference, type ImageInferenceTask } from '../../src/protocol/index.js';
import { RedisImageStore } from '../../src/server/cluster/image-store.js';
import { RedisConnections } from '../../src/server/cluster/redis-options.js';
import { SessionLog, type HeldEntry } from '../../src/server/cluster/session-log.js';
import { encodeTaskJob } from '../../src/server/cluster/task-job.js';
import { TaskQueue } from '../../src/server/cluster/task-queue.js';
import { TaskStore } from '../../src/server/cluster/task-store.js';
import { defaultLimits } from '../../src/server/limits.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

/** A Redis and the node side of one test file, under its own key prefix per {@link nodeSide}. */
export interface WorkerFixture {
  readonly server: TestRedis;
  readonly connections: RedisConnections;
  readonly command: Redis;
  nodeSide(keyPrefix: string): NodeSide;
  close(): Promise<void>;
}

/** The stores a node would use, under one key prefix. */
export interface NodeSide {
  readonly keyPrefix: string;
  readonly log: SessionLog;
  readonly tasks: TaskStore;
  readonly images: RedisImageStore;
  readonly queue: TaskQueue;
  /** A session of `owner` attached to node `node`. */
  session(owner: string, node?: string): Promise<string>;
  /** Admits an imageInference task targeting `session` and enqueues its job (`admitted` is called in between). */
  submit(owner: string, session: string, task: Partial<ImageInferenceTask> & { taskUUID: string }, admitted?: () => void): Promise<void>;
  /** Every frame held for `session`, oldest first. */
  held(session: string): Promise<HeldEntry[]>;
}

export async function startWorkerFixture(): Promise<WorkerFixture> {
  const server = await startRedis();
  const connections = new RedisConnections({ redis: server.url, name: 'test-node' });
  const command = connections.create('command');
  const queues: TaskQueue[] = [];
  const nodeSide = (keyPrefix: string): NodeSide => {
    const log = new SessionLog({ redis: command, limits: defaultLimits, keyPrefix });
    const tasks = new TaskStore({ redis: command, sessions: log, limits: defaultLimits });
    const images = new RedisImageStore({ redis: command, limits: defaultLimits, keyPrefix });
    const queue = new TaskQueue({ connection: connections.create('queue'), keyPrefix });
    queues.push(queue);
    return {
      keyPrefix,
      log,
      tasks,
      images,
      queue,
      session: async (owner, node = 'node-a') => {
        const created = await log.create(owner);
        if (created.kind !== 'created') throw new Error(`session create: ${created.kind}`);
        await log.attach(created.session, owner, node);
        return created.session;
      },
      submit: async (owner, session, fields, onAdmitted) => {
        const raw: ImageInferenceTask = { taskType: 'imageInference', positivePrompt: 'a lighthouse at dusk', model: 'runware:101@1', width: 128, height: 128, steps: 4, numberResults: 1, seed: 42, ...fields };
        const task = normalizeImageInference(raw);
        const admitted = await tasks.admit(owner, task.taskUUID, 'imageInference', { async: task.deliveryMethod === 'async', target: session });
        if (admitted.kind !== 'admitted') throw new Error(`admit: ${admitted.kind}`);
        onAdmitted?.();
        await queue.enqueue(encodeTaskJob({ owner, task, previews: true, storeFinals: true, publicUrl: 'http://node.test' }));
      },
      held: (session) => log.read(session, 0, 1000),
    };
  };
  return {
    server,
    connections,
    command,
    nodeSide,
    close: async () => {
      await Promise.all(queues.map((queue) => queue.close()));
      await connections.close();
      await server.close();
    },
  };
}

/** The result indexes of the finals among held frames, in log order. */
export function finalIndexes(entries: readonly HeldEntry[]): number[] {
  const out: number[] = [];
  for (const { frame } of entries) {
    const item = frame.kind === 'image' ? frame.item : frame.kind === 'data' ? frame.items[0] : undefined;
    if (item !== undefined && typeof item.index === 'number') out.push(item.index);
  }
  return out;
}
