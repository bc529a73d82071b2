// The error model: stable codes, classes by how to react, instanceof across copies of the package,
// server error items kept verbatim, and client codes that never collide with wire codes.
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  AuthenticationError,
  ConnectionError,
  ImagewireError,
  QueueFullError,
  SessionLostError,
  TimeoutError,
  ValidationError,
  clientErrorCodes,
  isImagewireError,
} from '../../src/client/index.js';
import { errorFromItem } from '../../src/client/errors.js';
import { errorCodes } from '../../src/protocol/index.js';

describe('errors', () => {
  it('keeps the server error item verbatim on ApiError', () => {
    const item = { code: 'invalidWidth', message: 'width must be a multiple of 64 from 128 to 2048; got 500', parameter: 'width', type: 'integer', taskType: 'imageInference', taskUUID: '6d0c0b4e-2f2b-4f3e-9f5a-5b0b9a2f4c11' };
    const error = errorFromItem(item);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(ImagewireError);
    expect(error).not.toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ code: 'invalidWidth', parameter: 'width', taskType: 'imageInference', taskUUID: item.taskUUID, name: 'ApiError' });
    expect((error as ApiError).item).toBe(item);
  });

  it('maps key problems to AuthenticationError', () => {
    expect(errorFromItem({ code: 'invalidApiKey', message: 'Invalid API key', parameter: 'apiKey' })).toBeInstanceOf(AuthenticationError);
  });

  it('recognises errors of another copy of the package by brand and kind', () => {
    // What a second copy of imagewire would create: a different class with the same brand.
    const brand = Symbol.for('imagewire.error');
    const foreign = Object.assign(new Error('x'), { name: 'TimeoutError', code: 'taskTimeout' });
    Object.defineProperty(foreign, brand, { value: true });
    expect(foreign instanceof ImagewireError).toBe(true);
    expect(foreign instanceof TimeoutError).toBe(true);
    expect(foreign instanceof ApiError).toBe(false);
    expect(isImagewireError(foreign)).toBe(true);
    expect(isImagewireError(new Error('plain'))).toBe(false);
    expect(new Error('plain') instanceof ImagewireError).toBe(false);
  });

  it('gives every class its reaction-specific fields', () => {
    const timeout = new TimeoutError('pong', 10_000, 'no pong');
    expect([timeout.code, timeout.phase, timeout.timeoutMs]).toEqual(['pongTimeout', 'pong', 10_000]);
    const closed = new ConnectionError('connectionClosed', 'closed', { closeCode: 1006, closeReason: '' });
    expect([closed.closeCode, closed.closeReason]).toEqual([1006, '']);
    const full = new QueueFullError('outbox', 10, 'full');
    expect([full.code, full.queue, full.limit]).toEqual(['outboxFull', 'outbox', 10]);
    expect(new QueueFullError('tasks', 1, 'full').code).toBe('clientQueueFull');
    const lost = new SessionLostError('t', 'lost', { cause: new Error('why') });
    expect([lost.code, lost.taskUUID, (lost.cause as Error).message]).toEqual(['sessionLost', 't', 'why']);
  });

  it('names the first bad parameter on a ValidationError and counts the rest', () => {
    const error = new ValidationError([
      { code: 'invalidWidth', message: 'width must be a multiple of 64', parameter: 'width' },
      { code: 'invalidSteps', message: 'steps must be an integer', parameter: 'steps' },
    ]);
    expect(error.code).toBe('invalidWidth');
    expect(error.parameter).toBe('width');
    expect(error.message).toContain('and 1 more: steps');
    expect(error.errors).toHaveLength(2);
  });

  it('has client codes that do not collide with wire codes, except taskTimeout which means the same', () => {
    const collisions = Object.keys(clientErrorCodes).filter((code) => code in errorCodes);
    expect(collisions).toEqual(['taskTimeout']);
  });

  it('keeps the brand out of enumerable properties and JSON', () => {
    const error = new ApiError({ code: 'x', message: 'y' });
    expect(Object.keys(error)).not.toContain(Symbol.for('imagewire.error').toString());
    expect(JSON.stringify(error)).not.toContain('imagewire.error');
  });
});
