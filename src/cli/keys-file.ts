// `--api-keys-file`: accepted keys from a file, so they never appear in a process list or a shell
// history. One key per line; blank lines and lines starting with `#` are skipped.
import { readFile, stat } from 'node:fs/promises';
import { stderrLogger } from '../server/logger.js';

/** Keys at most this many; a bigger file is not a keys file. */
const MAX_KEYS_FILE_BYTES = 1024 * 1024;

/** The keys of `path`; a RangeError (a usage error, never quoting the file) when it cannot be read. */
export async function readKeysFile(path: string): Promise<string[]> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size > MAX_KEYS_FILE_BYTES) throw new RangeError(`--api-keys-file ${path} is not a file of at most 1 MiB`);
    // Readable by the group or others: keys should be as private as the process that holds them.
    if ((info.mode & 0o077) !== 0) stderrLogger.warn('the API keys file is readable by other users; chmod 600 it', { path });
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw new RangeError(`--api-keys-file ${path} cannot be read (${error instanceof Error && 'code' in error ? String(error.code) : 'unknown error'})`, { cause: error });
  }
  const keys = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
  if (keys.length === 0) throw new RangeError(`--api-keys-file ${path} holds no key`);
  return keys;
}
