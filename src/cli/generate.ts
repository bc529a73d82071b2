// `imagewire generate`: runs one imageInference task over a session, draws a progress bar per image
// from its previews, and writes the final images. Without --url and a key it starts the embedded server.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { imageMediaType, inlineImage, type EncodedImageFormat } from '../internal/bytes.js';
import { AuthenticationError, ConnectionError, createClient, isImagewireError, ValidationError, type ImageInferenceEvent, type ImageInferenceRequest, type ImageResult, type TaskStream } from '../index.js';
import type { CliFormat } from './args.js';
import { exitCodes, type ExitCode } from './exit-codes.js';
import { createProgressView, type ProgressView } from './progress.js';
import { startEmbeddedServer, type EmbeddedServer } from './embedded-server.js';

export interface GenerateOptions {
  n: number;
  size: { width: number; height: number };
  steps: number;
  seed?: number;
  model: string;
  format: CliFormat;
  out: string;
  negative?: string;
  seedImage?: string;
  strength?: number;
  cfg?: number;
  url?: string;
  apiKey?: string;
  stepDelay?: number;
  json: boolean;
}

/** The formats a --seed-image file may have, by its extension. */
const seedFormats: Readonly<Record<string, EncodedImageFormat>> = { '.png': 'PNG', '.jpg': 'JPG', '.jpeg': 'JPG', '.webp': 'WEBP' };
const extensions: Record<CliFormat, string> = { png: 'png', jpg: 'jpg', webp: 'webp' };

/** One image written to disk, as --json reports it. */
interface WrittenImage {
  index: number;
  path: string;
  seed: number | undefined;
  imageUUID: string;
  bytes: number;
}

async function readSeedImage(file: string): Promise<string> {
  const format = seedFormats[extname(file).toLowerCase()];
  if (format === undefined) throw new UsageError(`--seed-image must be a .png, .jpg or .webp file; got ${file}`);
  const bytes = await readFile(file).catch((error: unknown) => {
    throw new UsageError(`cannot read --seed-image ${file}: ${error instanceof Error ? error.message : String(error)}`);
  });
  return inlineImage(bytes, imageMediaType(format), 'dataURI');
}

class UsageError extends Error {}

function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError || error instanceof ValidationError) return exitCodes.usage;
  if (error instanceof AuthenticationError) return exitCodes.authentication;
  if (error instanceof ConnectionError) return exitCodes.connection;
  return exitCodes.failure;
}

function describeError(error: unknown): string {
  if (isImagewireError(error)) return `${error.message} [${error.code}]`;
  return error instanceof Error ? error.message : String(error);
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

/** Runs the task, drawing its progress, and writes each final to --out as it arrives. */
async function writeImages(task: TaskStream<ImageInferenceEvent, ImageResult[]>, options: GenerateOptions): Promise<WrittenImage[]> {
  const directory = resolve(options.out);
  await mkdir(directory, { recursive: true });
  const written: WrittenImage[] = [];
  let progress: ProgressView | undefined;
  try {
    for await (const event of task) {
      // Bars appear with the first event, so a run that never connects draws none.
      if (!options.json) progress ??= createProgressView(options.n, options.steps);
      if (event.type === 'preview') {
        progress?.step(event.index, event.step, event.steps);
        continue;
      }
      const seed = event.image.seed;
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
    console.log(JSON.stringify({ taskUUID, images: written }, null, 2));
  } else {
    for (const image of written) console.log(image.path);
  }
}

/** Runs the command; resolves with the process exit code. */
export async function runGenerate(prompt: string, options: GenerateOptions): Promise<ExitCode> {
  const apiKey = options.apiKey ?? process.env.IMAGEWIRE_API_KEY;
  if ((options.url === undefined) !== (apiKey === undefined || apiKey === '')) {
    console.error('imagewire: give both --url and an API key (--api-key or IMAGEWIRE_API_KEY) for a remote server, or neither for the embedded one');
    return exitCodes.usage;
  }

  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  let embedded: EmbeddedServer | undefined;
  try {
    const request = await requestOf(prompt, options, abort.signal);
    let url = options.url;
    let key = apiKey;
    if (url === undefined) {
      embedded = await startEmbeddedServer(options.stepDelay);
      url = embedded.url;
      key = embedded.apiKey;
      console.error(`imagewire: no --url and key given; using the embedded local server at ${url} (procedural engine, not a diffusion model)`);
    }

    // A few quick retries ride out a blip; an unreachable server fails the run in seconds.
    // A server that is not there fails in 2 s, saying why; once connected, drops are retried.
    await using client = createClient({ apiKey: key ?? '', url, firstConnectTimeoutMs: 2_000, reconnect: { maxAttempts: 8, maxDelayMs: 4_000 } });
    const task = client.imageInference(request);
    printWritten(task.taskUUID, await writeImages(task, options), options.json);
    return exitCodes.ok;
  } catch (error) {
    if (abort.signal.aborted) {
      console.error('imagewire: interrupted; the task was cancelled');
      return exitCodes.interrupted;
    }
    console.error(`imagewire: ${describeError(error)}`);
    return exitCodeFor(error);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await embedded?.close();
  }
}
