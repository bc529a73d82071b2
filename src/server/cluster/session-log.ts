// Sessions and their held task-output frames in Redis (Centrifugo-style): a HASH per session and a
// STREAM of frames whose entry IDs are the sequence numbers, so any node can resume any session.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ServerLimits } from '../limits.js';
import type { ServerFrame } from '../core/server-frame.js';
import { guarded, RedisReplyError } from './errors.js';
import { decodeFrame, encodeFrame } from './frame-codec.js';
import { ClusterKeys } from './keys.js';
import { defineScripts, list, num, str, type ScriptArg } from './scripts.js';
import {
  SESSION_ACKNOWLEDGE,
  SESSION_APPEND,
  SESSION_ATTACH,
  SESSION_CREATE,
  SESSION_DELIVERED,
  SESSION_DETACH,
  SESSION_DISCARD,
  SESSION_ENABLE,
  SESSION_GIVE_BACK,
  SESSION_REFRESH,
  SESSION_SWEEP,
  SESSION_TAKE,
} from './session-scripts.js';

/** The bounds the session log enforces, as the in-memory SessionStore does. */
export type SessionLogLimits = Pick<ServerLimits, 'maxHeldSessions' | 'maxHeldSessionsPerKey' | 'maxHeldBytesPerSession' | 'maxHeldBytesPerKey' | 'maxHeldBytesTotal'>;

/** Options of {@link SessionLog}. */
export interface SessionLogOptions {
  /** A command connection (see RedisConnections). */
  readonly redis: Redis;
  readonly limits: SessionLogLimits;
  /** How long a session without a socket is kept, ms; every key of a session expires this long after its last use. @default 120_000 */
  readonly resumeWindowMs?: number;
  /** @default "iw:" */
  readonly keyPrefix?: string;
}

/** Extension flags of a session. */
export interface LogFlags {
  readonly ack: boolean;
  readonly binary: boolean;
}

/** What {@link SessionLog.create} did. `dropped`: older sessions without a socket that made room. */
export type CreateResult = { readonly kind: 'created'; readonly session: string; readonly dropped: number } | { readonly kind: 'exists' } | { readonly kind: 'full'; readonly bound: 'perOwner' | 'total' };

/** What {@link SessionLog.attach} found. */
export type AttachResult =
  | { readonly found: false }
  | { readonly found: true; readonly ownerMatches: false }
  | {
      readonly found: true;
      readonly ownerMatches: true;
      /** The node that had it attached ('' none); it was told to close that socket (4000). */
      readonly previousNode: string;
      /** This attachment's generation: detach, take, refresh and enable need it. */
      readonly gen: number;
      readonly flags: LogFlags;
      /** The last sequence number given. */
      readonly lastSeq: number;
      /** Frames up to this are gone (acknowledged or taken): replay starts after it. */
      readonly acknowledged: number;
      readonly epoch: string;
      /**
       * With `prefetch` and ack on: the first held frames, read right behind the attachment; they
       * arrive after it, so a large frame does not hold up the attachment's answer.
       */
      readonly entries: Promise<readonly HeldEntry[]> | undefined;
    };

/** What {@link SessionLog.append} did: `dropped` when a bound discarded the session (its node was told). */
export type AppendResult = { readonly kind: 'appended'; readonly seq: number } | { readonly kind: 'dropped' } | { readonly kind: 'notFound' };

/** One held frame, its sequence number (its position in the log) and, under ack, the client's number for it. */
export interface HeldEntry {
  readonly seq: number;
  /** The `seq` the client sees under ack (numbered from 1 once ack is on); undefined for frames held before. */
  readonly clientSeq: number | undefined;
  readonly frame: ServerFrame;
}

/** A message on a node's channel ({@link ClusterKeys.nodeChannel}). */
export type NodeMessage =
  /** Frames to write; `entry`: the appended frame itself, when small and the session is under ack. */
  | { readonly kind: 'wake'; readonly session: string; readonly entry?: HeldEntry }
  | { readonly kind: 'evict'; readonly session: string; readonly gen: number }
  | { readonly kind: 'drop'; readonly session: string; readonly reason: string }
  /** A worker's preview for the session's socket: best effort, never held. */
  | { readonly kind: 'preview'; readonly session: string; readonly frame: ServerFrame };

