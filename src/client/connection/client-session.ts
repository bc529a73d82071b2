// The session side of authentication: which session to resume, what the reply means (resumed or
// not, what the server offers), and which offered extensions to turn on. The authentication task
// carries only the protocol's documented fields; extensions are turned on afterwards, and only
// on a server whose reply offered them. Kept across socket attempts; one per client.
import { encodeClientFrame, type AuthenticationResult, type AuthenticationTask, type EnableExtensionsTask, type PingTask, type ProtocolErrorItem, type SessionExtension } from '../../protocol/index.js';
import { MAX_API_KEY_LENGTH } from '../../protocol/tasks.js';
import { AckTracker } from './ack-tracker.js';
import { AuthenticationError } from '../errors.js';
import type { ApiKeyProvider } from '../api-key.js';
import { SessionUuidStorage, type SessionStorageLike } from './session-storage.js';

/** The imagewire task that turns session extensions on after authentication. */
export const ENABLE_EXTENSIONS: EnableExtensionsTask['taskType'] = 'enableExtensions';

/**
 * The session as the latest authentication left it: what the server offered and what is on. Kept
 * while reconnecting and replaced at the next authentication; which socket attempt is open is a
 * separate fact (the connection's `openAttempt`).
 */
export interface SessionInfo {
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

export interface ClientSessionConfig {
  readonly apiKey: ApiKeyProvider;
  readonly extensions: { readonly ack: boolean; readonly binaryResults: boolean };
  readonly sessionStorage: SessionStorageLike | undefined;
  readonly sessionStorageKey: string;
}

/**
 * Why a key can never authenticate, in the item the server would answer with; undefined for a
 * usable one. The server's own rule, checked here without the rest of the protocol's validation.
 */
function keyProblem(apiKey: unknown): ProtocolErrorItem | undefined {
  const item = { parameter: 'apiKey', type: 'string', taskType: 'authentication' };
  if (apiKey === undefined || apiKey === null) return { code: 'missingApiKey', message: 'apiKey is required', ...item };
  if (typeof apiKey === 'string' && apiKey.length > 0 && apiKey.length <= MAX_API_KEY_LENGTH) return undefined;
  return { code: 'invalidApiKey', message: `apiKey must be a non-empty string of at most ${MAX_API_KEY_LENGTH} characters`, ...item };
}

/** Session bookkeeping across reconnects. */
export class ClientSession {
  readonly #config: ClientSessionConfig;
  readonly #session: SessionUuidStorage;
  readonly #ack = new AckTracker();
  /** The session UUID sent in the latest authentication, to tell a resume. */
  #sentSession: string | undefined;
  #takenOver = false;
  #info: SessionInfo | undefined;

  constructor(config: ClientSessionConfig) {
    this.#config = config;
    this.#session = new SessionUuidStorage(config.sessionStorage, config.sessionStorageKey);
  }

  /** The session UUID to resume (kept across reconnects). */
  get sessionUUID(): string | undefined {
    return this.#session.uuid;
  }

  /** The session as the latest authentication left it (undefined before the first). */
  get info(): SessionInfo | undefined {
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
    const item = keyProblem(apiKey);
    if (item !== undefined) {
      // A static key that cannot be valid never will be; a provider may do better next time.
      if (typeof provider === 'string') throw new AuthenticationError(item);
      throw new Error(`it returned an unusable key (${item.message})`);
    }
    const task: AuthenticationTask = { taskType: 'authentication', apiKey };
    const session = this.#session.uuid;
    this.#sentSession = session;
    if (session !== undefined) task.connectionSessionUUID = session;
    return task;
  }

  /** Reads an authentication reply. A plain server says nothing of `resumed`: same UUID means resumed. */
  accept(reply: AuthenticationResult): SessionInfo {
    const sent = this.#sentSession;
    const resumed = reply.resumed ?? (sent !== undefined && reply.connectionSessionUUID === sent);
    // A fresh session numbers its frames from 1 again (ably-js PR #540).
    if (!resumed) this.#ack.reset();
    this.#session.set(reply.connectionSessionUUID);
    this.#info = {
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

  /**
   * The frame that turns on the offered session extensions this client wants, to write right after
   * the authentication reply and before any task; undefined when there is nothing to change (a
   * plain server offers nothing, so it never sees one). Under `ack`, a resumed session also says
   * what arrived already, so the server can forget it. Frames are handled in order, so what the
   * frame asks for holds for every task written after it: it counts as on from now.
   */
  enableFrame(): string | undefined {
    const info = this.#info;
    if (info === undefined) return undefined;
    const wanted: SessionExtension[] = [];
    if (this.#config.extensions.ack && info.serverExtensions.has('ack')) wanted.push('ack');
    if (this.#config.extensions.binaryResults && info.serverExtensions.has('binaryResults')) wanted.push('binaryResults');
    const same = wanted.length === info.enabledExtensions.size && wanted.every((name) => info.enabledExtensions.has(name));
    if (same && !(info.resumed && wanted.includes('ack'))) return undefined;
    const task: EnableExtensionsTask = { taskType: ENABLE_EXTENSIONS, extensions: wanted };
    if (info.resumed && wanted.includes('ack')) task.ack = this.#ack.received;
    this.#info = { ...info, enabledExtensions: new Set(wanted) };
    return encodeClientFrame([task]);
  }

  /** The server's answer to the enable frame (or to its refusal: none on). */
  enabled(extensions: readonly string[]): void {
    if (this.#info !== undefined) this.#info = { ...this.#info, enabledExtensions: new Set(extensions) };
  }

  /** A ping frame; under `ack` it acknowledges everything received so far. */
  pingFrame(): string {
    const ping: PingTask = { taskType: 'ping', ping: true };
    if (this.acking && this.#ack.unacknowledged > 0) ping.ack = this.#ack.acknowledge();
    return encodeClientFrame([ping]);
  }

  /** Another connection took the session over: do not fight for it; start a fresh one. */
  takenOver(): void {
    this.#session.clear();
    this.#ack.reset();
    this.#takenOver = true;
  }
}
