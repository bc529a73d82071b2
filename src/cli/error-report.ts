// How a command reports the error that ends it, always on stderr so that stdout holds results
// only: one line (a usage error adds a hint to its --help), or with --json one JSON document
// `{"error": {...}}`, so a script parses whichever stream it gets.
import { exitCodeName, type ExitCode, type ExitCodeName } from './exit-codes.js';

/** The `error` object of a `--json` failure. */
export interface CliErrorReport {
  /** What kind of end this is: the name of the exit code (`usage`, `connection`, ...). */
  kind: ExitCodeName;
  /** The process's exit code. */
  exitCode: ExitCode;
  /** The same sentence the text form prints. */
  message: string;
  /** The protocol's or the client's stable code, when one applies (e.g. `invalidSteps`, `invalidApiKey`). */
  code?: string;
}

/** The hint a usage error ends with; without a command, the hint to the program's own help. */
export function usageHint(command?: string): string {
  return `(run 'imagewire${command === undefined || command === '' ? '' : ` ${command}`} --help' for usage)`;
}

/** The report of an exit code and message. */
export function errorReport(exitCode: ExitCode, message: string, code?: string): CliErrorReport {
  return { kind: exitCodeName(exitCode), exitCode, message, ...(code === undefined ? {} : { code }) };
}

/** Prints the report on stderr: JSON with `json`, else a line (and, for usage, the hint). */
export function printError(report: CliErrorReport, options: { json: boolean; command: string }): void {
  if (options.json) {
    process.stderr.write(`${JSON.stringify({ error: report }, null, 2)}\n`);
  } else if (report.kind === 'usage') {
    process.stderr.write(`error: ${report.message}\n${usageHint(options.command)}\n`);
  } else {
    process.stderr.write(`imagewire: ${report.message}\n`);
  }
}
