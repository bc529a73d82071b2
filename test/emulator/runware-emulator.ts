// A strict emulator of Runware's real WebSocket service (wss://ws-api.runware.ai/v1), for testing
// clients against the BASE protocol only: no acknowledgements, binary frames, previews or imagewire fields.
//
// What it implements, and from where:
// - Frames (docs "How to connect and authenticate"; SDK transports): every client frame is a JSON
//   array of task objects; answers are {"data":[...]} or {"errors":[...]} (errors sometimes with
//   "data":[] beside, as seen from the real service). Malformed frames get invalidJSON/invalidRequest.
// - authentication (docs; OpenAPI AuthenticationTask: taskType, apiKey, connectionSessionUUID and
//   nothing else): reply exactly {"data":[{"taskType":"authentication","connectionSessionUUID":…}]},
//   bad key invalidApiKey (parameter apiKey, type string, no taskUUID: sdk-js matches auth errors by
//   taskType). Tasks pipelined behind the authentication run after its reply (runware-typescript
//   sends them before the reply); tasks before it are refused (missingApiKey).
// - ping (docs; sdk-js needs taskType "ping" AND pong true): {"data":[{"taskType":"ping","pong":true}]},
//   before and after authentication. Idle close after 120 s without a client frame (docs).
// - imageInference (Image Inference API, newer seed): the documented parameters and ranges, required
//   positivePrompt/model/width/height; results one item per frame ("one or multiple images per
//   message": option resultsPerFrame), items {taskType, taskUUID, imageUUID, imageURL | imageBase64Data
//   | imageDataURI, seed, cost?, NSFWContent?}, no completion marker (clients count numberResults).
//   deliveryMethod "async": an immediate {taskType, taskUUID} item, results only via getResponse.
// - getResponse (SDK polling loops): one frame with every result so far as status "success", plus a
//   status "processing" item while running or a status "error" item with error {code, message};
//   items carry the original task's taskType and taskUUID; unknown tasks taskFailedOrNotFound.
// - conflictTaskUUID for a reused taskUUID of a known task (sdk-python#320: 409 after a resend).
// - Sessions and resume (docs "Resuming connections"; runware-typescript and the Go CLI resume):
//   results produced while a session has no socket are buffered 120 s and written, in order, right
//   after the reply to an authentication that names the session; an unknown or expired session gets a
//   new UUID, no error; a second socket takes a session over. No acknowledgements: a frame written
//   to a socket counts as delivered, which is why the base protocol can lose results.
// - imageUpload (older docs, sdk-js imageUpload): image as data URI, base64 or URL -> imageUUID, imageURL.
// - Unknown taskType: unsupportedTaskType naming it, the socket stays open (sdk-js tests send "test").
// - Unknown fields in any task: rejected naming them (unknownParameter), rejected without naming
//   them (unsupportedParameter), or ignored (option unknownFields).
// Image URLs are served by the emulator's own HTTP listener at /images/<uuid>.<ext>.
// Faults (faults.ts) lose what the real service and the network can lose; stats.ts counts it.
// One concern per file: wire-rules (frames, fields, ranges), error-items (error shapes and codes),
// service (task handling), connection (socket state machine, write path), sessions (resume buffers),
// task-records (conflicts, getResponse), inference (image timeline), images (bytes, URL store).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { EmulatorFaults, type RunwareEmulatorFaults } from './faults.js';
import { imageBytes, ImageStore, type ImageBytes } from './images.js';
import { resolveOptions, type ResolvedOptions, type RunwareEmulatorOptions } from './options.js';
import { Service } from './service.js';
import { Stats, type RunwareEmulatorStats } from './stats.js';

export type { RunwareEmulatorOptions, UnknownFieldMode, EmptyDataWithErrors } from './options.js';
export type { RunwareEmulatorFaults, TaskFailure } from './faults.js';
export type { RunwareEmulatorStats } from './stats.js';
export type { ErrorItem } from './error-items.js';

