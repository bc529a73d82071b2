// Property-based fuzzing of a live `imagewire serve` in a child process: hostile JSON frames (before
// and after authentication), arbitrary bytes, hostile HTTP requests and malformed request heads. After
// every case the process must be alive and never have answered 500; after every property it must
// still run a correct imageInference over WebSocket and over POST /v1. The default run is short;
// `npm run fuzz` runs longer (IMAGEWIRE_FUZZ_RUNS, IMAGEWIRE_FUZZ_SEED).
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { WebSocket, type RawData } from 'ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_ERROR_FRAME_BYTES, newTaskUUID } from '../../src/protocol/index.js';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { brokenTask, hostileBytes, hostileFrame, hostileRequest, hostileRequestHead, type HostileRequest } from './hostile.js';

const runs = Number(process.env.IMAGEWIRE_FUZZ_RUNS ?? 15);
const seed = process.env.IMAGEWIRE_FUZZ_SEED === undefined ? undefined : Number(process.env.IMAGEWIRE_FUZZ_SEED);
/** A case takes well under a second; a long run gets time in proportion. */
const propertyTimeoutMs = Math.max(120_000, runs * 1_000);
const settings = { numRuns: runs, ...(seed === undefined ? {} : { seed }), endOnFailure: true };
/** How long a case waits for the server's first answer before it moves on. */
const ANSWER_MS = 400;
const PNG = [0x89, 0x50, 0x4e, 0x47];

let server: ChildServer;

function assertAlive(): void {
  expect(server.alive(), `the server process ended (${JSON.stringify(server.exit())}):\n${server.stderr()}`).toBe(true);
}

function text(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
}

/** Opens a socket, optionally authenticates, sends `frames`, and returns what came back in time. */
async function exchange(frames: readonly (string | Uint8Array)[], authenticate: boolean): Promise<string[]> {
  const ws = new WebSocket(server.url);
  const received: string[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data, isBinary) => {
    if (!isBinary) received.push(text(data));
    wake?.();
  });
  ws.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  const next = (ms: number): Promise<void> =>
    Promise.race([
      closed,
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
    ]);
  await Promise.race([new Promise<void>((resolve) => ws.once('open', () => resolve())), closed]);
  if (ws.readyState === ws.OPEN && authenticate) {
    ws.send(JSON.stringify([{ taskType: 'authentication', apiKey: 'fuzz-key' }]));
    await next(2_000);
  }
  for (const frame of frames) {
    if (ws.readyState !== ws.OPEN) break;
    ws.send(frame);
    await next(ANSWER_MS);
  }
  ws.terminate();
  return received;
}

function checkErrorFrames(frames: readonly string[]): void {
  for (const frame of frames) {
    if (frame.startsWith('{"errors"')) expect(Buffer.byteLength(frame), 'an error frame exceeded the documented bound').toBeLessThanOrEqual(MAX_ERROR_FRAME_BYTES);
  }
}

/** Sends one HTTP request with node:http (which allows bodies and headers fetch refuses); the status, or undefined. */
function send(req: HostileRequest): Promise<number | undefined> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    if (req.contentType !== undefined) headers['content-type'] = req.contentType;
    if (req.authorization !== undefined) headers.authorization = req.authorization;
    if (req.origin !== undefined) headers.origin = req.origin;
    let outgoing;
    try {
      outgoing = httpRequest(`${server.httpUrl}${req.path}`, { method: req.method, headers, agent: false, timeout: 15_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', () => resolve(res.statusCode));
      });
    } catch {
      // A request this client refuses to build (a control character in a header) never reaches the server.
      resolve(undefined);
      return;
    }
    outgoing.on('error', () => resolve(undefined));
    outgoing.on('timeout', () => outgoing.destroy());
    if (req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD') outgoing.end(req.body);
    else outgoing.end();
  });
}

/** Writes a raw request head over TCP; the status code of the answer's first line, if any came. */
function sendRaw(head: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    let answer = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1];
      resolve(status === undefined ? undefined : Number(status));
    };
    const timer = setTimeout(done, ANSWER_MS);
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(head, 'latin1');
  });
}

