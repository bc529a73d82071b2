// The emulator is strict about imagewire's extensions: a task carrying `previews`, an
// authentication carrying `extensions` (or any field the documentation does not list) is refused,
// named or not, unless the unknown-field mode ignores them; the mode switches at runtime.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { imageTask, isAuthReply, isErrorOf, isErrors, isResultOf, json, startFastEmulator } from './kit.js';
import type { RunwareEmulator, UnknownFieldMode } from './runware-emulator.js';
import { inferenceFields } from './wire-rules.js';

let emulator: RunwareEmulator;
beforeAll(async () => {
  emulator = await startFastEmulator();
});
afterAll(async () => {
  await emulator.close();
});

const imagewireAuth = { taskType: 'authentication', apiKey: 'key-a', extensions: { ack: true, binaryResults: true } };

async function authenticateWithExtensions(): Promise<{ client: RawClient; answer: Record<string, unknown> }> {
  const client = await RawClient.connect(emulator.url);
  client.send([imagewireAuth]);
  const answer = json(await client.waitFor((f) => isAuthReply(f) || isErrors(f)));
  return { client, answer };
}

describe.each<[UnknownFieldMode, (answer: Record<string, unknown>) => void]>([
  [
    'rejectNamed',
    (answer) => expect(answer).toEqual({ errors: [{ code: 'unknownParameter', message: expect.stringContaining('extensions'), parameter: 'extensions', taskType: 'authentication' }] }),
  ],
  ['rejectUnnamed', (answer) => expect(answer).toEqual({ errors: [{ code: 'unsupportedParameter', message: expect.not.stringContaining('extensions'), taskType: 'authentication' }] })],
])('mode %s', (mode, expectAuthRefusal) => {
  beforeAll(() => emulator.faults.setUnknownFields(mode));

  it('refuses an authentication carrying extensions, and the socket stays unauthenticated', async () => {
    const { client, answer } = await authenticateWithExtensions();
    expectAuthRefusal(answer);
    const task = imageTask();
    client.send([task]);
    expect(json(await client.waitFor(isErrorOf(task.taskUUID))).errors).toEqual([expect.objectContaining({ code: 'missingApiKey' })]);
    await client.close();
  });

  it('refuses a task carrying previews, naming it only in rejectNamed', async () => {
    const { client } = await RawClient.authenticated(emulator.url, 'key-a');
    const task = imageTask({ previews: 3 });
    client.send([task]);
    const [error] = json(await client.waitFor(isErrorOf(task.taskUUID))).errors as Record<string, unknown>[];
    if (mode === 'rejectNamed') expect(error).toEqual({ code: 'unknownParameter', message: expect.stringContaining('previews'), parameter: 'previews', taskType: 'imageInference', taskUUID: task.taskUUID });
    else expect(error).toEqual({ code: 'unsupportedParameter', message: expect.not.stringContaining('previews'), taskType: 'imageInference', taskUUID: task.taskUUID });
    expect(emulator.stats().inferencesAccepted.get(task.taskUUID)).toBeUndefined();
    await client.close();
  });

  it('refuses unknown fields in nested objects, ping, getResponse and imageUpload too', async () => {
    const { client } = await RawClient.authenticated(emulator.url, 'key-a');
    const nested = imageTask({ lora: [{ model: 'runware:13090@1', weight: 1, preview: true }] });
    const poll = { taskType: 'getResponse', taskUUID: crypto.randomUUID(), ack: true };
    const upload = { taskType: 'imageUpload', taskUUID: crypto.randomUUID(), image: 'https://example.com/a.png', resumed: true };
    client.send([nested, poll, upload]);
    const code = mode === 'rejectNamed' ? 'unknownParameter' : 'unsupportedParameter';
    for (const uuid of [nested.taskUUID, poll.taskUUID, upload.taskUUID]) {
      expect(json(await client.waitFor(isErrorOf(uuid))).errors).toEqual([expect.objectContaining({ code })]);
    }
    if (mode === 'rejectNamed') expect(json(client.frames.find(isErrorOf(nested.taskUUID))!).errors).toEqual([expect.objectContaining({ parameter: 'lora[0].preview' })]);
    client.send([{ taskType: 'ping', ping: true, seq: 1 }]);
    expect(json(await client.waitFor((f) => isErrors(f) && json(f).errors !== undefined && (json(f).errors as Record<string, unknown>[])[0]?.taskType === 'ping')).errors).toEqual([
      expect.objectContaining({ code, taskType: 'ping' }),
    ]);
    await client.close();
  });

  it('refuses any undocumented top-level field of imageInference', async () => {
    const { client } = await RawClient.authenticated(emulator.url, 'key-a');
    const code = mode === 'rejectNamed' ? 'unknownParameter' : 'unsupportedParameter';
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 12 }).filter((name) => !inferenceFields.has(name) && name !== '__proto__'),
        fc.jsonValue(),
        async (name, value) => {
          const task = imageTask({ [name]: value });
          client.send([task]);
          const [error] = json(await client.waitFor(isErrorOf(task.taskUUID))).errors as Record<string, unknown>[];
          expect(error).toMatchObject({ code, taskUUID: task.taskUUID, ...(mode === 'rejectNamed' ? { parameter: name } : {}) });
        },
      ),
      { numRuns: 40 },
    );
    await client.close();
  });
});

describe('mode ignore', () => {
  beforeAll(() => emulator.faults.setUnknownFields('ignore'));
  afterAll(() => emulator.faults.setUnknownFields('rejectNamed'));

  it('authenticates with extensions and runs a task with previews, answering in the base protocol only', async () => {
    const { client, answer } = await authenticateWithExtensions();
    expect(answer).toEqual({ data: [{ taskType: 'authentication', connectionSessionUUID: expect.any(String) }] });
    const task = imageTask({ previews: 3, numberResults: 2 });
    client.send([task]);
    const frames = await client.waitForCount(isResultOf(task.taskUUID), 2);
    for (const frame of frames) {
      for (const item of json(frame).data as Record<string, unknown>[]) expect(Object.keys(item)).toEqual(['taskType', 'taskUUID', 'imageUUID', 'imageURL', 'seed']);
    }
    expect(client.frames.every((f) => f.kind === 'json')).toBe(true);
    await client.close();
  });
});
