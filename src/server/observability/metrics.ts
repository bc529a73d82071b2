// The server's Prometheus metrics on a registry of its own (never prom-client's global one, so two
// servers in one process keep apart): counters and histograms moved by events as they happen, and
// gauges of what the server holds read at scrape time.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OutboundKind } from '../outbound/policy.js';
import type { AnswerFace, AuthResult, OutboundOutcome, TaskEnd } from './events.js';

/** What the server holds right now, read at each scrape (cheap and synchronous). */
export interface HeldSnapshot {
  readonly connections: number;
  readonly sessions: number;
  readonly heldFrames: number;
  readonly heldBytes: number;
  readonly tasksRunning: number;
  readonly tasksQueued: number;
  readonly slotsInUse: number;
  readonly ready: boolean;
}

/** A cluster node's view of Redis and its queue; undefined fields were not read in time. */
export interface ClusterHealth {
  readonly redisUp: boolean;
  readonly waiting: number | undefined;
  readonly active: number | undefined;
}

/** Where a scrape reads the gauges. */
export interface MetricSources {
  snapshot(): HeldSnapshot;
  /** Cluster mode: Redis and the queue, answered within `boundMs` (the probe's own bound). */
  cluster?: ((boundMs: number) => Promise<ClusterHealth>) | undefined;
}

/** How long a scrape waits for Redis before it reports it down, ms. */
export const CLUSTER_PROBE_MS = 1_000;

const durationBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const previewBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function gauge(registry: Registry, name: string, help: string, labelNames: readonly string[] = []): Gauge<string> {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

function counter(registry: Registry, name: string, help: string, labelNames: readonly string[]): Counter<string> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** The scrape-time gauges of a snapshot, by their field. */
function heldGauges(registry: Registry): Readonly<Record<keyof HeldSnapshot, Gauge<string>>> {
  return {
    connections: gauge(registry, 'imagewire_connections_open', 'Open WebSocket connections of this process.'),
    sessions: gauge(registry, 'imagewire_sessions_open', 'Sessions kept by this process (attached or held for resume; a cluster node: attached to its sockets).'),
    heldFrames: gauge(registry, 'imagewire_held_frames', 'Frames held for resume or awaiting an acknowledgement (0 on a cluster node: Redis holds them).'),
    heldBytes: gauge(registry, 'imagewire_held_bytes', 'Approximate bytes of the held frames.'),
    tasksRunning: gauge(registry, 'imagewire_tasks_running', 'Tasks running or waiting in this process (0 on a cluster node).'),
    tasksQueued: gauge(registry, 'imagewire_tasks_queued', 'Tasks waiting for an engine slot in this process.'),
    slotsInUse: gauge(registry, 'imagewire_engine_slots_in_use', 'Engine slots in use in this process (limits.maxConcurrentTasks of them).'),
    ready: gauge(registry, 'imagewire_ready', '1 while /readyz answers 200, else 0.'),
  };
}

/** The counters, histograms and gauges of one server. */
export class ServerMetrics {
  /** This server's registry; render it with {@link ServerMetrics.scrape}. */
  readonly registry = new Registry();
  readonly #held = heldGauges(this.registry);
  readonly #auth = counter(this.registry, 'imagewire_authentications_total', 'Credential checks by outcome (ok, invalidApiKey, expiredToken) and credential (key, token).', ['outcome', 'credential']);
  readonly #connections = counter(this.registry, 'imagewire_connections_closed_total', 'WebSocket connections closed, by who closed them (server, client).', ['closed_by']);
  readonly #tasks = counter(this.registry, 'imagewire_tasks_total', 'Tasks ended, by task type and outcome (success, error, cancelled).', ['task_type', 'outcome']);
  readonly #duration = new Histogram({ name: 'imagewire_task_duration_seconds', help: 'Task duration from admission to end, seconds.', labelNames: ['task_type', 'outcome'], buckets: durationBuckets, registers: [this.registry] });
  readonly #firstPreview = new Histogram({ name: 'imagewire_task_first_preview_seconds', help: 'Time from admission to the first preview of tasks that sent one, seconds.', buckets: previewBuckets, registers: [this.registry] });
  readonly #images = counter(this.registry, 'imagewire_task_images_total', 'Results (images) sent by ended tasks, by task type.', ['task_type']);
  readonly #bytes = counter(this.registry, 'imagewire_bytes_out_total', 'Bytes written to WebSocket connections.', []);
  readonly #resumes = counter(this.registry, 'imagewire_resumes_total', 'Authentications that asked to resume a session, by outcome (resumed, new_session).', ['outcome']);
  readonly #errors = counter(this.registry, 'imagewire_error_answers_total', 'Error items sent, by code and face (ws, http).', ['code', 'face']);
  readonly #outbound = counter(this.registry, 'imagewire_outbound_requests_total', "The server's own requests, by kind (input, webhook, upload) and outcome (ok, refused, failed, timeout, aborted).", ['kind', 'outcome']);
  /** Cluster mode only: a server in memory shows no Redis gauges rather than a Redis that is down. */
  #cluster: { readonly up: Gauge<string>; readonly queue: Gauge<string> } | undefined;
  #sources: MetricSources | undefined;

  /** Where scrapes read the gauges; set once the server is built. */
  bind(sources: MetricSources): void {
    this.#sources = sources;
    if (sources.cluster === undefined || this.#cluster !== undefined) return;
    this.#cluster = {
      up: gauge(this.registry, 'imagewire_redis_up', 'Cluster mode: 1 when Redis answered a PING within the scrape bound, else 0.'),
      queue: gauge(this.registry, 'imagewire_queue_jobs', "Cluster mode: jobs in the cluster's task queue, by state (waiting, active).", ['state']),
    };
  }

  authenticated(result: AuthResult, credential: 'key' | 'token'): void {
    this.#auth.inc({ outcome: result, credential });
  }

  connectionClosed(closedBy: 'server' | 'client'): void {
    this.#connections.inc({ closed_by: closedBy });
  }

  taskEnded(end: TaskEnd): void {
    const labels = { task_type: end.taskType, outcome: end.outcome };
    this.#tasks.inc(labels);
    this.#duration.observe(labels, end.durationMs / 1000);
    if (end.firstPreviewMs !== undefined) this.#firstPreview.observe(end.firstPreviewMs / 1000);
    if (end.images > 0) this.#images.inc({ task_type: end.taskType }, end.images);
  }

  bytesOut(bytes: number): void {
    this.#bytes.inc(bytes);
  }

  resumeAsked(resumed: boolean): void {
    this.#resumes.inc({ outcome: resumed ? 'resumed' : 'new_session' });
  }

  errorAnswered(code: string, face: AnswerFace): void {
    this.#errors.inc({ code, face });
  }

  outbound(kind: OutboundKind, outcome: OutboundOutcome): void {
    this.#outbound.inc({ kind, outcome });
  }

  /** The metrics in Prometheus' text format, gauges read now (Redis within {@link CLUSTER_PROBE_MS}). */
  async scrape(): Promise<string> {
    const sources = this.#sources;
    if (sources !== undefined) {
      const snapshot = sources.snapshot();
      for (const [field, metric] of Object.entries(this.#held)) {
        const value = snapshot[field as keyof HeldSnapshot];
        metric.set(typeof value === 'boolean' ? Number(value) : value);
      }
      if (sources.cluster !== undefined) await this.#probeCluster(sources.cluster);
    }
    return this.registry.metrics();
  }

  /** The content type of {@link ServerMetrics.scrape}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  async #probeCluster(probe: (boundMs: number) => Promise<ClusterHealth>): Promise<void> {
    const gauges = this.#cluster;
    if (gauges === undefined) return;
    let health: ClusterHealth;
    try {
      health = await probe(CLUSTER_PROBE_MS);
    } catch {
      health = { redisUp: false, waiting: undefined, active: undefined };
    }
    gauges.up.set(health.redisUp ? 1 : 0);
    // Counts not read in time are left out rather than shown stale.
    gauges.queue.reset();
    if (health.waiting !== undefined) gauges.queue.set({ state: 'waiting' }, health.waiting);
    if (health.active !== undefined) gauges.queue.set({ state: 'active' }, health.active);
  }
}
