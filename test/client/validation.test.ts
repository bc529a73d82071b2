// Where a bad request is caught: by the client's validator (validateRequests, the Node entry's
// default and opt-in in browsers) before anything is sent, or by the server, whose error items
// then end the task with an ApiError carrying the same code, parameter and message.
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { ApiError, ImagewireClient, ValidationError, validateRequests, type ImageInferenceRequest, type WebSocketConstructor } from '../../src/index.js';
import { validateRequests as fromValidateEntry } from '../../src/validate.js';
import { clientOf, closeAfterTest, smallRequest } from '../helpers/test-client.js';
import { startTestServer } from '../helpers/test-server.js';

/** Requests the protocol refuses, each for a different rule. */
const badRequests: Partial<ImageInferenceRequest>[] = [
  { width: 500 },
  { steps: 0 },
  { outputFormat: 'GIF' } as unknown as Partial<ImageInferenceRequest>,
  { numberResults: 0 },
  { positivePrompt: '' },
  { ...({ notAParameter: 1 } as Partial<ImageInferenceRequest>) },
];

describe('request validation', () => {
  it('is the same check on both sides: the local ValidationError holds the error item the server answers with', async () => {
    const server = closeAfterTest(await startTestServer());
    const local = clientOf(server, { validate: validateRequests });
    const remote = clientOf(server, { validate: false });
    for (const overrides of badRequests) {
      const refused = local.imageInference(smallRequest(overrides));
      const localError = await refused.result().catch((error: unknown) => error);
      expect(localError, JSON.stringify(overrides)).toBeInstanceOf(ValidationError);
      const taskUUID = refused.taskUUID;
      const answered = remote.imageInference({ ...smallRequest(overrides), taskUUID });
      const remoteError = await answered.result().catch((error: unknown) => error);
      expect(remoteError, JSON.stringify(overrides)).toBeInstanceOf(ApiError);
      const { code, parameter, message } = (remoteError as ApiError).item;
      expect((localError as ValidationError).errors[0], JSON.stringify(overrides)).toMatchObject({ code, parameter, message, taskUUID });
    }
    expect(local.stats().attempts).toBe(0);
    expect(remote.stats().attempts).toBe(1);
    // The task the server refused took nothing from the next one.
    expect(await remote.imageInference(smallRequest()).result()).toHaveLength(1);
  });

  it('is on by default in the Node entry and in the HTTP client, off by default in the client class (the browser entry)', async () => {
    const server = closeAfterTest(await startTestServer());
    const node = clientOf(server);
    await expect(node.imageInference(smallRequest({ width: 500 })).result()).rejects.toBeInstanceOf(ValidationError);
    expect(node.stats().attempts).toBe(0);
    const plain = closeAfterTest(new ImagewireClient({ apiKey: 'k1', url: server.url, networkEvents: false }, WebSocket as unknown as WebSocketConstructor));
    const task = plain.imageInference(smallRequest({ width: 500 }));
    await expect(task.result()).rejects.toMatchObject({ name: 'ApiError', code: 'invalidWidth', parameter: 'width', taskUUID: task.taskUUID });
    await expect(plain.imageUpload({ image: 'not an image' })).rejects.toMatchObject({ name: 'ApiError', code: 'invalidImage', parameter: 'image' });
    expect(fromValidateEntry).toBe(validateRequests);
  });

  it('checks the taskUUID locally even without a validator: answers are routed by it', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server, { validate: false });
    const task = client.imageInference(smallRequest({ taskUUID: 'not-a-uuid' }));
    await expect(task.result()).rejects.toMatchObject({ name: 'ValidationError', code: 'invalidTaskUUID', parameter: 'taskUUID', taskUUID: 'not-a-uuid' });
    await expect(client.imageUpload({ image: 'aGVsbG8=', taskUUID: 'x'.repeat(100) })).rejects.toBeInstanceOf(ValidationError);
    await expect(client.getResponse('nope')).rejects.toMatchObject({ name: 'ValidationError', code: 'invalidTaskUUID' });
    expect(client.stats().attempts).toBe(0);
  });

  it('runs a custom validator, and sends what it accepts', async () => {
    const server = closeAfterTest(await startTestServer());
    const seen: string[] = [];
    const client = clientOf(server, {
      validate: (task) => {
        seen.push(task.taskType);
        return task.taskType === 'imageInference' && task.width > 256 ? [{ code: 'tooWide', message: 'at most 256 here', parameter: 'width' }] : [];
      },
    });
    await expect(client.imageInference(smallRequest({ width: 512 })).result()).rejects.toMatchObject({ name: 'ValidationError', code: 'tooWide', parameter: 'width' });
    expect(await client.imageInference(smallRequest()).result()).toHaveLength(1);
    expect(seen).toEqual(['imageInference', 'imageInference']);
  });
});

describe('request validation, a value JSON cannot hold', () => {
  it('fails the task with a ValidationError when nothing checked it before', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server, { validate: false });
    const lora: Record<string, unknown>[] = [{ model: 'civitai:1@1', weight: 1 }];
    (lora[0] as Record<string, unknown>).self = lora;
    const task = client.imageInference(smallRequest({ lora } as unknown as Partial<ImageInferenceRequest>));
    await expect(task.result()).rejects.toMatchObject({ name: 'ValidationError', code: 'invalidTask', taskUUID: task.taskUUID });
    expect(await client.imageInference(smallRequest()).result()).toHaveLength(1);
  });
});
