// `imagewire generate`: checks everything that needs no server, then runs one imageInference task
// over a session, shows its progress per image from the previews, and writes the final images.
// Without --url and a key it starts the embedded server.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthenticationError, ConnectionError, createClient, isImagewireError, ValidationError, type ImageInferenceEvent, type ImageInferenceRequest, type ImageResult, type TaskStream } from '../index.js';
import type { CliFormat } from './args.js';
import { errorReport, printError, type CliErrorReport } from './error-report.js';
import { exitCodes, type ExitCode } from './exit-codes.js';
import { checkRequest, checkServerUrl, prepareOutDir, readSeedImage } from './generate-preflight.js';
import { jsonText } from './json-output.js';
import { createProgressView, type ProgressView } from './progress.js';
import { startEmbeddedServer, type EmbeddedServer } from './embedded-server.js';
import { UsageError } from './usage-error.js';

export interface GenerateOptions {
  n: number;
  size: { width: number; height: number };
  steps: number;
  /** A bigint above 2^53 - 1, so that every digit typed reaches the server. */
  seed?: number | bigint;
  model: string;
  format: CliFormat;
  out: string;
  negative?: string;
  seedImage?: string;
  strength?: number;
  cfg?: number;
  url?: string;
  apiKey?: string;
  /** Only when given on the command line: the embedded server's own default applies otherwise. */
  stepDelay?: number;
  json?: boolean;
}

const extensions: Record<CliFormat, string> = { png: 'png', jpg: 'jpg', webp: 'webp' };

/** One image written to disk, as --json reports it. */
interface WrittenImage {
  index: number;
  path: string;
  /** A bigint above 2^53 - 1: printed with its exact digits. */
  seed: number | bigint | undefined;
  imageUUID: string;
  bytes: number;
}

/** What the checks hand to the run: the request, the folder, and the remote server if any. */
interface Plan {
  request: ImageInferenceRequest;
  directory: string;
  remote: { url: string; apiKey: string } | undefined;
}

/** The task the options ask for; reads the seed image, if any. */
async function requestOf(prompt: string, options: GenerateOptions, signal: AbortSignal): Promise<ImageInferenceRequest> {
  const request: ImageInferenceRequest = {
    positivePrompt: prompt,
    model: options.model,
    width: options.size.width,
    height: options.size.height,
    steps: options.steps,
    numberResults: options.n,
    outputType: 'base64Data',
    outputFormat: options.format === 'jpg' ? 'JPG' : options.format === 'webp' ? 'WEBP' : 'PNG',
    previews: { maxSide: 64, format: 'JPG' },
    signal,
  };
  if (options.seed !== undefined) request.seed = options.seed;
  if (options.negative !== undefined) request.negativePrompt = options.negative;
  if (options.strength !== undefined) request.strength = options.strength;
  if (options.cfg !== undefined) request.CFGScale = options.cfg;
  if (options.seedImage !== undefined) request.seedImage = await readSeedImage(options.seedImage);
  return request;
}

/** Every check that needs no server, in the order a person would fix them; throws UsageError. */
async function preflight(prompt: string, options: GenerateOptions, signal: AbortSignal): Promise<Plan> {
  const key = options.apiKey ?? process.env.IMAGEWIRE_API_KEY;
  const apiKey = key === '' ? undefined : key;
  if ((options.url === undefined) !== (apiKey === undefined)) {
    throw new UsageError('give both --url and an API key (--api-key or IMAGEWIRE_API_KEY) for a remote server, or neither for the embedded one');
  }
  if (options.url !== undefined) {
    const { warning } = checkServerUrl(options.url);
    if (warning !== undefined) process.stderr.write(`warning: ${warning}\n`);
    if (options.stepDelay !== undefined) throw new UsageError('--step-delay sets the embedded server, which --url replaces');
  }
  if (options.strength !== undefined && options.seedImage === undefined) {
    throw new UsageError('--strength needs --seed-image: it says how far to move away from that image');
  }
  const request = await requestOf(prompt, options, signal);
  checkRequest(request);
  const directory = await prepareOutDir(options.out);
  return { request, directory, remote: options.url === undefined || apiKey === undefined ? undefined : { url: options.url, apiKey } };
}

/**
 * The seed of image `index`: the given seed + index, exact even above 2^53 - 1 (where the result's
 * own `seed`, read from JSON as a double, is rounded), else the seed the server chose.
 */
