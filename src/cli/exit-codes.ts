// Exit codes of the imagewire command, one per way a run can end, so scripts can react.
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
  /** Interrupted (Ctrl-C); tasks were cancelled. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];
