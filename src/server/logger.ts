// The server's structured logger interface and its default. Nothing the server logs carries an
// API key: fields name sessions, tasks and peers, never credentials.

/** Context of a log line: plain values only. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** Where the server writes what it does. Any object with these methods works (pino, console wrappers). */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

function format(level: string, message: string, fields: LogFields | undefined): string {
  const parts = [`[imagewire] ${level} ${message}`];
  if (fields !== undefined) {
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) parts.push(`${key}=${String(value)}`);
  }
  return parts.join(' ');
}

/** The default: warnings and errors to stderr, nothing else (stdout stays the app's). */
export const stderrLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, fields) => process.stderr.write(`${format('warn', message, fields)}\n`),
  error: (message, fields) => process.stderr.write(`${format('error', message, fields)}\n`),
};

/** A logger that drops everything (`logger: false`). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Message of an unknown thrown value, for a log line. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === 'string' ? error : 'unknown error';
}
