// A scripted WebSocket for unit tests on fake time (backoff schedule, keepalive wiring): it opens,
// fails or answers authentication as told, and records what the client wrote. Reconnect and
// resume behaviour is proven against the real server; this only drives the timing policies.
import type { SocketLike } from '../../src/client/index.js';

type Listener = (event: never) => void;

export interface FakeServerScript {
  /** What happens to each new socket: open and answer auth, open and stay silent, or fail. */
  onConnect(socket: FakeSocket): 'accept' | 'silent' | 'refuse';
  /** Answer to a ping frame; undefined withholds the pong. */
  pong?: (socket: FakeSocket) => boolean;
  /** The frame answering an authentication task (default: a plain Runware reply). */
  authReply?: (task: Record<string, unknown>) => unknown;
  /** Called for every other task the client writes. */
  onTask?: (task: Record<string, unknown>, socket: FakeSocket) => void;
  /** 'hang': the socket never opens (for connect timeouts). */
  open?: 'hang';
}

/** A socket driven by a {@link FakeServerScript}, on whatever timers the test installed. */
export class FakeSocket implements SocketLike {
  static script: FakeServerScript = { onConnect: () => 'accept' };
  static readonly created: FakeSocket[] = [];
  readyState = 0;
  binaryType = 'blob';
  readonly url: string;
  readonly sent: string[] = [];
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #silent: boolean;

  constructor(url: string) {
    this.url = url;
    FakeSocket.created.push(this);
    const behaviour = FakeSocket.script.onConnect(this);
    this.#silent = behaviour === 'silent';
    if (FakeSocket.script.open === 'hang') return;
    queueMicrotask(() => {
      if (behaviour === 'refuse') {
        this.readyState = 3;
        this.#fire('error', { message: 'refused' });
        this.#fire('close', { code: 1006, reason: '' });
        return;
      }
      this.readyState = 1;
      this.#fire('open', {});
    });
  }

  static reset(script: FakeServerScript): void {
    FakeSocket.script = script;
    FakeSocket.created.length = 0;
  }

  send(data: string): void {
    this.sent.push(data);
    if (this.#silent) return;
    const [task] = JSON.parse(data) as [{ taskType: string }];
    if (task.taskType === 'authentication') {
      const reply = FakeSocket.script.authReply?.(task) ?? { data: [{ taskType: 'authentication', connectionSessionUUID: '11111111-1111-4111-8111-111111111111' }] };
      queueMicrotask(() => this.receive(reply));
    } else if (task.taskType === 'ping') {
      if (FakeSocket.script.pong?.(this) ?? true) queueMicrotask(() => this.receive({ data: [{ taskType: 'ping', pong: true }] }));
    } else {
      FakeSocket.script.onTask?.(task as Record<string, unknown>, this);
    }
  }

  receive(frame: unknown): void {
    if (this.readyState === 1) this.#fire('message', { data: JSON.stringify(frame) });
  }

  /** The server side drops the connection. */
  drop(code = 1006): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.#fire('close', { code, reason: '' });
  }

  close(): void {
    this.drop(1000);
  }

  terminate(): void {
    this.drop(1006);
  }

  addEventListener(type: string, listener: Listener): void {
    const set = this.#listeners.get(type) ?? new Set<Listener>();
    set.add(listener);
    this.#listeners.set(type, set);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.get(type)?.delete(listener);
  }

  listenerCount(): number {
    let total = 0;
    for (const set of this.#listeners.values()) total += set.size;
    return total;
  }

  #fire(type: string, event: object): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) (listener as (event: object) => void)(event);
  }
}
