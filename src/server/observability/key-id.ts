// The key id of log lines and metrics: a short digest of an owner id, enough to tell keys apart in
// logs and never enough to recover or replay the key (the owner id is itself a digest of the key).
import { createHash } from 'node:crypto';

/** 12 hex digits of SHA-256 over the owner id. */
export function keyIdOf(owner: string): string {
  return createHash('sha256').update(`imagewire key id\u0000${owner}`, 'utf8').digest('hex').slice(0, 12);
}
