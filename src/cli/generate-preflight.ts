// The checks of `imagewire generate` that need no server: the URL's shape, the flags that only make
// sense together, the seed image's bytes, the protocol's own rules and the --out folder. They all
// run before the embedded server starts or a remote one is dialled, so a mistake costs nothing.
import { constants } from 'node:fs';
import { access, mkdir, open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { imageMediaType, inlineImage, sniffImageFormat } from '../internal/bytes.js';
import { defaultFrameLimits, newTaskUUID, validateTaskOf, type ImageInferenceTask, type ProtocolErrorItem } from '../protocol/index.js';
import type { ImageInferenceRequest } from '../index.js';
import { UsageError } from './usage-error.js';

const urlSchemes: ReadonlySet<string> = new Set(['ws:', 'wss:', 'http:', 'https:']);
const urlExample = 'wss://ws-api.runware.ai/v1';

/**
 * A --url a client can dial: ws, wss, http or https (the last two are the same server's WebSocket).
 * Returns a warning when its path does not end in /v1, where Runware's service and every imagewire
 * server listen: a proxy may mount one elsewhere, so it is a hint, not a refusal.
 */
export function checkServerUrl(text: string): { warning?: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url must be a ws://, wss://, http:// or https:// URL such as ${urlExample}; got ${JSON.stringify(text)}`);
  }
  if (!urlSchemes.has(url.protocol)) throw new UsageError(`--url must be a ws://, wss://, http:// or https:// URL such as ${urlExample}; got ${JSON.stringify(text)}`);
  if (/\/v1\/?$/.test(url.pathname)) return {};
  return { warning: `--url ${text} has no /v1 path; Runware's service and imagewire servers listen at /v1 (e.g. ${urlExample})` };
}

/** The flags of the request's protocol parameters, so a refusal names what was typed. */
const flagOfParameter: Readonly<Record<string, string>> = {
  positivePrompt: 'the prompt',
  negativePrompt: '--negative',
  numberResults: '--n',
  width: '--size',
  height: '--size',
  steps: '--steps',
  seed: '--seed',
  model: '--model',
  seedImage: '--seed-image',
  strength: '--strength',
  CFGScale: '--cfg',
  outputFormat: '--format',
};

function describeRefusal(item: ProtocolErrorItem): string {
  const flag = item.parameter === undefined ? undefined : flagOfParameter[item.parameter];
  return `${flag === undefined ? '' : `${flag}: `}${item.message} [${item.code}]`;
}

/** Checks the request with the protocol's own rules, as the client and any server would. */
export function checkRequest(request: ImageInferenceRequest): void {
  const { signal: _signal, ...params } = request;
  const valid = validateTaskOf<ImageInferenceTask>('imageInference', { taskType: 'imageInference', taskUUID: newTaskUUID(), ...params });
  if (valid.ok) return;
  throw new UsageError(valid.errors.map(describeRefusal).join('; '), { code: valid.errors[0]?.code });
}

function reason(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    const words: Readonly<Record<string, string>> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a folder', EPERM: 'not permitted', EROFS: 'read-only file system', ENOTDIR: 'a part of the path is not a folder' };
    return `${words[error.code] ?? 'cannot be used'} (${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The largest seed image file: its data URI (4/3 of it) and the rest of the task must fit a frame of
 * the protocol's default size, which is what servers accept unless they say otherwise.
 */
export const MAX_SEED_IMAGE_BYTES = Math.floor((defaultFrameLimits.maxFrameBytes * 3) / 4) - 64 * 1024;

/** The file's bytes, read only when it is a regular file within MAX_SEED_IMAGE_BYTES (not a device, a pipe or a huge file). */
async function readBoundedFile(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw Object.assign(new Error('it is a folder'), { code: 'EISDIR' });
    if (!info.isFile()) throw new UsageError(`--seed-image ${file} is not a regular file`);
    if (info.size > MAX_SEED_IMAGE_BYTES) throw new UsageError(`--seed-image ${file} is ${info.size} bytes; at most ${MAX_SEED_IMAGE_BYTES} bytes fit in a task`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The seed image as a data URI; anything but a PNG, JPEG or WebP file, whatever its name, is refused. */
export async function readSeedImage(file: string): Promise<string> {
  const bytes = await readBoundedFile(file).catch((error: unknown) => {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read --seed-image ${file}: ${reason(error)}`, { cause: error });
  });
  const format = sniffImageFormat(bytes);
  if (format === undefined) throw new UsageError(`--seed-image ${file} is not a PNG, JPEG or WebP image`);
  return inlineImage(bytes, imageMediaType(format), 'dataURI');
}

/** The nearest folder of `path` that exists (the one a `mkdir -p` would create inside). */
async function nearestExisting(path: string): Promise<{ path: string; isDirectory: boolean }> {
  for (let current = path; ; current = dirname(current)) {
    const info = await stat(current).catch(() => undefined);
    if (info !== undefined) return { path: current, isDirectory: info.isDirectory() };
    if (dirname(current) === current) return { path: current, isDirectory: true };
  }
}

/**
 * Makes the --out folder and proves it writable, before anything is rendered: a file where the
 * folder should be, a file on the way to it, or a folder this user cannot write in is refused.
 */
export async function prepareOutDir(out: string): Promise<string> {
  const directory = resolve(out);
  const existing = await nearestExisting(directory);
  if (!existing.isDirectory) {
    throw new UsageError(existing.path === directory ? `--out ${out} is a file, not a folder` : `--out ${out} cannot be created: ${existing.path} is a file, not a folder`);
  }
  try {
    await mkdir(directory, { recursive: true });
    await access(directory, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new UsageError(`--out ${out} is not a folder this user can write to: ${reason(error)}`, { cause: error });
  }
  return directory;
}
