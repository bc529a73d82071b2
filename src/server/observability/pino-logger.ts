// A Logger backed by pino: JSON lines (one object per line, `level` as a name, `time` in ISO 8601),
// or pino-pretty's readable lines for a terminal. Written synchronously, so the lines of a process
// that exits at once (a second signal, a crash) are not lost in a buffer.
import { pino, type DestinationStream } from 'pino';
import PinoPretty from 'pino-pretty';
import type { LogFields, Logger } from '../logger.js';

/** The levels a pino-backed logger filters on, most verbose first; `silent` drops everything. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One of {@link logLevels}. */
export type LogLevel = (typeof logLevels)[number];

/** Options of {@link createPinoLogger}. */
export interface PinoLoggerOptions {
  /** Lines below this level are dropped. @default 'info' */
  level?: LogLevel;
  /**
   * `json` (one JSON object per line), `pretty` (readable, coloured on a terminal), or `auto`:
   * pretty when the destination is a terminal, else JSON. @default 'auto'
   */
  format?: 'auto' | 'json' | 'pretty';
  /**
   * Where lines go: a file descriptor (1 stdout, 2 stderr) or a writable stream (tests).
   * @default 2 (stderr: stdout stays the command's own output)
   */
  destination?: 1 | 2 | NodeJS.WritableStream;
  /** Fields on every line, e.g. `{ service: 'imagewire' }`. @default none */
  base?: Readonly<Record<string, string | number>>;
}

/** A Logger that also flushes: call it before a deliberate exit. */
export interface PinoLogger extends Logger {
  /** The level lines are filtered at. */
  readonly level: LogLevel;
  flush(): void;
}

/** True when `value` names a level of {@link logLevels}. */
export function isLogLevel(value: string): value is LogLevel {
  return (logLevels as readonly string[]).includes(value);
}

function isTerminal(destination: 1 | 2 | NodeJS.WritableStream): boolean {
  if (destination === 1) return process.stdout.isTTY;
  if (destination === 2) return process.stderr.isTTY;
  return 'isTTY' in destination && destination.isTTY === true;
}

function streamOf(destination: 1 | 2 | NodeJS.WritableStream, pretty: boolean): DestinationStream {
  if (pretty) return PinoPretty({ destination, sync: true, colorize: isTerminal(destination), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
}

/**
 * Builds a {@link Logger} on pino, for `createServer({ logger })` or anything else that takes one.
 * Keys and fields named like credentials (`apiKey`, `token`, `authorization`) are censored should
 * anything ever pass one.
 *
 * @example
 * ```ts
 * const logger = createPinoLogger({ level: 'debug', format: 'json' });
 * await using server = await createServer({ logger });
 * ```
 */
export function createPinoLogger(options: PinoLoggerOptions = {}): PinoLogger {
  const level = options.level ?? 'info';
  const destination = options.destination ?? 2;
  const format = options.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && isTerminal(destination));
  const logger = pino(
    {
      level,
      base: { ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['apiKey', 'token', 'authorization', 'password'], censor: '[redacted]' },
    },
    streamOf(destination, pretty),
  );
  const write =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: LogFields): void =>
      logger[method]({ ...fields }, message);
  return { level, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), flush: () => logger.flush() };
}
