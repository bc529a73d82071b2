// The in-process server `imagewire generate` starts on loopback when no remote server is given.
import { randomBytes } from 'node:crypto';
import { createServer } from '../server/index.js';

export interface EmbeddedServer {
  url: string;
  /** A random key for this run only: the embedded server accepts nothing else. */
  apiKey: string;
  close(): Promise<void>;
}

/**
 * Starts the reference server on 127.0.0.1 with a free port and a one-off key. Its outbound policy
 * stays the default (no private network): `generate` sends its seed image inline, never as a URL,
 * and sets no webhook or upload endpoint, so the server has no reason to reach any address.
 */
export async function startEmbeddedServer(stepDelayMs?: number): Promise<EmbeddedServer> {
  const apiKey = randomBytes(18).toString('base64url');
  const server = await createServer({
    host: '127.0.0.1',
    port: 0,
    apiKeys: [apiKey],
    logger: false,
    ...(stepDelayMs === undefined ? {} : { stepDelayMs }),
  });
  return { url: server.url, apiKey, close: () => server.close() };
}
