// The raw `ws` baseline client: send a captured request frame with a fresh taskUUID, JSON.parse
// each reply (or read a binary result's header), find the waiting task in a Map by taskUUID,
// resolve its promise. Nothing else.
import { randomUUID } from 'node:crypto';
import WebSocket, { type RawData } from 'ws';
import type { Captured } from './capture.js';

export class RawClient {
  readonly #ws: WebSocket;
  readonly #pending = new Map<string, (item: unknown) => void>();
  readonly #request: string[];
  readonly #authRequest: string;
  #onAuth: (() => void) | undefined;

  private constructor(url: string, captured: Captured) {
    this.#request = captured.request.split(captured.uuid);
    this.#authRequest = captured.authRequest;
    this.#ws = new WebSocket(url, { perMessageDeflate: false });
    this.#ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        // A binary result: the least a client can do is read the header's taskUUID to route it.
        const bytes = data as Buffer;
        const headerLength = bytes.readUInt32BE(1);
        const header = JSON.parse(bytes.toString('utf8', 5, 5 + headerLength)) as { taskUUID: string };
        const resolve = this.#pending.get(header.taskUUID);
        this.#pending.delete(header.taskUUID);
        resolve?.({ header, image: bytes.subarray(5 + headerLength) });
        return;
      }
      const frame = JSON.parse((data as Buffer).toString()) as { data?: { taskType: string; taskUUID?: string }[] };
      for (const item of frame.data ?? []) {
        if (item.taskType === 'authentication') {
          this.#onAuth?.();
          continue;
        }
        const resolve = item.taskUUID === undefined ? undefined : this.#pending.get(item.taskUUID);
        if (resolve === undefined) continue;
        this.#pending.delete(item.taskUUID ?? '');
        resolve(item);
      }
    });
  }

  /** Opens and authenticates with the captured authentication frame. */
  static async connect(url: string, captured: Captured): Promise<RawClient> {
    const client = new RawClient(url, captured);
    await new Promise<void>((resolve, reject) => {
      client.#ws.once('open', resolve);
      client.#ws.once('error', reject);
    });
    await new Promise<void>((resolve) => {
      client.#onAuth = resolve;
      client.#ws.send(client.#authRequest);
    });
    return client;
  }

  run(): Promise<unknown> {
    const uuid = randomUUID();
    this.#ws.send(this.#request.join(uuid));
    return new Promise((resolve) => this.#pending.set(uuid, resolve));
  }

  close(): void {
    this.#ws.close();
  }
}
