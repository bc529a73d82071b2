// `imagewire health`: asks a running server's /healthz (or /readyz) and exits 0 when it answers
// 200, so a container's HEALTHCHECK needs no curl in the image.
import { exitCodes, type ExitCode } from './exit-codes.js';

/** The parsed flags of `imagewire health`. */
export interface HealthCommandOptions {
  url: string;
  timeout: number;
}

/** Exits 0 on a 200 within the timeout, 1 otherwise (the reason on stderr). */
export async function runHealthCommand(options: HealthCommandOptions): Promise<ExitCode> {
  try {
    const response = await fetch(options.url, { signal: AbortSignal.timeout(options.timeout) });
    await response.body?.cancel();
    if (response.status === 200) return exitCodes.ok;
    console.error(`imagewire: ${options.url} answered ${response.status}`);
  } catch (error) {
    console.error(`imagewire: ${options.url} did not answer: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
  return exitCodes.failure;
}
