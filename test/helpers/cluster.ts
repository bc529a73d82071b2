// A whole cluster on loopback for the multi-process tests and benchmarks: a real redis-server, N
// `imagewire serve --redis` nodes and M `imagewire worker` processes, behind a round-robin balancer.
// Any of them can be killed (SIGKILL: a crash; SIGTERM: a graceful stop) and started again.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startBalancer, type Balancer } from './balancer.js';
import { spawnImagewire, startChildServer, type ChildExit, type ChildProcessHandle, type ChildServer } from './child-server.js';
import { packageRoot } from './package-root.js';
import { startRedis, type TestRedis } from './redis-server.js';

/** The BullMQ queue of cluster mode and its prefix (the key prefix without its colon). */
export const QUEUE_NAME = 'iw-tasks';
export const QUEUE_PREFIX = 'iw';

const cli = join(packageRoot(), 'dist', 'cli', 'main.js');
/**
 * True when the built CLI has cluster mode (`imagewire serve --redis`, `imagewire worker`). In CI
 * (`CI` set) its absence is an error, so the cluster tests can never pass there by being skipped;
 * elsewhere they are skipped with a warning that names the reason.
 */
export function clusterModeBuilt(): boolean {
  const serve = spawnSync(process.execPath, [cli, 'serve', '--help'], { encoding: 'utf8' });
  const worker = spawnSync(process.execPath, [cli, 'worker', '--help'], { encoding: 'utf8' });
  const missing = [serve.stdout.includes('--redis') ? '' : '`imagewire serve --redis`', worker.status === 0 ? '' : '`imagewire worker`'].filter((what) => what !== '');
  if (missing.length === 0) return true;
  const why = `the built CLI (dist/cli/main.js) has no ${missing.join(' and no ')}: run npm run build on a tree with cluster mode`;
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') throw new Error(`Cluster tests cannot run in CI: ${why}`);
  console.warn(`Cluster tests skipped: ${why}`);
  return false;
}

/** Options of {@link startCluster}. Two cores: keep processes few (3 nodes, 2 workers at most). */
export interface ClusterOptions {
  /** @default 3 */
  readonly nodes?: number;
  /** @default 2 */
  readonly workers?: number;
  /** Nodes run engine work too (no `--no-engine`). @default false: only workers run the engine */
  readonly nodeEngine?: boolean;
  /** Engine step delay of workers (and of nodes that run the engine), ms. @default 2 */
  readonly stepDelayMs?: number;
  /** `--concurrency` of each worker. @default 4 */
  readonly concurrency?: number;
  /** Extra arguments of every `serve`. */
  readonly nodeArgs?: readonly string[];
  /** Extra arguments of every `worker`. */
  readonly workerArgs?: readonly string[];
  /** Extra environment of every child. */
  readonly env?: Readonly<Record<string, string>>;
  /** Workers run tasks on this upstream (`--upstream`, key in `env`) instead of the procedural engine. */
  readonly upstream?: string;
}

/** One node slot: the process now running in it (undefined while killed) and how many times it started. */
export interface NodeSlot {
  readonly index: number;
  /** The `--node-id` of the current incarnation: `node-<index>.<incarnation>`. */
  readonly id: string;
  readonly server: ChildServer | undefined;
  readonly incarnation: number;
}

/** A running cluster. */
export interface Cluster extends AsyncDisposable {
  readonly redis: TestRedis;
  readonly balancer: Balancer;
  /** The balancer's `ws://127.0.0.1:PORT/v1`: what clients connect to. */
  readonly url: string;
  /** The balancer's `http://127.0.0.1:PORT`. */
  readonly httpUrl: string;
  readonly nodes: readonly NodeSlot[];
  /** Kills node `index` (its slot stays, empty, until {@link restartNode}); the balancer stops sending to it. */
  killNode(index: number, signal?: NodeJS.Signals): Promise<ChildExit>;
  /** Starts node `index` again (a new id and port); the balancer's backends are updated. */
  restartNode(index: number): Promise<ChildServer>;
  killWorker(index: number, signal?: NodeJS.Signals): Promise<ChildExit>;
  restartWorker(index: number): Promise<void>;
  /** Starts one more worker in a new slot; resolves with its index once it is ready. */
  addWorker(): Promise<number>;
  /** Workers alive now, by slot. */
  workersAlive(): boolean[];
  /** The process id of each worker slot's current process (undefined while killed). */
  workerPids(): (number | undefined)[];
  /** Kills Redis (SIGKILL by default), keeping its AOF. */
  killRedis(signal?: NodeJS.Signals): Promise<void>;
  /** Starts Redis again on the same folder and socket. */
  restartRedis(): Promise<void>;
  /** A command connection for checks (reconnects by itself after a Redis restart). */
  readonly command: Redis;
  /** The task queue, to read its counts (active, waiting) and workers; nodes that run the engine count as workers too. */
  readonly queue: Queue;
  /** Every child's stderr so far, dead ones included, each line prefixed with its process. */
  stderr(): string;
  /** Lines of every child's stderr that look like a crash (uncaught errors, unhandled rejections). */
  crashes(): string[];
  close(): Promise<void>;
}

interface Started {
  readonly label: string;
  readonly handle: ChildProcessHandle;
}

const crashPattern = /uncaught|unhandled|TypeError|ReferenceError|FATAL|Assertion/i;

