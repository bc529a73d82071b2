// Sessions by connectionSessionUUID: the socket a session's results go to, or, while it has none,
// the buffer of results produced meanwhile, kept for the resume window (120 s documented) and handed
// to the next socket that authenticates with the session's UUID and key.
import { randomUUID } from 'node:crypto';
import type { Stats } from './stats.js';

/** A frame of task outputs: its text and how many result items it carries (for the counters). */
export interface OutFrame {
  readonly text: string;
  readonly items: number;
}

/** The socket side of a session. */
export interface SessionPeer {
  /** Writes a result frame through the socket's write path (faults apply). */
  writeResult(frame: OutFrame): void;
  /** The session moved to another socket: close this one, never touch the session again. */
  evict(): void;
}

type SessionState =
  | { readonly name: 'attached'; readonly peer: SessionPeer }
  | { readonly name: 'detached'; readonly buffer: OutFrame[]; readonly expiry: NodeJS.Timeout }
  | { readonly name: 'gone' };

/** One session of one key. */
export class Session {
  readonly uuid: string;
  readonly apiKey: string;
  #state: SessionState;
  readonly #store: SessionStore;

  constructor(store: SessionStore, uuid: string, apiKey: string, peer: SessionPeer) {
    this.#store = store;
    this.uuid = uuid;
    this.apiKey = apiKey;
    this.#state = { name: 'attached', peer };
  }

  get state(): SessionState['name'] {
    return this.#state.name;
  }

  /** Sends a task's output frame to the socket, or buffers it for resume, or counts it expired. */
  deliver(frame: OutFrame): void {
    const state = this.#state;
    switch (state.name) {
      case 'attached':
        state.peer.writeResult(frame);
        return;
      case 'detached':
        state.buffer.push(frame);
        this.#store.stats.add('resultsBuffered', frame.items);
        return;
      case 'gone':
        this.#store.stats.add('resultsExpired', frame.items);
        return;
    }
  }

  /** Attaches `peer` (evicting a previous one); returns the buffered frames to replay, in order. */
  attach(peer: SessionPeer): OutFrame[] {
    const state = this.#state;
    this.#state = { name: 'attached', peer };
    if (state.name === 'attached') {
      if (state.peer !== peer) state.peer.evict();
      return [];
    }
    if (state.name === 'detached') {
      clearTimeout(state.expiry);
      return state.buffer;
    }
    return [];
  }

  /** `peer` is gone; results buffer from now on for the resume window. No-op when another peer took over. */
  detach(peer: SessionPeer, resumeWindowMs: number): void {
    if (this.#state.name !== 'attached' || this.#state.peer !== peer) return;
    const buffer: OutFrame[] = [];
    const expiry = setTimeout(() => this.#expire(), resumeWindowMs);
    expiry.unref();
    this.#state = { name: 'detached', buffer, expiry };
  }

  #expire(): void {
    if (this.#state.name !== 'detached') return;
    this.#store.stats.add('resultsExpired', this.#state.buffer.reduce((n, frame) => n + frame.items, 0));
    this.#state = { name: 'gone' };
    this.#store.remove(this);
  }

  /** Forgets the session (a restart): buffered results count as lost. */
  discard(): void {
    if (this.#state.name === 'detached') {
      clearTimeout(this.#state.expiry);
      this.#store.stats.add('resultsLost', this.#state.buffer.reduce((n, frame) => n + frame.items, 0));
    }
    this.#state = { name: 'gone' };
  }
}

/** Every live session. */
export class SessionStore {
  readonly stats: Stats;
  readonly #sessions = new Map<string, Session>();

  constructor(stats: Stats) {
    this.stats = stats;
  }

  /** A new session attached to `peer`; `uuid` reuses a given UUID (the echo fault), default a fresh v4. */
  create(apiKey: string, peer: SessionPeer, uuid: string = randomUUID()): Session {
    const session = new Session(this, uuid, apiKey, peer);
    this.#sessions.set(uuid, session);
    this.stats.add('sessionsCreated');
    return session;
  }

  /** The live session `uuid` of `apiKey`; another key's session is not found. */
  find(uuid: string, apiKey: string): Session | undefined {
    const session = this.#sessions.get(uuid);
    return session?.apiKey === apiKey ? session : undefined;
  }

  remove(session: Session): void {
    if (this.#sessions.get(session.uuid) === session) this.#sessions.delete(session.uuid);
  }

  /** Forgets every session; returns them (their UUIDs and keys). */
  clear(): Session[] {
    const sessions = [...this.#sessions.values()];
    for (const session of sessions) session.discard();
    this.#sessions.clear();
    return sessions;
  }

  get size(): number {
    return this.#sessions.size;
  }
}
