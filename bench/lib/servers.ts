// The two servers every transport benchmark compares: the imagewire server with a fixed-image
// engine, and a raw `ws` server that answers with frames captured from the imagewire server.
import { WebSocketServer, type RawData } from 'ws';
import { createServer, type ImagewireServer } from '../../src/server/index.js';
import { serveParent } from './child.js';
import { fixedImageEngine } from './engines.js';

/** Limits raised so 64 pipelined tasks (and thousands of idle sessions of one key, opened 200 at a time) are never refused. */
export const benchLimits = {
  maxConnectionsPerKey: 100_000,
  maxUnauthenticatedSockets: 100_000,
  maxUnauthenticatedSocketsPerAddress: 100_000,
  maxInFlightPerConnection: 100_000,
  maxInFlightPerKey: 100_000,
  maxConcurrentTasks: 100_000,
  maxQueuedTasks: 1_000_000,
  maxHeldSessions: 50_000,
  maxTaskRecords: 1_000_000,
  maxHeldBytesPerSession: 1024 * 1024 * 1024,
  maxHeldBytesTotal: 4 * 1024 * 1024 * 1024,
  maxStoredImageBytes: 64 * 1024 * 1024,
};

export async function startImagewireServer(image?: Uint8Array): Promise<ImagewireServer> {
  return createServer({ port: 0, engine: fixedImageEngine(image), logger: false, limits: benchLimits, idleTimeoutMs: 3_600_000 });
}

/** Frames captured from the imagewire server; `uuid` marks where the task's UUID goes. */
export interface Templates {
  readonly authReply: string;
  readonly response: string;
  /** When set, tasks are answered with this binary frame (base64) instead of `response`. */
  readonly binaryResponse?: string;
  readonly uuid: string;
}

/**
 * A `ws` server doing the least a JSON protocol server can: parse each frame, answer an
 * authentication with the captured reply and every other task with the captured response.
 */
export async function startRawServer(templates: Templates | undefined): Promise<{ url: string; close(): Promise<void>; setTemplates(t: Templates): void }> {
  let parts: string[] = [];
  let authReply = '';
  let binary: { frame: Buffer; uuidAt: number } | undefined;
  const setTemplates = (t: Templates): void => {
    parts = t.response.split(t.uuid);
    authReply = t.authReply;
    const frame = t.binaryResponse === undefined ? undefined : Buffer.from(t.binaryResponse, 'base64');
    binary = frame === undefined ? undefined : { frame, uuidAt: frame.indexOf(t.uuid) };
  };
  const answer = (taskUUID: string): string | Buffer => {
    if (binary === undefined) return parts.join(taskUUID);
    // A fresh copy per answer: the socket may still be writing the previous one.
    const frame = Buffer.from(binary.frame);
    frame.write(taskUUID, binary.uuidAt, 'latin1');
    return frame;
  };
  if (templates !== undefined) setTemplates(templates);
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket) => {
    socket.on('message', (data: RawData) => {
      const tasks = JSON.parse((data as Buffer).toString()) as { taskType: string; taskUUID?: string }[];
      for (const task of tasks) {
        if (task.taskType === 'authentication') socket.send(authReply);
        else if (task.taskType === 'ping') socket.send('{"data":[{"taskType":"ping","pong":true}]}');
        else socket.send(answer(task.taskUUID ?? ''));
      }
    });
  });
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}/v1`,
    setTemplates,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** The message a server child answers with its `process.cpuUsage()`. */
export const CPU_REQUEST = 'cpu';

/**
 * The body of a server child process: `imagewire-server` serves the protocol (with `image` as every
 * final), any other role a raw `ws` server whose answer templates the parent sends. Reports its URL.
 */
export async function runServerChild(role: string, image?: Uint8Array): Promise<void> {
  if (role === 'imagewire-server') {
    const server = await startImagewireServer(image);
    process.send?.({ url: server.url });
    serveParent((message) => (message === CPU_REQUEST ? process.cpuUsage() : null));
    return;
  }
  const raw = await startRawServer(undefined);
  process.send?.({ url: raw.url });
  serveParent((message) => {
    if (message === CPU_REQUEST) return process.cpuUsage();
    raw.setTemplates(message as Templates);
    return null;
  });
}
