// One AbortSignal shared by many tasks: the client keeps a single 'abort' listener on it (so Node
// prints no MaxListenersExceededWarning), aborting it ends every task with its reason, and tasks
// that end on their own leave no listener behind.
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../src/index.js';
import { clientOf, closeAfterTest, smallRequest } from '../helpers/test-client.js';
import { startTestServer } from '../helpers/test-server.js';

const warnings: Error[] = [];
const record = (warning: Error): void => void warnings.push(warning);

beforeEach(() => {
  warnings.length = 0;
  process.on('warning', record);
});
afterEach(() => {
  process.off('warning', record);
});

/** Lets Node emit warnings queued with process.emitWarning (it emits them on the next tick). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('one AbortSignal shared by many tasks', () => {
  it('adds one listener for 50 tasks, warns about nothing, and aborting cancels all of them', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 20 }));
    const client = clientOf(server);
    const controller = new AbortController();
    const tasks = Array.from({ length: 50 }, () => client.imageInference(smallRequest({ steps: 50, signal: controller.signal })));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('the user left');
    controller.abort(reason);
    const outcomes = await Promise.allSettled(tasks.map((task) => task.result()));
    expect(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason === reason)).toBe(true);
    expect(tasks.every((task) => task.state === 'cancelled')).toBe(true);
    await settle();
    expect(warnings.map((warning) => warning.name)).toEqual([]);
  });

  it('removes the listener once every task sharing the signal has ended on its own', async () => {
    const server = closeAfterTest(await startTestServer());
    const client = clientOf(server);
    const controller = new AbortController();
    const tasks = Array.from({ length: 50 }, () => client.imageInference(smallRequest({ steps: 2, signal: controller.signal })));
    const results = await Promise.all(tasks.map((task) => task.result()));
    expect(results.every((images) => images.length === 1)).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // A signal that outlives its tasks can be reused: new tasks get their listener again.
    const late = client.imageInference(smallRequest({ steps: 50, signal: controller.signal }));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort('stop');
    await expect(late.result()).rejects.toBe('stop');
    await settle();
    expect(warnings).toEqual([]);
  });

  it('does the same over HTTP', async () => {
    const server = closeAfterTest(await startTestServer({ stepDelayMs: 20 }));
    const client = createHttpClient({ apiKey: 'k1', url: server.httpUrl });
    const controller = new AbortController();
    const tasks = Array.from({ length: 20 }, () => client.imageInference(smallRequest({ steps: 50, signal: controller.signal })));
    controller.abort('gone');
    const outcomes = await Promise.allSettled(tasks.map((task) => task.result()));
    expect(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason === 'gone')).toBe(true);
    await settle();
    expect(warnings).toEqual([]);
  });
});
