// Shared pieces of the emulator's tests: a fast emulator, a base-protocol imageInference task, and
// frame predicates for the raw client.
import { randomUUID } from 'node:crypto';
import { afterEach } from 'vitest';
import type { Received } from '../helpers/raw-client.js';
import { startRunwareEmulator, type RunwareEmulator, type RunwareEmulatorOptions } from './runware-emulator.js';

/** An emulator with 1 ms images and no random `"data": []` on errors (tests that want it say so). */
export function startFastEmulator(options: RunwareEmulatorOptions = {}): Promise<RunwareEmulator> {
  return startRunwareEmulator({ imageDelayMs: 1, emptyDataWithErrors: 'never', ...options });
}

/**
 * Starts fast emulators for one test file, and closes the one a test started after that test.
 * Call it at the top level of the file.
 */
export function emulatorFixture(): (options?: RunwareEmulatorOptions) => Promise<RunwareEmulator> {
  let current: RunwareEmulator | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async (options = {}) => (current = await startFastEmulator(options));
}

/** A small imageInference task with only documented fields; overrides win. */
export function imageTask(overrides: Record<string, unknown> = {}): Record<string, unknown> & { taskUUID: string } {
  return {
    taskType: 'imageInference',
    taskUUID: randomUUID(),
    positivePrompt: 'a red fox in a blue forest',
    model: 'runware:101@1',
    width: 512,
    height: 512,
    ...overrides,
  } as Record<string, unknown> & { taskUUID: string };
}

/** The JSON value of a frame (throws on a binary frame, which the emulator never sends). */
export function json(frame: Received): Record<string, unknown> {
  if (frame.kind !== 'json') throw new Error('unexpected binary frame');
  return frame.value;
}

export const isAuthReply = (frame: Received): boolean => frame.kind === 'json' && frame.data[0]?.taskType === 'authentication';
export const isPong = (frame: Received): boolean => frame.kind === 'json' && frame.data[0]?.taskType === 'ping';
/** A frame carrying pushed result items (with an imageUUID, without a getResponse status) of `taskUUID`. */
export const isResultOf =
  (taskUUID: string) =>
  (frame: Received): boolean =>
    frame.kind === 'json' && frame.data.length > 0 && frame.data.every((item) => item.taskUUID === taskUUID && typeof item.imageUUID === 'string' && item.status === undefined);
/** An errors frame whose first error is about `taskUUID`. */
export const isErrorOf =
  (taskUUID: string) =>
  (frame: Received): boolean =>
    frame.kind === 'json' && frame.errors[0]?.taskUUID === taskUUID;
/** Any errors frame. */
export const isErrors = (frame: Received): boolean => frame.kind === 'json' && frame.errors.length > 0;

/** The result items of every result frame of `taskUUID`, in arrival order. */
export function resultItems(frames: readonly Received[], taskUUID: string): Record<string, unknown>[] {
  return frames.filter(isResultOf(taskUUID)).flatMap((frame) => (frame.kind === 'json' ? (frame.data as unknown as Record<string, unknown>[]) : []));
}
