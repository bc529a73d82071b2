// The official @runware/sdk-js works against the emulator as against the real service:
// authentication, a 2-image imageInference, a validation error, an async task read back with
// getResponse, an upload. One attempt per call and no reconnect loop, so a failure shows as one.
import { RunwareServer } from '@runware/sdk-js';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startFastEmulator } from './kit.js';
import type { RunwareEmulator, RunwareEmulatorOptions } from './runware-emulator.js';

let emulator: RunwareEmulator | undefined;
let sdk: RunwareServer | undefined;
afterEach(async () => {
  await sdk?.disconnect();
  sdk = undefined;
  await emulator?.close();
  emulator = undefined;
});

/** An emulator and a connected sdk-js client (heartbeatInterval at its 10 s floor; the URL is never the SDK's magic test URL). */
async function connect(options: RunwareEmulatorOptions = {}): Promise<{ emu: RunwareEmulator; client: RunwareServer }> {
  emulator = await startFastEmulator(options);
  sdk = new RunwareServer({ apiKey: 'sdk-key', url: emulator.url, shouldReconnect: false, globalMaxRetries: 0, timeoutDuration: 5_000, heartbeatInterval: 10_000 });
  await sdk.ensureConnection();
  return { emu: emulator, client: sdk };
}

const request = { positivePrompt: 'a lighthouse at dusk', model: 'runware:101@1', width: 512, height: 512 };

describe('@runware/sdk-js against the emulator', () => {
  it('authenticates (one session, one socket, the query of the SDK ignored)', async () => {
    const { emu } = await connect({ apiKeys: ['sdk-key'] });
    expect(emu.stats()).toMatchObject({ socketsOpen: 1, sessions: 1, sessionsCreated: 1 });
  });

  it('stops at invalidApiKey', async () => {
    emulator = await startFastEmulator({ apiKeys: ['other'] });
    sdk = new RunwareServer({ apiKey: 'sdk-key', url: emulator.url, shouldReconnect: false, globalMaxRetries: 0, timeoutDuration: 5_000, heartbeatInterval: 10_000 });
    await expect(sdk.ensureConnection()).rejects.toMatchObject({ error: { code: 'invalidApiKey', parameter: 'apiKey' } });
  });

  it('gets both images of a 2-image imageInference, with cost', async () => {
    const { emu, client } = await connect();
    const images = await client.imageInference({ ...request, numberResults: 2, includeCost: true, seed: 5 });
    expect(images).toHaveLength(2);
    for (const image of images ?? []) {
      expect(image.imageUUID).toMatch(/^[0-9a-f-]{36}$/);
      expect(image.imageURL?.startsWith(emu.httpUrl)).toBe(true);
      expect(image.cost).toBeGreaterThan(0);
    }
    expect(images?.map((image) => image.seed)).toEqual([5, 6]);
    const bytes = Buffer.from(await (await fetch(images![0]!.imageURL!)).arrayBuffer());
    expect((await sharp(bytes).metadata()).format).toBe('jpeg');
  });

  it('gets base64 PNG output', async () => {
    const { client } = await connect();
    const [image] = (await client.imageInference({ ...request, outputType: 'base64Data', outputFormat: 'PNG' })) ?? [];
    expect((await sharp(Buffer.from(image!.imageBase64Data!, 'base64')).metadata()).format).toBe('png');
  });

  it('rejects with the service error object, also when the frame carries "data": []', async () => {
    const { client } = await connect({ emptyDataWithErrors: 'always' });
    await expect(client.imageInference({ ...request, width: 500 })).rejects.toMatchObject({ error: { code: 'invalidWidth', parameter: 'width', taskType: 'imageInference' } });
    // An imagewire field the SDK passes through is refused by name.
    await expect(client.imageInference({ ...request, previews: 2 })).rejects.toMatchObject({ error: { code: 'unknownParameter', parameter: 'previews' } });
    // The connection is still fine.
    expect(await client.imageInference(request)).toHaveLength(1);
  });

  it('reads an async task back with getResponse', async () => {
    const { client } = await connect({ imageDelayMs: 20 });
    const taskUUID = crypto.randomUUID();
    const ack = await client.imageInference({ ...request, numberResults: 2, deliveryMethod: 'async', customTaskUUID: taskUUID });
    expect(ack).toEqual([{ taskType: 'imageInference', taskUUID }]);
    let items: Array<{ status?: string; imageURL?: string }> = [];
    for (let poll = 0; poll < 100; poll++) {
      items = await client.getResponse<{ status?: string; imageURL?: string }>({ taskUUID });
      if (items.length === 2 && items.every((item) => item.status === 'success')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(items.map((item) => item.status)).toEqual(['success', 'success']);
    expect(items.every((item) => typeof item.imageURL === 'string')).toBe(true);
  });

  it('rejects getResponse of an unknown task with taskFailedOrNotFound', async () => {
    const { client } = await connect();
    await expect(client.getResponse({ taskUUID: crypto.randomUUID() })).rejects.toMatchObject({ error: { code: 'taskFailedOrNotFound' } });
  });

  it('uploads an image', async () => {
    const { emu, client } = await connect();
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#0f0' } }).png().toBuffer();
    const uploaded = await client.imageUpload({ image: `data:image/png;base64,${png.toString('base64')}` });
    expect(uploaded).toMatchObject({ taskType: 'imageUpload', imageUUID: expect.any(String), imageURL: expect.stringMatching(new RegExp(`^${emu.httpUrl}/images/`)) });
  });
});