/** Largest preview message a worker publishes: previews are small images; pub/sub must stay small. */
export const maxPreviewMessageBytes = 256 * 1024;

/** The node channel message of a preview (`p S <frame>`), or undefined when it is larger than {@link maxPreviewMessageBytes}. */
export function previewMessage(session: string, frame: ServerFrame): string | undefined {
  const message = `p ${session} ${encodeFrame(frame).h}`;
  // Characters bound the bytes from below: most messages are decided without counting bytes.
  if (message.length > maxPreviewMessageBytes || Buffer.byteLength(message) > maxPreviewMessageBytes) return undefined;
  return message;
}

/** Reads a node channel message: a bare session UUID or `f S seq clientSeq <frame>` (a frame to write), `evict S gen`, `drop S reason`, `p S <frame>`. */
export function parseNodeMessage(message: string): NodeMessage | undefined {
  if (message.startsWith('p ')) return parsePreview(message);
  if (message.startsWith('f ')) return parseFrameWake(message);
  const parts = message.split(' ');
  const session = parts[1] ?? '';
  if (parts.length === 1 && message !== '') return { kind: 'wake', session: message };
  if (parts[0] === 'evict' && parts.length === 3) return { kind: 'evict', session, gen: Number(parts[2]) };
  if (parts[0] === 'drop' && parts.length === 3) return { kind: 'drop', session, reason: parts[2] ?? '' };
  return undefined;
}

/** A `p S <frame>` message; undefined when its frame is not one the codec writes, or not a data frame. */
function parsePreview(message: string): NodeMessage | undefined {
  const space = message.indexOf(' ', 2);
  if (space <= 2) return undefined;
  try {
    const frame = decodeFrame(message.slice(space + 1), undefined);
    return frame.kind === 'data' ? { kind: 'preview', session: message.slice(2, space), frame } : undefined;
  } catch {
    return undefined;
  }
}

/** An `f S seq clientSeq <frame>` wake-up; a bare wake of S when its frame does not decode (the node reads it then). */
function parseFrameWake(message: string): NodeMessage | undefined {
  const [, session = '', seqText = '', clientSeqText = ''] = message.split(' ', 4);
  const frameAt = 2 + session.length + 1 + seqText.length + 1 + clientSeqText.length + 1;
  if (session === '' || seqText === '') return undefined;
  if (frameAt > message.length) return { kind: 'wake', session };
  const seq = Number(seqText);
  const clientSeq = Number(clientSeqText);
  try {
    if (!Number.isSafeInteger(seq) || seq < 1 || !Number.isSafeInteger(clientSeq) || clientSeq < 1 || clientSeq > seq) return { kind: 'wake', session };
    return { kind: 'wake', session, entry: { seq, clientSeq, frame: decodeFrame(message.slice(frameAt), undefined) } };
  } catch {
    return { kind: 'wake', session };
  }
}

const flagText = (flags: LogFlags): string => `${flags.ack ? 1 : 0}${flags.binary ? 1 : 0}`;

/**
 * The sessions of every node. Each operation that must be atomic is one Lua script; every key
 * expires one resume window after its session's last use (create, attach, append, acknowledge,
 * detach, refresh), so a node that dies leaves nothing behind for longer than that.
 */
export class SessionLog {
  readonly keys: ClusterKeys;
  readonly resumeWindowMs: number;
  readonly #redis: Redis;
  /** ARGV[1..7] of every session script: the prefix and the bounds. */
  readonly bounds: readonly ScriptArg[];
  readonly #scripts;

