// The session side of authentication: which session to resume and with which `ack`, which
// extensions to ask for, and what the reply means (resumed or not, what the server can do).
// Kept across socket attempts; one per client.
import { encodeClientFrame, validateTaskOf, type AuthenticationResult, type AuthenticationTask, type PingTask, type SessionExtension } from '../protocol/index.js';
import { AckTracker } from './ack-tracker.js';
import { AuthenticationError } from './errors.js';
import type { ApiKeyProvider } from './options.js';
import { SessionStore, type SessionStorageLike } from './session.js';

/** What the server said about the connection that just opened. */
export interface OpenInfo {
  readonly attempt: number;
  readonly sessionUUID: string;
  readonly resumed: boolean;
  /** Every extension the server supports (empty for a plain Runware server). */
  readonly serverExtensions: ReadonlySet<string>;
  /** The session extensions now on. */
  readonly enabledExtensions: ReadonlySet<string>;
  /** True when the reply carried imagewire's `extensions` field (getResponse re-attaches). */
  readonly imagewire: boolean;
  /**
   * True when the previous socket was closed because another connection took the session over:
   * that connection now receives the session's task output, so tasks must be polled.
   */
  readonly afterTakeover: boolean;
}

export interface HandshakeConfig {
  readonly apiKey: ApiKeyProvider;
  readonly extensions: { readonly ack: boolean; readonly binaryResults: boolean };
  readonly sessionStorage: SessionStorageLike | undefined;
  readonly sessionStorageKey: string;
}

/** Session bookkeeping across reconnects. */
export class Handshake {
  readonly #config: HandshakeConfig;
  readonly #session: SessionStore;
  readonly #ack = new AckTracker();
  /** The session UUID sent in the latest authentication, to tell a resume. */
  #sentSession: string | undefined;
  #askExtensions = true;
  #takenOver = false;
  #info: OpenInfo | undefined;

  constructor(config: HandshakeConfig) {
    this.#config = config;
    this.#session = new SessionStore(config.sessionStorage, config.sessionStorageKey);
  }

  /** The session UUID to resume (kept across reconnects). */
  get sessionUUID(): string | undefined {
    return this.#session.uuid;
  }

  /** What the server said at the last authentication. */
  get info(): OpenInfo | undefined {
    return this.#info;
  }

  /** Sequence bookkeeping of the `ack` extension. */
  get ack(): AckTracker {
    return this.#ack;
  }

  /** True when the current session has the `ack` extension on. */
  get acking(): boolean {
    return this.#info?.enabledExtensions.has('ack') === true;
  }

  /**
   * The authentication task; calls the key provider. Throws AuthenticationError for a static
   * key that can never be valid, and a plain Error when a provider gave something unusable.
   */
  async authenticationTask(): Promise<AuthenticationTask> {
    const provider = this.#config.apiKey;
    const apiKey = typeof provider === 'function' ? await provider() : provider;
    const task: AuthenticationTask = { taskType: 'authentication', apiKey };
    const valid = validateTaskOf<AuthenticationTask>('authentication', task);
    if (!valid.ok) {
      const item = valid.errors[0] ?? { code: 'invalidApiKey', message: 'the API key is not valid' };
      // A static key that cannot be valid never will be; a provider may do better next time.
      if (typeof provider === 'string') throw new AuthenticationError(item);
      throw new Error(`it returned an unusable key (${item.message})`);
    }
    const session = this.#session.uuid;
    this.#sentSession = session;
    if (session !== undefined) task.connectionSessionUUID = session;
    const extensions: SessionExtension[] = [];
    if (this.#askExtensions && this.#config.extensions.ack) extensions.push('ack');
    if (this.#askExtensions && this.#config.extensions.binaryResults) extensions.push('binaryResults');
    if (extensions.length > 0) task.extensions = extensions;
    if (session !== undefined && extensions.includes('ack')) task.ack = this.#ack.received;
    return task;
  }

  /** Reads an authentication reply. A plain server says nothing of `resumed`: same UUID means resumed. */
  accept(attempt: number, reply: AuthenticationResult): OpenInfo {
    const sent = this.#sentSession;
    const resumed = reply.resumed ?? (sent !== undefined && reply.connectionSessionUUID === sent);
    // A fresh session numbers its frames from 1 again (ably-js PR #540).
    if (!resumed) this.#ack.reset();
    this.#session.set(reply.connectionSessionUUID);
    this.#info = {
      attempt,
      sessionUUID: reply.connectionSessionUUID,
      resumed,
      serverExtensions: new Set(Array.isArray(reply.extensions) ? reply.extensions : []),
      enabledExtensions: new Set(Array.isArray(reply.enabledExtensions) ? reply.enabledExtensions : []),
      imagewire: Array.isArray(reply.extensions),
      afterTakeover: this.#takenOver,
    };
    this.#takenOver = false;
    return this.#info;
  }

  /** A ping frame; under `ack` it acknowledges everything received so far. */
  pingFrame(): string {
    const ping: PingTask = { taskType: 'ping', ping: true };
    if (this.acking && this.#ack.unacknowledged > 0) ping.ack = this.#ack.acknowledge();
    return encodeClientFrame([ping]);
  }

  /** The server refused the extensions field: authenticate without it from now on. */
  extensionsRejected(): void {
    this.#askExtensions = false;
  }

  /** Another connection took the session over: do not fight for it; start a fresh one. */
  takenOver(): void {
    this.#session.clear();
    this.#ack.reset();
    this.#takenOver = true;
  }
}
