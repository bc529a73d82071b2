// The key id of log lines and metrics: a short digest of an owner id, enough to tell keys apart in
// logs and never enough to recover or replay the key (the owner id is itself a digest of the key).
import { createHash } from 'node:crypto';

/** Owners seen lately and their key ids: a task's end reports its key id, and hashing it each time cost about 6 % of the server's time on small tasks. */
const known = new Map<string, string>();
/** Past this many owners the cache starts over (a server rarely sees this many keys at once). */
const MAX_KNOWN = 4096;

/** 12 hex digits of SHA-256 over the owner id. */
export function keyIdOf(owner: string): string {
  let id = known.get(owner);
  if (id === undefined) {
    id = createHash('sha256').update(`imagewire key id\u0000${owner}`, 'utf8').digest('hex').slice(0, 12);
    if (known.size >= MAX_KNOWN) known.clear();
    known.set(owner, id);
  }
  return id;
}