/** Starts Redis, the nodes, the workers and the balancer; {@link Cluster.close} ends them all. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const nodeCount = options.nodes ?? 3;
  let workerCount = options.workers ?? 2;
  const stepDelay = String(options.stepDelayMs ?? 2);
  const redis = await startRedis();
  const started: Started[] = [];
  const spawnOptions = options.env === undefined ? {} : { env: options.env };
  const command = new Redis({ path: redis.path, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  command.on('error', () => undefined);
  await command.connect();
  const queue = new Queue(QUEUE_NAME, { prefix: QUEUE_PREFIX, connection: { path: redis.path, maxRetriesPerRequest: null, retryStrategy: () => 100 } });
  queue.on('error', () => undefined);

  const slots: { index: number; id: string; server: ChildServer | undefined; incarnation: number }[] = [];
  const workers: (ChildProcessHandle | undefined)[] = [];
  const workerStarts: number[] = [];
  // First, so that every node can be given its address as the public URL (in open mode on loopback a
  // node refuses a Host that is not one of its names, and image URLs should point at the balancer).
  const lb = await startBalancer([]);
  const publicUrl = `http://127.0.0.1:${lb.port}`;
  const nodeArgs = (id: string): string[] => [
    '--public-url',
    publicUrl,
    '--redis',
    redis.url,
    '--node-id',
    id,
    '--no-page',
    ...(options.nodeEngine === true ? ['--step-delay', stepDelay] : ['--no-engine']),
    ...(options.nodeArgs ?? []),
  ];
  const startNode = async (index: number, incarnation: number): Promise<ChildServer> => {
    const id = `node-${index}.${incarnation}`;
    const server = await startChildServer(nodeArgs(id), spawnOptions);
    started.push({ label: id, handle: server });
    slots[index] = { index, id, server, incarnation };
    return server;
  };
  const startWorker = async (index: number): Promise<void> => {
    const incarnation = workerStarts[index] ?? 0;
    workerStarts[index] = incarnation + 1;
    const before = await queue.getWorkersCount().catch(() => 0);
    const handle = spawnImagewire(['worker', '--redis', redis.url, '--concurrency', String(options.concurrency ?? 4), ...(options.upstream === undefined ? ['--step-delay', stepDelay] : ['--upstream', options.upstream]), ...(options.workerArgs ?? [])], spawnOptions);
    started.push({ label: `worker-${index}.${incarnation}`, handle });
    workers[index] = handle;
    // Ready when it says anything on stdout, or once BullMQ lists one more worker on the queue.
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (!handle.alive()) throw new Error(`imagewire worker exited at start (${JSON.stringify(handle.exit())}): ${handle.stderr()}`);
      if (handle.stdout().trim() !== '') return;
      if ((await queue.getWorkersCount().catch(() => 0)) > before) return;
      if (Date.now() > deadline) throw new Error(`imagewire worker not ready within 20 s: ${handle.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const livePorts = (): number[] => slots.flatMap((slot) => (slot.server?.alive() === true ? [slot.server.port] : []));

  const close = async (): Promise<void> => {
    await lb.close();
    await Promise.all(started.map(({ handle }) => handle.kill('SIGKILL')));
    await queue.close().catch(() => undefined);
    command.disconnect();
    await redis.close();
  };
  try {
    for (let i = 0; i < nodeCount; i++) await startNode(i, 0);
    for (let i = 0; i < workerCount; i++) await startWorker(i);
    lb.setBackends(livePorts());
  } catch (error) {
    await close();
    throw error;
  }
  const slot = (index: number) => {
    const found = slots[index];
    if (found === undefined) throw new RangeError(`no node ${index}`);
    return found;
  };
  return {
    redis,
    balancer: lb,
    url: lb.url,
    httpUrl: `http://127.0.0.1:${lb.port}`,
    get nodes() {
      return slots.map((s) => ({ ...s }));
    },
    async killNode(index, signal = 'SIGKILL') {
      const current = slot(index);
      const server = current.server;
      if (server === undefined) throw new Error(`node ${index} is not running`);
      current.server = undefined;
      lb.setBackends(livePorts());
      return server.kill(signal);
    },
    async restartNode(index) {
      const current = slot(index);
      if (current.server !== undefined) throw new Error(`node ${index} is running`);
      const server = await startNode(index, current.incarnation + 1);
      lb.setBackends(livePorts());
      return server;
    },
    async killWorker(index, signal = 'SIGKILL') {
      const handle = workers[index];
      if (handle === undefined) throw new Error(`worker ${index} is not running`);
      workers[index] = undefined;
      return handle.kill(signal);
    },
    restartWorker: async (index) => {
      if (workers[index] !== undefined) throw new Error(`worker ${index} is running`);
      await startWorker(index);
    },
    addWorker: async () => {
      const index = workerCount++;
      await startWorker(index);
      return index;
    },
    workersAlive: () => Array.from({ length: workerCount }, (_, i) => workers[i]?.alive() === true),
    workerPids: () => Array.from({ length: workerCount }, (_, i) => workers[i]?.pid),
    killRedis: (signal) => redis.kill(signal),
    restartRedis: () => redis.restart(),
    command,
    queue,
    stderr: () =>
      started
        .map(({ label, handle }) =>
          handle
            .stderr()
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => `[${label}] ${line}`)
            .join('\n'),
        )
        .filter((text) => text !== '')
        .join('\n'),
    crashes: () => started.flatMap(({ label, handle }) => handle.stderr().split('\n').filter((line) => crashPattern.test(line)).map((line) => `[${label}] ${line}`)),
    close,
    [Symbol.asyncDispose]: close,
  };
}
