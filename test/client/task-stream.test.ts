// A task as its consumer sees it, without a server: finals exactly once whatever arrives twice,
// previews only when asked for and latest-wins, binary results as bytes, one ending, consumable once.
import { describe, expect, it } from 'vitest';
import { encodeBinaryResult, type ServerDataItem } from '../../src/protocol/index.js';
import { ImageInferenceRun } from '../../src/client/tasks/image-inference-run.js';
import { ImagewireError, TaskStream, type ImageInferenceEvent } from '../../src/client/index.js';
import { decodeInbound } from '../../src/client/socket/inbound.js';
import { systemClock } from '../../src/internal/clock.js';
import { Deadlines } from '../../src/internal/deadlines.js';

const T = '3b241101-e2bb-4255-8caf-4136c566a962';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function run(numberResults: number, previews = false): ImageInferenceRun {
  const task = { taskType: 'imageInference' as const, taskUUID: T, positivePrompt: 'a fox', model: 'runware:101@1', width: 128, height: 128, numberResults, ...(previews ? { previews: true } : {}) };
  const r = new ImageInferenceRun(task);
  r.start(new Deadlines(systemClock), 60_000, undefined, { taskEnded: () => undefined });
  return r;
}

function final(index: number, extra: Partial<ServerDataItem> = {}): ServerDataItem {
  return { taskType: 'imageInference', taskUUID: T, imageUUID: `00000000-0000-4000-8000-00000000000${index}`, imageBase64Data: PNG, index, seed: 10 + index, imageFormat: 'PNG', ...extra };
}

function preview(index: number, step: number): ServerDataItem {
  return { taskType: 'imageInference', taskUUID: T, preview: true, index, step, steps: 20, imageBase64Data: PNG, imageFormat: 'JPG', width: 32, height: 32 };
}

async function events(stream: TaskStream<ImageInferenceEvent, unknown>): Promise<string[]> {
  const seen: string[] = [];
  for await (const event of stream) seen.push(event.type === 'final' ? `final ${event.index}` : `preview ${event.index}@${event.step}`);
  return seen;
}

describe('ImageInferenceRun', () => {
  it('delivers each final once, whatever is replayed, and completes at numberResults', async () => {
    const r = run(2);
    r.handleItem(final(0));
    r.handleItem(final(0));
    r.handleItem(final(1));
    r.handleItem(final(1));
    expect(await events(new TaskStream(r))).toEqual(['final 0', 'final 1']);
    expect(r.duplicates).toBe(1);
    const images = await r.result;
    expect(images.map((image) => [image.index, image.seed, image.format])).toEqual([
      [0, 10, 'PNG'],
      [1, 11, 'PNG'],
    ]);
  });

  it('dedupes by imageUUID when a server sends no index, numbering finals by arrival', async () => {
    const r = run(2);
    const { index: _a, ...first } = final(0);
    const { index: _b, ...second } = final(1);
    r.handleItem(first);
    r.handleItem(first);
    r.handleItem(second);
    expect((await r.result).map((image) => image.index)).toEqual([0, 1]);
    expect(r.duplicates).toBe(1);
  });

  it('ignores previews unless asked for, keeps the latest unread one per index, and drops stale ones', async () => {
    const quiet = run(1);
    quiet.handleItem(preview(0, 1));
    quiet.handleItem(final(0));
    expect(await events(new TaskStream(quiet))).toEqual(['final 0']);

    const r = run(2, true);
    for (let step = 1; step <= 20; step++) {
      r.handleItem(preview(0, step));
      r.handleItem(preview(1, step));
    }
    const stream = new TaskStream(r);
    const iterator = stream[Symbol.asyncIterator]();
    // A slow reader sees the newest step of each index, not all twenty.
    expect((await iterator.next()).value).toMatchObject({ type: 'preview', index: 0, step: 20 });
    // A final supersedes its unread preview; a preview after its final is stale.
    r.handleItem(final(1));
    r.handleItem(preview(1, 20));
    r.handleItem(final(0));
    const rest: string[] = [];
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) rest.push(`${next.value.type} ${next.value.index}`);
    expect(rest).toEqual(['final 1', 'final 0']);
  });

  it('takes binary results as bytes without base64', async () => {
    const r = run(1);
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const frame = decodeInbound(encodeBinaryResult({ taskType: 'imageInference', taskUUID: T, imageUUID: 'u', index: 0, imageFormat: 'PNG' }, bytes).buffer);
    if (frame.kind !== 'binary') throw new Error('expected a binary frame');
    r.handleBinary(frame.header, frame.image);
    const [image] = await r.result;
    expect(image?.bytes).toEqual(bytes);
    expect(image?.mediaType).toBe('image/png');
    expect(image?.dataURI.startsWith('data:image/png;base64,iVBORw')).toBe(true);
  });

  it('ends once: a late final after a failure changes nothing', async () => {
    const r = run(2);
    r.handleItem(final(0));
    r.handleItem({ taskType: 'imageInference', taskUUID: T, status: 'error', error: { code: 'inferenceError', message: 'engine failed' } });
    r.handleItem(final(1));
    await expect(r.result).rejects.toMatchObject({ code: 'inferenceError' });
    const stream = new TaskStream(r);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of stream) seen.push(event.type);
      })(),
    ).rejects.toMatchObject({ code: 'inferenceError' });
    expect(seen).toEqual(['final']);
  });
});

describe('TaskStream', () => {
  it('can be iterated once', () => {
    const stream = new TaskStream(run(1));
    stream[Symbol.asyncIterator]();
    expect(() => stream[Symbol.asyncIterator]()).toThrow(ImagewireError);
  });

  it('cancels the task when the consumer leaves the loop early', async () => {
    const r = run(2, true);
    r.handleItem(preview(0, 1));
    const stream = new TaskStream(r);
    for await (const event of stream) {
      expect(event.type).toBe('preview');
      break;
    }
    expect(stream.state).toBe('cancelled');
    await expect(stream.result()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('does not cancel a task that already completed', async () => {
    const r = run(1);
    r.handleItem(final(0));
    const stream = new TaskStream(r);
    for await (const _event of stream) break;
    expect(stream.state).toBe('completed');
  });

  it('rejects result() with the abort reason given to cancel()', async () => {
    const stream = new TaskStream(run(1));
    const reason = new Error('changed my mind');
    stream.cancel(reason);
    await expect(stream.result()).rejects.toBe(reason);
  });

  it('is awaitable as its result, typed as the result, and can still be iterated after', async () => {
    const r = run(2);
    r.handleItem(final(0));
    r.handleItem(final(1));
    const stream = new TaskStream(r);
    const images = await stream;
    // The type is the result's, not the stream's: this line would not compile otherwise.
    const uuids: string[] = images.map((image) => image.imageUUID);
    expect(uuids).toHaveLength(2);
    expect(images).toBe(await stream.result());
    expect(await events(stream)).toEqual(['final 0', 'final 1']);
  });

  it('rejects `await task` with the task\'s error, as result() does', async () => {
    const stream = new TaskStream(run(1));
    const reason = new Error('changed my mind');
    stream.cancel(reason);
    await expect((async () => await stream)()).rejects.toBe(reason);
    // A promise's then() with both handlers, as Promise.resolve(task) and await use it.
    expect(await stream.then(() => 'fulfilled', (error: unknown) => error)).toBe(reason);
    await expect(Promise.resolve(stream)).rejects.toBe(reason);
  });
});
