// Exit codes of the imagewire command, one per way a run can end, so scripts can react; `--help`
// of each command lists the ones it uses (help.ts).
export const exitCodes = {
  ok: 0,
  /** Anything unexpected, including a task the server failed. */
  failure: 1,
  /** A bad argument or a request the protocol refuses. */
  usage: 2,
  /** The server refused the API key. */
  authentication: 3,
  /** The server could not be reached or the connection was lost for good. */
  connection: 4,
  /** Interrupted (Ctrl-C or SIGTERM); tasks were cancelled. */
  interrupted: 130,
} as const;

export type ExitCodeName = keyof typeof exitCodes;
export type ExitCode = (typeof exitCodes)[ExitCodeName];

/** The name of an exit code, as `--json` error reports give it in `error.kind`. */
export function exitCodeName(code: ExitCode): ExitCodeName {
  const names = Object.keys(exitCodes) as ExitCodeName[];
  return names.find((name) => exitCodes[name] === code) ?? 'failure';
}
