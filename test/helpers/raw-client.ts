// A raw-protocol WebSocket test client: sends frames as given, records every frame received, and
// waits for frames with an expiry, so a test can also assert that something did NOT arrive.
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { decodeBinaryResult, type BinaryResultHeader, type ProtocolErrorItem, type ServerDataItem } from '../../src/protocol/index.js';

/** One received frame. */
export type Received =
  | { readonly kind: 'json'; readonly text: string; readonly seq: number | undefined; readonly data: ServerDataItem[]; readonly errors: ProtocolErrorItem[]; readonly value: Record<string, unknown> }
  | { readonly kind: 'binary'; readonly seq: number | undefined; readonly header: BinaryResultHeader; readonly image: Uint8Array };

/** The default wait before a frame that should come is declared missing. */
export const WAIT_MS = 5_000;
/** The window in which a frame that should NOT come is watched for. */
export const QUIET_MS = 150;

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export class RawClient {
  readonly ws: WebSocket;
  /** Every frame received, in order. */
  readonly frames: Received[] = [];
  readonly closed: Promise<Closed>;
  #waiters = new Set<() => void>();
  #closedValue: Closed | undefined;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      const bytes = toBuffer(data);
      if (isBinary) {
        const decoded = decodeBinaryResult(bytes);
        if (!decoded.ok) throw new Error(`bad binary frame: ${decoded.reason}`);
        const seq = typeof decoded.header.seq === 'number' ? decoded.header.seq : undefined;
        this.frames.push({ kind: 'binary', seq, header: decoded.header, image: decoded.image });
      } else {
        const text = bytes.toString('utf8');
        const value = JSON.parse(text) as Record<string, unknown>;
        const seq = typeof value.seq === 'number' ? value.seq : undefined;
        const data = Array.isArray(value.data) ? (value.data as ServerDataItem[]) : [];
        const errors = Array.isArray(value.errors) ? (value.errors as ProtocolErrorItem[]) : [];
        this.frames.push({ kind: 'json', text, seq, data, errors, value });
      }
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.#closedValue = { code, reason: reason.toString('utf8') };
        resolve(this.#closedValue);
        this.#wake();
      });
    });
    ws.on('error', () => undefined);
  }

  /** Opens a socket to `url` (the server's ws URL; a query may be appended); `options` go to `ws` (e.g. localAddress, headers). */
  static async connect(url: string, options: ClientOptions = {}): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return client;
  }

  /** Opens a socket and authenticates; resolves with the client and the authentication item. */
  static async authenticated(url: string, apiKey = 'test-key', extra: Record<string, unknown> = {}): Promise<{ client: RawClient; auth: ServerDataItem }> {
    const client = await RawClient.connect(url);
    const auth = await client.authenticate(apiKey, extra);
    return { client, auth };
  }

  get isClosed(): boolean {
    return this.#closedValue !== undefined;
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Sends tasks as one frame (an array of objects), or a raw string / bytes as they are. */
  send(frame: readonly unknown[] | string | Uint8Array): void {
    this.ws.send(typeof frame === 'string' || frame instanceof Uint8Array ? frame : JSON.stringify(frame));
  }

  async authenticate(apiKey: string, extra: Record<string, unknown> = {}): Promise<ServerDataItem> {
    const from = this.frames.length;
    this.send([{ taskType: 'authentication', apiKey, ...extra }]);
    const frame = await this.waitFor((f) => f.kind === 'json' && (f.data[0]?.taskType === 'authentication' || f.errors[0]?.taskType === 'authentication'), { from });
    if (frame.kind !== 'json' || frame.data[0] === undefined) throw new Error(`authentication failed: ${frame.kind === 'json' ? frame.text : 'binary'}`);
    return frame.data[0];
  }

  /** Sends an enableExtensions task (`ack` when given) and resolves with the frame that answers it: its data item or its errors. */
  async enableExtensions(extensions: unknown, ack?: number): Promise<Received> {
    const from = this.frames.length;
    this.send([{ taskType: 'enableExtensions', extensions, ...(ack === undefined ? {} : { ack }) }]);
    return this.waitFor(isEnableAnswer, { from });
  }

  /**
   * The first frame from index `from` (default 0) that matches, waiting up to `timeoutMs`.
   * Rejects when none arrives in time or the socket closes first.
   */
  waitFor(match: (frame: Received) => boolean, options: { from?: number; timeoutMs?: number } = {}): Promise<Received> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? WAIT_MS;
    return new Promise((resolve, reject) => {
      let checked = from;
      const check = (): boolean => {
        for (; checked < this.frames.length; checked++) {
          const frame = this.frames[checked];
          if (frame !== undefined && match(frame)) {
            done();
            resolve(frame);
            return true;
          }
        }
        if (this.#closedValue !== undefined) {
          done();
          reject(new Error(`socket closed (${this.#closedValue.code} ${this.#closedValue.reason}) before the frame arrived`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching frame within ${timeoutMs} ms; received: ${this.describe(from)}`));
      }, timeoutMs);
      const waiter = (): void => void check();
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
      check();
    });
  }

  /** Waits until `count` frames from `from` match; resolves with them. */
  async waitForCount(match: (frame: Received) => boolean, count: number, options: { from?: number; timeoutMs?: number } = {}): Promise<Received[]> {
    const found: Received[] = [];
    let from = options.from ?? 0;
    while (found.length < count) {
      const frame = await this.waitFor(match, { ...options, from });
      found.push(frame);
      from = this.frames.indexOf(frame) + 1;
    }
    return found;
  }

  /** Resolves when no frame matching arrives (from `from`) within `windowMs`; rejects if one does. */
  async expectNone(match: (frame: Received) => boolean, options: { from?: number; windowMs?: number } = {}): Promise<void> {
    const frame = await this.waitFor(match, { from: options.from ?? 0, timeoutMs: options.windowMs ?? QUIET_MS }).catch(() => undefined);
    if (frame !== undefined) throw new Error(`unexpected frame: ${frame.kind === 'json' ? frame.text.slice(0, 300) : JSON.stringify(frame.header)}`);
  }

  /** Resolves with the close code and reason, or rejects after `timeoutMs`. */
  async waitForClose(timeoutMs = WAIT_MS): Promise<Closed> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Frames about one task (items or errors with its taskUUID, and binary results). */
  framesOf(taskUUID: string, from = 0): Received[] {
    return this.frames.slice(from).filter((frame) => isAbout(frame, taskUUID));
  }

  describe(from = 0): string {
    return this.frames
      .slice(from)
      .map((frame) => (frame.kind === 'json' ? frame.text.slice(0, 200) : `binary ${JSON.stringify(frame.header)}`))
      .join('\n  ');
  }

  /** Closes the socket politely and waits for the close. */
  async close(): Promise<void> {
    if (this.#closedValue !== undefined) return;
    this.ws.close(1000, 'done');
    await this.waitForClose().catch(() => this.ws.terminate());
  }

  /** Cuts the socket without a close frame. */
  terminate(): void {
    this.ws.terminate();
  }
}

/** True for the answer to an enableExtensions task: its data item, or its errors. */
export function isEnableAnswer(frame: Received): boolean {
  return frame.kind === 'json' && (frame.data[0]?.taskType === 'enableExtensions' || frame.errors[0]?.taskType === 'enableExtensions');
}

/** True when a frame is about `taskUUID`. */
export function isAbout(frame: Received, taskUUID: string): boolean {
  if (frame.kind === 'binary') return frame.header.taskUUID === taskUUID;
  return frame.data.some((item) => item.taskUUID === taskUUID) || frame.errors.some((error) => error.taskUUID === taskUUID);
}

/** True for a final result frame of `taskUUID` (JSON or binary), not a preview or acknowledgement. */
export function isFinal(frame: Received, taskUUID: string): boolean {
  if (frame.kind === 'binary') return frame.header.taskUUID === taskUUID;
  const item = frame.data[0];
  return item !== undefined && item.taskUUID === taskUUID && typeof item.imageUUID === 'string' && item.preview !== true && item.status === undefined;
}

/** True for an errors frame of `taskUUID`. */
export function isErrorOf(frame: Received, taskUUID: string): boolean {
  return frame.kind === 'json' && frame.errors.some((error) => error.taskUUID === taskUUID);
}

/** The first data item of a JSON frame (throws for binary frames). */
export function itemOf(frame: Received): ServerDataItem {
  if (frame.kind !== 'json' || frame.data[0] === undefined) throw new Error('not a JSON data frame');
  return frame.data[0];
}

/** The result header or item of a final frame. */
export function finalItem(frame: Received): ServerDataItem {
  return frame.kind === 'binary' ? frame.header : itemOf(frame);
}