  constructor(options: SessionLogOptions) {
    this.#redis = options.redis;
    this.keys = new ClusterKeys(options.keyPrefix);
    this.resumeWindowMs = options.resumeWindowMs ?? 120_000;
    const l = options.limits;
    this.bounds = [this.keys.prefix, this.resumeWindowMs, l.maxHeldSessionsPerKey, l.maxHeldSessions, l.maxHeldBytesPerSession, l.maxHeldBytesPerKey, l.maxHeldBytesTotal];
    const two = (lua: string) => ({ keys: 2, lua });
    this.#scripts = defineScripts(options.redis, 'session', {
      create: two(SESSION_CREATE),
      attach: two(SESSION_ATTACH),
      append: two(SESSION_APPEND),
      take: two(SESSION_TAKE),
      delivered: two(SESSION_DELIVERED),
      acknowledge: two(SESSION_ACKNOWLEDGE),
      enable: two(SESSION_ENABLE),
      detach: two(SESSION_DETACH),
      refresh: two(SESSION_REFRESH),
      discard: two(SESSION_DISCARD),
      giveBack: two(SESSION_GIVE_BACK),
      sweep: { keys: 0, lua: SESSION_SWEEP },
    });
  }

  #keys(session: string): [string, string] {
    return [this.keys.session(session), this.keys.out(session)];
  }

  /**
   * A new session of `owner` (`session` given, or a random UUID). Older sessions without a socket
   * make room as the in-memory store's do; `full` when every one in the way has a socket
   * (`sessionLimitReached`).
   */
  async create(owner: string, session: string = randomUUID()): Promise<CreateResult> {
    const id = session.toLowerCase();
    const reply = list(await guarded('session create', () => this.#scripts.create.call(...this.#keys(id), ...this.bounds, owner, randomBytes(6).toString('hex'))));
    const kind = str(reply[0]);
    if (kind === 'created') return { kind, session: id, dropped: num(reply[1]) };
    if (kind === 'exists') return { kind };
    if (kind === 'full') return { kind, bound: str(reply[1]) === 'perOwner' ? 'perOwner' : 'total' };
    throw new RedisReplyError(`session create answered ${kind}`);
  }

  /**
   * Attaches `node` to `session` for `owner`: takes it over from the node that had it (that node
   * is told on its channel), bumps the generation, sets the flags as the in-memory store's
   * flagsOnAttach does (`asked` by an older client's authentication, else the session's own when
   * an enableExtensions task set them), and under ack forgets the frames up to `ack`. It is also
   * the lookup of a resume (owner check included). With `prefetch`, the first held frames are read
   * in the same round trip (a plain XRANGE sent right behind the script on the same connection, so
   * the image bytes never pass through Lua); they come back, as a promise, when ack is on.
   */
  async attach(session: string, owner: string, node: string, options: { readonly ack?: number; readonly asked?: LogFlags; readonly prefetch?: number } = {}): Promise<AttachResult> {
    const id = session.toLowerCase();
    const args = [...this.#keys(id), ...this.bounds, owner, node, options.ack ?? '', options.asked === undefined ? '' : flagText(options.asked)];
    // Both go out now, in this order, on one connection: one round trip.
    const answer = guarded('session attach', () => this.#scripts.attach.call(...args));
    const count = options.prefetch;
    const page = count === undefined ? undefined : guarded('session read', () => this.#redis.xrangeBuffer(this.keys.out(id), '-', '+', 'COUNT', count));
    // Awaited by whoever uses the page; a page nobody uses must not be an unhandled rejection.
    page?.catch(() => undefined);
    const reply = list(await answer);
    if (num(reply[0]) === 0) return { found: false };
    if (num(reply[1]) === 0) return { found: true, ownerMatches: false };
    const q0 = numberingStart(str(reply[9]));
    const ack = str(reply[4]) === '1';
    return {
      found: true,
      ownerMatches: true,
      previousNode: str(reply[2]),
      gen: num(reply[3]),
      flags: { ack, binary: str(reply[5]) === '1' },
      lastSeq: num(reply[6]),
      acknowledged: num(reply[7]),
      epoch: str(reply[8]),
      entries: page === undefined || !ack ? undefined : handled(page.then((entries) => entries.map(([entryId, fields]) => decodeEntry(entryId, fields, q0)))),
    };
  }

  /**
   * Holds a task-output frame: the next sequence number, the frame in the stream, its bytes counted
   * against the session, its key and the total (past a bound, what the in-memory store drops is
   * dropped, this session included), the TTLs renewed, and a wake-up to the attached node.
   */
  async append(session: string, owner: string, frame: ServerFrame): Promise<AppendResult> {
    const encoded = encodeFrame(frame);
    const image: ScriptArg[] = encoded.b === undefined ? ['0', ''] : ['1', encoded.b];
    const reply = list(await guarded('session append', () => this.#scripts.append.call(...this.#keys(session), ...this.bounds, owner, encoded.h, encoded.size, encoded.task, ...image)));
    return appendResult(reply);
  }

  /**
   * At most `count` held frames after `afterSeq`, oldest first: one bounded XRANGE (no script, so
   * image bytes never pass through Lua) and, in the same round trip, where the client's numbering starts.
   */
  async read(session: string, afterSeq: number, count: number): Promise<HeldEntry[]> {
    const [q0, entries] = await guarded('session read', () =>
      Promise.all([this.#redis.hget(this.keys.session(session), 'q0'), this.#redis.xrangeBuffer(this.keys.out(session), `${afterSeq + 1}-0`, '+', 'COUNT', count)]),
    );
    return entries.map(([id, fields]) => decodeEntry(id, fields, numberingStart(q0 ?? '0')));
  }

  /**
   * Without ack: the oldest `count` held frames, removed in the same script, so a frame handed to a
   * socket is never handed to another (it may be lost in flight, as the base protocol allows).
   * Empty when `node` no longer holds attachment `gen`.
   */
  async take(session: string, node: string, gen: number, count: number): Promise<HeldEntry[]> {
    const reply = list(await guarded('session take', () => this.#scripts.take.callBuffer(...this.#keys(session), ...this.bounds, node, gen, count)));
    return reply.map((entry) => {
      const [id, fields] = list(entry);
      return decodeEntry(id as Buffer, list(fields) as Buffer[], -1);
    });
  }

  /**
   * Without ack: frames taken from the log and never written (their socket went away) go back in
   * front of it, so they keep their order. False when frames were taken after them meanwhile (a
   * take-over already moved on): they are lost in flight then, as the base protocol allows.
   */
  async giveBack(session: string, owner: string, entries: readonly HeldEntry[]): Promise<boolean> {
    if (entries.length === 0) return true;
    const args: ScriptArg[] = [];
    for (const entry of entries) {
      const encoded = encodeFrame(entry.frame);
      args.push(entry.seq, encoded.h, encoded.b === undefined ? '0' : '1', encoded.b ?? '', encoded.size, encoded.task);
    }
    return num(await guarded('session give back', () => this.#scripts.giveBack.call(...this.#keys(session), ...this.bounds, owner, entries.length, ...args))) === 1;
  }

  /** Under ack: frames up to `seq` were written to the socket of `node` (acks are clamped to this). */
  async delivered(session: string, node: string, gen: number, seq: number): Promise<boolean> {
    return num(await guarded('session delivered', () => this.#scripts.delivered.call(...this.#keys(session), ...this.bounds, node, gen, seq))) === 1;
  }

  /** Under ack: the client has every frame up to `seq` (clamped to what was written); they are trimmed. Returns the bytes freed. */
  async acknowledge(session: string, seq: number): Promise<number> {
    return Math.max(0, num(await guarded('session acknowledge', () => this.#scripts.acknowledge.call(...this.#keys(session), ...this.bounds, seq))));
  }

  /** An enableExtensions task on the socket of `node`: `ack` first, then the flags; false when the node no longer holds it. */
  async enable(session: string, node: string, gen: number, flags: LogFlags, ack?: number): Promise<boolean> {
    return num(await guarded('session enable', () => this.#scripts.enable.call(...this.#keys(session), ...this.bounds, node, gen, flagText(flags), ack ?? ''))) === 1;
  }

  /** The socket of `node` (attachment `gen`) went away; a no-op when another attachment took over. */
  async detach(session: string, node: string, gen: number): Promise<boolean> {
    return num(await guarded('session detach', () => this.#scripts.detach.call(...this.#keys(session), ...this.bounds, node, gen))) === 1;
  }

  /** Renews the resume window of a session `node` still holds (every ~30 s); false when it no longer does. */
  async refresh(session: string, node: string, gen: number): Promise<boolean> {
    return num(await guarded('session refresh', () => this.#scripts.refresh.call(...this.#keys(session), ...this.bounds, node, gen))) === 1;
  }

  /** Drops a session and everything it holds. */
  async discard(session: string): Promise<boolean> {
    return num(await guarded('session discard', () => this.#scripts.discard.call(...this.#keys(session), ...this.bounds))) === 1;
  }

  /** Forgets the accounting of up to `limit` sessions Redis expired (scripts also do a few each time). */
  async sweep(limit = 1000): Promise<number> {
    return num(await guarded('session sweep', () => this.#scripts.sweep.call(...this.bounds, limit)));
  }

  /** A session's counters, or undefined when it is not kept. */
  async info(session: string): Promise<SessionInfo | undefined> {
    const fields = await guarded('session info', () => this.#redis.hgetall(this.keys.session(session)));
    if (fields.o === undefined) return undefined;
    return {
      owner: fields.o,
      seq: Number(fields.seq),
      node: fields.node ?? '',
      gen: Number(fields.gen),
      heldBytes: Number(fields.held),
      acknowledged: Number(fields.ak),
      sent: Number(fields.sent),
      flags: { ack: fields.ack === '1', binary: fields.bin === '1' },
      flagsSetBy: fields.by === 'e' ? 'enableExtensions' : 'authentication',
      epoch: fields.ep ?? '',
    };
  }

  /** Bytes held by `owner`'s sessions and sessions it keeps, as the bounds count them. */
  async ownerUsage(owner: string): Promise<{ sessions: number; heldBytes: number }> {
    const [sessions, bytes] = await guarded('session usage', () => Promise.all([this.#redis.zscore(`${this.keys.prefix}sc:amt`, owner), this.#redis.zscore(`${this.keys.prefix}sb:amt`, owner)]));
    return { sessions: Number(sessions ?? 0), heldBytes: Number(bytes ?? 0) };
  }
}

/** A session's state as kept. */
export interface SessionInfo {
  readonly owner: string;
  readonly seq: number;
  readonly node: string;
  readonly gen: number;
  readonly heldBytes: number;
  readonly acknowledged: number;
  readonly sent: number;
  readonly flags: LogFlags;
  readonly flagsSetBy: 'authentication' | 'enableExtensions';
  readonly epoch: string;
}

/** The reply `{status, seq}` of an append (the session script's or the task store's). */
export function appendResult(reply: readonly unknown[]): AppendResult {
  const kind = str(reply[0]);
  if (kind === 'appended') return { kind, seq: num(reply[1]) };
  if (kind === 'dropped' || kind === 'notFound') return { kind };
  throw new RedisReplyError(`session append answered ${kind}`);
}

/** `promise`, marked handled: its user awaits it (and sees a rejection); nobody else has to. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** A session's `q0` field: '' until ack is first on (-1: the client numbers nothing); absent (sessions older than it) is 0. */
function numberingStart(q0: string): number {
  return q0 === '' ? -1 : Number(q0);
}

/** A stream entry as a held frame; `q0`: the position before the client's seq 1 (-1: ack never on). */
function decodeEntry(id: Buffer, fields: readonly Buffer[], q0: number): HeldEntry {
  let h: string | undefined;
  let b: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]?.toString('latin1');
    if (name === 'h') h = fields[i + 1]?.toString('utf8');
    else if (name === 'b') b = fields[i + 1];
  }
  if (h === undefined) throw new RedisReplyError('a held frame has no h field');
  const text = id.toString('latin1');
  const seq = Number(text.slice(0, text.indexOf('-')));
  return { seq, clientSeq: q0 >= 0 && seq > q0 ? seq - q0 : undefined, frame: decodeFrame(h, b) };
}
