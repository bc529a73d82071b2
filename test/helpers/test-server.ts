// Starts a reference server for a test: loopback, port 0, no step delay, logs captured (so tests
// can check that no key leaks into them). Dispose it with `await using` or `close()`.
import { createServer, type ImagewireServer, type Logger, type ServerOptions } from '../../src/server/index.js';
import { newTaskUUID } from '../../src/protocol/index.js';
import { clusterOptions } from './cluster-mode.js';

/** One captured log line. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>> | undefined;
}

/** A logger that records every line, at every level. */
export function captureLogger(): Logger & { readonly lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  const record = (level: LogLine['level']) => (message: string, fields?: Readonly<Record<string, unknown>>) => void lines.push({ level, message, fields });
  return {
    lines,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    text: () => lines.map((line) => `${line.level} ${line.message} ${JSON.stringify(line.fields ?? {})}`).join('\n'),
  };
}

export type TestServer = ImagewireServer & { readonly logs: ReturnType<typeof captureLogger> };

/** A server on 127.0.0.1:0 with stepDelayMs 0 and captured logs; options override. In cluster mode (cluster-mode.ts) it is a cluster node on its own key prefix. */
export async function startTestServer(options: ServerOptions = {}): Promise<TestServer> {
  const logs = captureLogger();
  const cluster = options.redis === undefined ? await clusterOptions() : undefined;
  // Grace 0 unless a test asks: close() then cancels running tasks at once, as most tests expect.
  const server = await createServer({ stepDelayMs: 0, logger: logs, shutdownGraceMs: 0, ...cluster, ...options });
  return Object.assign(server, { logs });
}

/** A small, fast imageInference task; overrides win. */
export function inferenceTask(overrides: Record<string, unknown> = {}): Record<string, unknown> & { taskUUID: string } {
  return {
    taskType: 'imageInference',
    taskUUID: newTaskUUID(),
    positivePrompt: 'a red fox in a blue forest',
    model: 'imagewire:1@1',
    width: 128,
    height: 128,
    steps: 2,
    seed: 42,
    outputType: 'base64Data',
    outputFormat: 'PNG',
    ...overrides,
  } as Record<string, unknown> & { taskUUID: string };
}