/** A running emulator. */
export interface RunwareEmulator {
  /** `ws://127.0.0.1:<port>/v1`: give it to a client as its WebSocket URL (a query is fine). */
  readonly url: string;
  /** `http://127.0.0.1:<port>`: where image URLs point. */
  readonly httpUrl: string;
  readonly port: number;
  readonly faults: RunwareEmulatorFaults;
  /** A snapshot of the counters. */
  stats(): RunwareEmulatorStats;
  /** Restarts like the real service would (every socket cut, all state forgotten) on the same port, with `options` merged over the current ones. */
  restart(options?: RunwareEmulatorOptions): Promise<void>;
  /** Cuts every socket, stops every timer and stops listening. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const MAX_FRAME_BYTES = 64 * 1024 * 1024;

class Emulator {
  readonly faults: EmulatorFaults;
  readonly #stats = new Stats();
  readonly #images = new ImageStore();
  readonly #bytes: ImageBytes;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: false, maxPayload: MAX_FRAME_BYTES });
  #options: RunwareEmulatorOptions;
  #service: Service | undefined;
  #http: Server | undefined;
  #port = 0;
  #closed = false;

  constructor(options: RunwareEmulatorOptions, bytes: ImageBytes, port: number) {
    this.#options = options;
    this.#bytes = bytes;
    this.#port = port;
    this.faults = new EmulatorFaults({
      dropAll: () => this.#service?.dropAll(),
      restart: () => this.restart(),
      setUnknownFields: (mode) => {
        this.#options = { ...this.#options, unknownFields: mode };
        this.#service?.setUnknownFields(mode);
      },
      releaseHeld: () => this.#service?.releaseHeld(),
    });
  }

  get port(): number {
    return this.#port;
  }

  stats(): RunwareEmulatorStats {
    return this.#stats.snapshot({ socketsOpen: this.#service?.socketsOpen ?? 0, sessions: this.#service?.sessions ?? 0 });
  }

  /** Builds the service for `resolved` and listens (port 0 the first time, the same port after). */
  async start(resolved: ResolvedOptions, forgotten?: ReadonlyMap<string, string>): Promise<void> {
    const http = createServer((req, res) => this.#serveHttp(req, res));
    http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.#port, '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
    const address = http.address();
    if (address === null || typeof address === 'string') throw new Error('runware emulator: no TCP address');
    this.#port = address.port;
    this.#http = http;
    this.#service = new Service(resolved, { faults: this.faults, stats: this.#stats, images: this.#images, bytes: this.#bytes, httpUrl: `http://127.0.0.1:${this.#port}` }, forgotten);
  }

  /** Stops the service and the listener; returns the session UUIDs the service knew. */
  async #stop(): Promise<Map<string, string>> {
    const forgotten = this.#service?.shutdown() ?? new Map<string, string>();
    this.#service = undefined;
    const http = this.#http;
    this.#http = undefined;
    if (http !== undefined) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
    return forgotten;
  }

  async restart(options: RunwareEmulatorOptions = {}): Promise<void> {
    if (this.#closed) throw new Error('runware emulator: restart after close');
    const merged = { ...this.#options, ...options };
    const resolved = resolveOptions(merged);
    const forgotten = await this.#stop();
    this.#options = merged;
    this.#stats.add('restarts');
    await this.start(resolved, forgotten);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#stop();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #serveHttp(req: IncomingMessage, res: ServerResponse): void {
    const pathname = new URL(req.url ?? '/', 'http://emulator').pathname;
    const image = req.method === 'GET' || req.method === 'HEAD' ? this.#images.lookup(pathname) : undefined;
    if (image === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': image.mime, 'content-length': image.bytes.length });
    res.end(req.method === 'HEAD' ? undefined : image.bytes);
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const service = this.#service;
    // Route on the pathname only: the SDKs add ?sdk=js&version=... (and &dryRun=1).
    const pathname = new URL(req.url ?? '/', 'http://emulator').pathname;
    if (pathname !== '/v1' || service === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#stats.add('socketsTotal');
      if (this.faults.takeCloseOnConnect()) {
        ws.terminate();
        return;
      }
      service.accept(ws);
    });
  }
}

/** Starts an emulator on 127.0.0.1, on `listen.port` (default 0: a free one; a given port brings a stopped service back where its clients look). */
export async function startRunwareEmulator(options: RunwareEmulatorOptions = {}, listen: { port?: number } = {}): Promise<RunwareEmulator> {
  const resolved = resolveOptions(options);
  const emulator = new Emulator(options, await imageBytes(), listen.port ?? 0);
  await emulator.start(resolved);
  const port = emulator.port;
  return {
    url: `ws://127.0.0.1:${port}/v1`,
    httpUrl: `http://127.0.0.1:${port}`,
    port,
    faults: emulator.faults,
    stats: () => emulator.stats(),
    restart: (next) => emulator.restart(next),
    close: () => emulator.close(),
    [Symbol.asyncDispose]: () => emulator.close(),
  };
}
