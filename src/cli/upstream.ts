// `--upstream`: the engine of a gateway, with the upstream's key taken from IMAGEWIRE_UPSTREAM_KEY
// only, so it never shows in a process list, a shell history or a log line.
import { createUpstreamEngine, type UpstreamEngine } from '../gateway/index.js';
import { stderrLogger } from '../server/logger.js';

/** The environment variable that holds the upstream's key. */
export const UPSTREAM_KEY_VARIABLE = 'IMAGEWIRE_UPSTREAM_KEY';

/** The upstream engine for `url`; a RangeError (a usage error) when the key is not in the environment. */
export function upstreamEngineFor(url: string, env: Readonly<Record<string, string | undefined>> = process.env): UpstreamEngine {
  const apiKey = env[UPSTREAM_KEY_VARIABLE]?.trim() ?? '';
  if (apiKey === '') throw new RangeError(`--upstream needs the upstream's key in the environment variable ${UPSTREAM_KEY_VARIABLE} (never on the command line)`);
  if (!/^wss?:\/\//i.test(url)) throw new RangeError(`--upstream must be a ws:// or wss:// URL, e.g. wss://ws-api.runware.ai/v1; got ${JSON.stringify(url)}`);
  return createUpstreamEngine({ url, apiKey, logger: stderrLogger });
}
