// The CLI's logger: pino-backed, JSON lines unless stderr is a terminal, at the level of
// --log-level (or IMAGEWIRE_LOG_LEVEL), on stderr so that stdout keeps only the command's own lines.
import { createPinoLogger, isLogLevel, type LogLevel, type PinoLogger } from '../server/observability/pino-logger.js';

/** The log flags both `serve` and `worker` take. */
export interface LogFlags {
  /** --log-level. */
  logLevel?: string;
  /** --log-format. */
  logFormat?: string;
}

const formats = ['auto', 'json', 'pretty'] as const;
type LogFormat = (typeof formats)[number];

function isLogFormat(value: string): value is LogFormat {
  return (formats as readonly string[]).includes(value);
}

/**
 * The logger of a command: flags first, then IMAGEWIRE_LOG_LEVEL and IMAGEWIRE_LOG_FORMAT, then
 * `info` and `auto`. Throws RangeError for a level or format that is not one.
 */
export function cliLogger(flags: LogFlags, env: Readonly<Record<string, string | undefined>> = process.env): PinoLogger {
  const level = (flags.logLevel ?? env.IMAGEWIRE_LOG_LEVEL ?? 'info').trim().toLowerCase();
  if (!isLogLevel(level)) throw new RangeError(`--log-level (IMAGEWIRE_LOG_LEVEL) must be trace, debug, info, warn, error, fatal or silent; got ${JSON.stringify(level)}`);
  const format = (flags.logFormat ?? env.IMAGEWIRE_LOG_FORMAT ?? 'auto').trim().toLowerCase();
  if (!isLogFormat(format)) throw new RangeError(`--log-format (IMAGEWIRE_LOG_FORMAT) must be auto, json or pretty; got ${JSON.stringify(format)}`);
  return createPinoLogger({ level: level satisfies LogLevel, format, destination: 2 });
}
