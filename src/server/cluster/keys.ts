// The Redis key layout of the cluster stores: one builder, so every key carries the `{...}` hash tag
// of the session, task, owner or image it belongs to, under one configurable prefix.

/** The default key prefix. */
export const defaultKeyPrefix = 'iw:';

/**
 * Key names under a prefix. S = session UUID, O = owner (key digest), T = taskUUID (lower case),
 * U = imageUUID, I = imagine image id. Accounting keys that span owners (`<store>:amt`, `:tot`,
 * `:exp`) have no tag: they belong to no one session.
 */
export class ClusterKeys {
  readonly prefix: string;

  constructor(prefix: string = defaultKeyPrefix) {
    if (prefix.includes('{') || prefix.includes('}') || prefix.includes(' ')) throw new RangeError('the Redis key prefix must not contain braces or spaces');
    this.prefix = prefix;
  }

  /** HASH: a session's owner, counters and flags. */
  session(session: string): string {
    return `${this.prefix}s:{${session}}`;
  }

  /** STREAM: a session's held task-output frames, entry ID `<seq>-0`. */
  out(session: string): string {
    return `${this.prefix}s:{${session}}:out`;
  }

  /** HASH: a task record. */
  task(owner: string, taskUUID: string): string {
    return `${this.prefix}t:{${owner}:${taskUUID.toLowerCase()}}`;
  }

  /** ZSET: an owner's tasks in flight, member taskUUID, score lease expiry (ms). */
  inflight(owner: string): string {
    return `${this.prefix}k:{${owner}}:inflight`;
  }

  /** A per-owner key of one of the stores' accounts (`sessions`, `detached`, `held`, `done`, `img`, ...). */
  owner(owner: string, name: string): string {
    return `${this.prefix}k:{${owner}}:${name}`;
  }

  /** HASH: a stored image. */
  image(uuid: string): string {
    return `${this.prefix}img:{${uuid.toLowerCase()}}`;
  }

  /** HASH: an imagine image. */
  imagine(id: string): string {
    return `${this.prefix}im:{${id}}`;
  }

  /** The PUB/SUB channel of one node: session wake-ups, take-overs and drops. */
  nodeChannel(node: string): string {
    return `${this.prefix}n:${node}`;
  }

  /** The PUB/SUB channel workers listen on for cancellations (`<owner> <taskUUID>`). */
  cancelChannel(): string {
    return `${this.prefix}cancel`;
  }
}