function seedOf(options: GenerateOptions, index: number, reported: number | undefined): number | bigint | undefined {
  if (options.seed === undefined) return reported;
  const seed = BigInt(options.seed) + BigInt(index);
  return seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed;
}

/** Runs the task, drawing its progress, and writes each final to the folder as it arrives. */
async function writeImages(task: TaskStream<ImageInferenceEvent, ImageResult[]>, options: GenerateOptions, directory: string): Promise<WrittenImage[]> {
  const written: WrittenImage[] = [];
  let progress: ProgressView | undefined;
  try {
    for await (const event of task) {
      // Progress appears with the first event, so a run that never connects draws none.
      if (options.json !== true) progress ??= createProgressView(options.n, options.steps);
      if (event.type === 'preview') {
        progress?.step(event.index, event.step, event.steps);
        continue;
      }
      const seed = seedOf(options, event.index, event.image.seed);
      const name = `${task.taskUUID.slice(0, 8)}-${event.index}${seed === undefined ? '' : `-seed${seed}`}.${extensions[options.format]}`;
      const path = join(directory, name);
      await writeFile(path, event.image.bytes);
      progress?.done(event.index);
      written.push({ index: event.index, path, seed, imageUUID: event.image.imageUUID, bytes: event.image.bytes.byteLength });
    }
  } finally {
    progress?.stop();
  }
  return written.sort((a, b) => a.index - b.index);
}

/** The written files: their paths, one a line, or with --json the whole report. */
function printWritten(taskUUID: string, written: readonly WrittenImage[], json: boolean): void {
  if (json) {
    console.log(jsonText({ taskUUID, images: written }));
  } else {
    for (const image of written) console.log(image.path);
  }
}

/** The report of the error that ended a run. */
function reportOf(error: unknown): CliErrorReport {
  if (error instanceof UsageError) return errorReport(exitCodes.usage, error.message, error.code);
  const code = isImagewireError(error) ? error.code : undefined;
  const message = isImagewireError(error) ? `${error.message} [${error.code}]` : error instanceof Error ? error.message : String(error);
  const exitCode: ExitCode =
    error instanceof ValidationError ? exitCodes.usage : error instanceof AuthenticationError ? exitCodes.authentication : error instanceof ConnectionError ? exitCodes.connection : exitCodes.failure;
  return errorReport(exitCode, message, code);
}

/** The session's server: the remote one, or the embedded one started now (and said so). */
async function serverOf(plan: Plan, options: GenerateOptions): Promise<{ url: string; apiKey: string; embedded?: EmbeddedServer }> {
  if (plan.remote !== undefined) return plan.remote;
  const embedded = await startEmbeddedServer(options.stepDelay);
  process.stderr.write(`imagewire: no --url and key given; using the embedded local server at ${embedded.url} (procedural engine, not a diffusion model)\n`);
  return { url: embedded.url, apiKey: embedded.apiKey, embedded };
}

/** Signals that cancel the run: Ctrl-C, and SIGTERM as a service manager or `timeout` sends it. */
const interruptSignals = ['SIGINT', 'SIGTERM'] as const;

/** Runs the command; resolves with the process exit code. */
export async function runGenerate(prompt: string, options: GenerateOptions): Promise<ExitCode> {
  const json = options.json === true;
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => abort.abort(new Error(`interrupted (${signal})`));
  for (const signal of interruptSignals) process.once(signal, onSignal);
  let embedded: EmbeddedServer | undefined;
  try {
    const plan = await preflight(prompt, options, abort.signal);
    abort.signal.throwIfAborted();
    const server = await serverOf(plan, options);
    embedded = server.embedded;
    abort.signal.throwIfAborted();
    // A server that is not there fails in 2 s, saying why; once connected, drops are retried.
    await using client = createClient({ apiKey: server.apiKey, url: server.url, firstConnectTimeoutMs: 2_000, reconnect: { maxAttempts: 8, maxDelayMs: 4_000 } });
    const task = client.imageInference(plan.request);
    printWritten(task.taskUUID, await writeImages(task, options, plan.directory), json);
    return exitCodes.ok;
  } catch (error) {
    const report = abort.signal.aborted ? errorReport(exitCodes.interrupted, 'interrupted; the task was cancelled') : reportOf(error);
    printError(report, { json, command: 'generate' });
    return report.exitCode;
  } finally {
    for (const signal of interruptSignals) process.removeListener(signal, onSignal);
    await embedded?.close();
  }
}
