// The client against a server that closes it for reading too slowly (4001 "send buffer full"): it
// reconnects, resumes the session and gets every final exactly once, with and without ack.
import { createConnection, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import type { ImageInferenceEvent, ImageResult, TaskStream } from '../../src/index.js';
import type { WebSocketConstructor } from '../../src/client/socket/socket.js';
import { eventually } from '../helpers/eventually.js';
import { fixedImageEngine, randomImage } from '../helpers/fixed-engine.js';
import { createGateEngine } from '../helpers/gate-engine.js';
import { captureLogger } from '../helpers/test-server.js';
import { clientOf, closeAfterTest, smallRequest } from '../helpers/test-client.js';
import { startTestServer } from '../helpers/test-server.js';

/** A `ws` WebSocket whose TCP sockets the test can pause, as a peer that stops reading would. */
function pausableWebSocket(sockets: Socket[]): WebSocketConstructor {
  // Cast as the Node entry casts `ws`: its event typings are wider than the client's SocketLike.
  return class PausableWebSocket extends WebSocket {
    constructor(url: string) {
      const options: ClientOptions = {
        createConnection: (connectOptions) => {
          const socket = createConnection(connectOptions as Parameters<typeof createConnection>[0]);
          sockets.push(socket);
          return socket;
        },
      };
      super(url, options);
    }
  } as unknown as WebSocketConstructor;
}

async function finalsOf(task: TaskStream<ImageInferenceEvent, ImageResult[]>): Promise<number[]> {
  const finals: number[] = [];
  for await (const event of task) if (event.type === 'final') finals.push(event.index);
  return finals;
}

const modes = [
  { name: 'with ack', extensions: { ack: true, binaryResults: true } },
  { name: 'without ack', extensions: { ack: false, binaryResults: false } },
] as const;

describe.each(modes)('a client closed for reading too slowly ($name)', ({ extensions }) => {
  it('reconnects, resumes and gets every final once', async () => {
    const engine = createGateEngine(fixedImageEngine(randomImage(1024 * 1024)));
    const logs = captureLogger();
    const server = closeAfterTest(await startTestServer({ engine, logger: logs, limits: { maxSocketBufferedBytes: 512 * 1024, sendStallTimeoutMs: 300 } }));
    const sockets: Socket[] = [];
    const client = clientOf(server, { extensions, WebSocket: pausableWebSocket(sockets) });
    const closes: (number | undefined)[] = [];
    client.on('disconnected', ({ error }) => closes.push('closeCode' in error ? (error.closeCode as number | undefined) : undefined));
    await client.connect();
    const tasks = Array.from({ length: 12 }, () => client.imageInference(smallRequest({ numberResults: 2 })));
    const finals = tasks.map((task) => finalsOf(task));
    await engine.waiting(12);
    // Stop reading, then let 24 MiB of finals out: far more than the kernel's buffers and the bound.
    const first = sockets[0]!;
    first.pause();
    engine.openAll();
    // The server closes the peer that reads nothing (at a sweep, or when a reply to a ping does not
    // fit); then the peer reads again: the backlog, then the close frame.
    await eventually(() => logs.lines.some((line) => line.message === 'send buffer full'), (full) => full, 10_000);
    first.resume();
    for (const indices of await Promise.all(finals)) expect([...indices].sort()).toEqual([0, 1]);
    expect(closes[0]).toBe(4001);
    expect(client.stats().resends).toBe(0);
  }, 30_000);
});