/** A real task over WebSocket: the server must still make a PNG. */
async function correctInferenceOverWebSocket(): Promise<void> {
  const taskUUID = newTaskUUID();
  const ws = new WebSocket(server.url);
  try {
    const image = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no final image within 10 s; stderr:\n${server.stderr()}`)), 10_000);
      ws.on('error', reject);
      ws.on('open', () => {
        ws.send(JSON.stringify([{ taskType: 'authentication', apiKey: 'fuzz-check' }]));
        ws.send(
          JSON.stringify([
            { taskType: 'imageInference', taskUUID, positivePrompt: 'a lighthouse at dusk', model: 'imagewire:1@1', width: 128, height: 128, steps: 2, outputType: 'base64Data', outputFormat: 'PNG' },
          ]),
        );
      });
      ws.on('message', (data) => {
        const frame = JSON.parse(text(data)) as { data?: { taskUUID?: string; imageBase64Data?: string }[]; errors?: unknown[] };
        if (frame.errors !== undefined) reject(new Error(`the correct task failed: ${text(data)}`));
        const item = frame.data?.find((entry) => entry.taskUUID === taskUUID && typeof entry.imageBase64Data === 'string');
        if (item?.imageBase64Data !== undefined) {
          clearTimeout(timer);
          resolve(Buffer.from(item.imageBase64Data, 'base64'));
        }
      });
    });
    expect([...image.subarray(0, 4)]).toEqual(PNG);
  } finally {
    ws.terminate();
  }
}

/** The same over POST /v1. */
async function correctInferenceOverHttp(): Promise<void> {
  const taskUUID = newTaskUUID();
  const response = await fetch(`${server.httpUrl}/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer fuzz-check' },
    body: JSON.stringify([{ taskType: 'imageInference', taskUUID, positivePrompt: 'a lighthouse at dusk', model: 'imagewire:1@1', width: 128, height: 128, steps: 2, outputType: 'base64Data', outputFormat: 'PNG' }]),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { data: { imageBase64Data: string }[] };
  expect([...Buffer.from(body.data[0]?.imageBase64Data ?? '', 'base64').subarray(0, 4)]).toEqual(PNG);
}

describe('a live server under hostile input', () => {
  beforeAll(async () => {
    server = await startChildServer();
  }, 30_000);

  afterAll(async () => {
    await server.close();
  });

  // A property that ended the process has failed already; the next one gets a fresh process.
  beforeEach(async () => {
    if (!server.alive()) server = await startChildServer();
  }, 30_000);

  afterEach(async () => {
    assertAlive();
    await correctInferenceOverWebSocket();
    await correctInferenceOverHttp();
    assertAlive();
  }, 30_000);

  it('survives hostile frames before authentication', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileFrame, { minLength: 1, maxLength: 3 }), async (frames) => {
        checkErrorFrames(await exchange(frames, false));
        assertAlive();
      }),
      settings,
    );
  }, propertyTimeoutMs);

  it('survives hostile frames after authentication', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileFrame, { minLength: 1, maxLength: 3 }), async (frames) => {
        checkErrorFrames(await exchange(frames, true));
        assertAlive();
      }),
      settings,
    );
  }, propertyTimeoutMs);

  it('survives broken tasks of every type, pipelined behind an authentication', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(brokenTask, { minLength: 1, maxLength: 4 }), async (tasks) => {
        const frame = `[{"taskType":"authentication","apiKey":"fuzz-key"},${tasks.join(',')}]`;
        checkErrorFrames(await exchange([frame], false));
        assertAlive();
      }),
      settings,
    );
  }, propertyTimeoutMs);

  it('survives arbitrary bytes as text and binary frames', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBytes, fc.boolean(), async (bytes, authenticate) => {
        checkErrorFrames(await exchange([bytes, Buffer.from(bytes).toString('latin1')], authenticate));
        assertAlive();
      }),
      settings,
    );
  }, propertyTimeoutMs);

  it('answers hostile HTTP requests without a 500', async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (req) => {
        const status = await send(req);
        assertAlive();
        expect(status, `${req.method} ${req.path} (${req.contentType ?? 'no content type'})`).not.toBe(500);
      }),
      settings,
    );
  }, propertyTimeoutMs);

  it('answers malformed request heads (plain and upgrade) without a 500', async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequestHead, async (head) => {
        const status = await sendRaw(head);
        assertAlive();
        expect(status, JSON.stringify(head.slice(0, 200))).not.toBe(500);
      }),
      settings,
    );
  }, propertyTimeoutMs);
});
