// The default backend: sessions, task records and images in this process's memory, and the task
// router running the engine here. Nothing of cluster mode is loaded for it.
import { createProceduralEngine } from '../engine/index.js';
import type { ServerBackend } from './backend.js';
import { MemoryImageStore } from './images/store.js';
import type { ResolvedServerOptions } from './options.js';
import { MemoryTaskRegistry } from './core/task-registry.js';
import { TaskRouter } from './core/task-router.js';
import type { WebhookSender } from './outbound/webhooks.js';
import { MemorySessionStore } from './ws/session-store.js';
import { MemoryUsageStore } from './usage/memory-usage-store.js';
import { finalCounter } from './usage/final-counter.js';
import type { ServerObserver } from './observability/events.js';
import { TaskReporter } from './observability/task-reporter.js';

/** Builds the in-memory stores and the task router on the server's clock. */
export function createMemoryBackend(options: ResolvedServerOptions, publicUrl: () => string, webhooks: WebhookSender, observer: ServerObserver): ServerBackend {
  const { logger, limits, clock } = options;
  const engine = options.engine === undefined || options.engine === false ? createProceduralEngine({ stepDelayMs: options.stepDelayMs }) : options.engine;
  const images = new MemoryImageStore({ maxBytes: limits.maxStoredImageBytes, maxBytesPerKey: limits.maxStoredImageBytesPerKey, retentionMs: options.taskRetentionMs, clock });
  const sessions = new MemorySessionStore({ limits, logger, clock, resumeWindowMs: options.resumeWindowMs });
  const registry = new MemoryTaskRegistry({ retentionMs: options.taskRetentionMs, maxRecords: limits.maxTaskRecords, maxRecordsPerKey: limits.maxTaskRecordsPerKey, clock, reporter: new TaskReporter(observer, () => clock.monotonic()) });
  const usage = new MemoryUsageStore({ maxOwners: limits.maxUsageOwners, maxTokens: limits.maxUsageTokens, retentionMs: limits.usageRetentionMs }, clock);
  const finals = finalCounter(usage, logger);
  const router = new TaskRouter({ engine, registry, images, limits, logger, outbound: options.outbound, publicUrl, webhooks, clock, usage, finals });
  return {
    sessions,
    router,
    images,
    usage,
    imagine: undefined,
    running: () => registry.running,
    slotsInUse: () => router.slotsInUse,
    sweep: () => {
      registry.sweep();
      images.sweep();
      usage.sweep();
    },
    clear: () => {
      registry.clear();
      sessions.clear();
      images.clear();
      usage.clear();
    },
    abortAll: () => registry.abortAll(),
    close: async () => {
      registry.clear();
      sessions.close();
      images.clear();
    },
  };
}
