// A usage error: the command line asks for something that cannot work (a value out of range, a file
// that is not an image, a folder that cannot be written). It ends a run with exit code 2 before
// any server is started or reached, printed as one line plus a hint to the command's --help.
export class UsageError extends Error {
  /** The protocol's error code when the protocol's own rules refused the value, e.g. `invalidSteps`. */
  readonly code: string | undefined;

  constructor(message: string, options?: { code?: string | undefined; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UsageError';
    this.code = options?.code;
  }
}
