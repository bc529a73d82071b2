// The official @runware/sdk-js against a real imagewire server: it authenticates (the reply's
// imagewire fields included), gets images as base64, gets a refused task as its own error shape,
// and keeps its heartbeat alive. The SDK never asks for an extension and must get none.
import { RunwareServer, type ITextToImage } from '@runware/sdk-js';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer | undefined;
let sdk: RunwareServer | undefined;
afterEach(async () => {
  // Without disconnect() the SDK's heartbeat timer keeps the worker alive.
  await sdk?.disconnect();
  sdk = undefined;
  await server?.close();
  server = undefined;
});

/** The sdk-js heartbeat floor; its first ping goes out this long after the authentication. */
const HEARTBEAT_MS = 10_000;

/** An SDK pointed at `url` (never exactly ws://localhost:8080: that is its test environment, which skips the wait for authentication). */
async function connectSdk(url: string): Promise<RunwareServer> {
  // One attempt per task and no reconnect loop, so a failure shows instead of being retried.
  const client = new RunwareServer({ apiKey: 'sdk-key', url, shouldReconnect: false, globalMaxRetries: 0, timeoutDuration: 10_000, heartbeatInterval: HEARTBEAT_MS });
  sdk = client;
  await client.ensureConnection();
  return client;
}

const request = { positivePrompt: 'a red fox in a blue forest', model: 'imagewire:1@1', width: 128, height: 128, steps: 2 };

describe('@runware/sdk-js against imagewire', () => {
  it('authenticates and runs a 2-image imageInference with base64 output', async () => {
    server = await startTestServer();
    const client = await connectSdk(server.url);
    // The SDK took the session UUID from a reply that also carries imagewire's resumed, extensions and enabledExtensions.
    expect(client._connectionSessionUUID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(server.stats().sessions).toBe(1);
    const images = (await client.imageInference({ ...request, numberResults: 2, outputType: 'base64Data', outputFormat: 'PNG' })) as ITextToImage[] | undefined;
    expect(images).toHaveLength(2);
    const [first, second] = images ?? [];
    expect(first?.taskUUID).toBe(second?.taskUUID);
    expect(new Set(images?.map((image) => image.imageUUID)).size).toBe(2);
    for (const image of images ?? []) {
      expect(image.taskType).toBe('imageInference');
      // Nothing of the extensions reaches a client that never asked: no binary frames, no sequence numbers, no previews.
      expect(image).not.toHaveProperty('seq');
      expect(image).not.toHaveProperty('preview');
      const meta = await sharp(Buffer.from(image.imageBase64Data as string, 'base64')).metadata();
      expect(meta).toMatchObject({ format: 'png', width: 128, height: 128 });
    }
    expect(server.stats().heldFrames).toBe(0);
  });

  it('rejects a task the server refuses with the SDK error shape: {error: {code, message, parameter, type, taskType, taskUUID}}', async () => {
    server = await startTestServer();
    const client = await connectSdk(server.url);
    const failure: unknown = await client.imageInference({ ...request, width: 100, numberResults: 1 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({
      error: { code: 'invalidWidth', parameter: 'width', type: 'integer', taskType: 'imageInference', taskUUID: expect.any(String) as unknown },
    });
    expect((failure as { error: { message: unknown } }).error.message).toBeTypeOf('string');
    // The socket serves on.
    const images = await client.imageInference({ ...request, numberResults: 1, outputType: 'base64Data' });
    expect(images).toHaveLength(1);
  });

  it(
    'answers the SDK heartbeat ping with the pong it counts, and the SDK stays healthy',
    async () => {
      server = await startTestServer();
      const client = await connectSdk(server.url);
      // Watched on the SDK's own socket, beside the SDK's listener (nothing is replaced).
      const socket: unknown = client._ws;
      if (typeof socket !== 'object' || socket === null || typeof (socket as { once?: unknown }).once !== 'function') throw new Error('the SDK has no ws socket');
      const pong = new Promise<string>((resolve) => {
        const watch = (data: Buffer): void => {
          const text = data.toString('utf8');
          if (text.includes('"pong"')) resolve(text);
          else (socket as { once(event: 'message', listener: (data: Buffer) => void): void }).once('message', watch);
        };
        (socket as { once(event: 'message', listener: (data: Buffer) => void): void }).once('message', watch);
      });
      expect(await pong).toBe('{"data":[{"taskType":"ping","pong":true}]}');
      expect(client._missedPongCount).toBe(0);
      const images = await client.imageInference({ ...request, numberResults: 1, outputType: 'base64Data' });
      expect(images).toHaveLength(1);
    },
    HEARTBEAT_MS + 15_000,
  );
});
