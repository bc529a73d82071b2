// The error code table: every code is camelCase with an HTTP status and a description, the helpers
// treat unknown codes safely, and protocolError leaves out context it does not know.
import { describe, it, expect } from 'vitest';
import { errorCodes, isKnownErrorCode, protocolError, statusForCode, type ErrorCode } from '../../src/protocol/index.js';

const codes = Object.keys(errorCodes) as ErrorCode[];

describe('errorCodes', () => {
  it('has codes', () => {
    expect(codes.length).toBeGreaterThan(20);
  });

  it.each(codes)('%s is camelCase with a status from 400 to 599 and a description', (code) => {
    expect(code).toMatch(/^[a-z][a-zA-Z0-9]*$/);
    const info = errorCodes[code];
    expect(Number.isInteger(info.status)).toBe(true);
    expect(info.status).toBeGreaterThanOrEqual(400);
    expect(info.status).toBeLessThanOrEqual(599);
    expect(typeof info.description).toBe('string');
    expect(info.description.trim().length).toBeGreaterThan(10);
    expect(info.description).toMatch(/\.$/);
  });

  it('keeps the wire code of the protocol example (invalidApiKey, 401)', () => {
    expect(errorCodes.invalidApiKey.status).toBe(401);
  });

  it('maps size, conflict and limit codes to their HTTP statuses', () => {
    expect(statusForCode('frameTooLarge')).toBe(413);
    expect(statusForCode('conflictTaskUUID')).toBe(409);
    expect(statusForCode('queueFull')).toBe(429);
    expect(statusForCode('invalidWidth')).toBe(400);
  });

  it('has no two codes differing only in letter case', () => {
    expect(new Set(codes.map((code) => code.toLowerCase())).size).toBe(codes.length);
  });
});

describe('isKnownErrorCode and statusForCode', () => {
  it('knows the table and nothing else', () => {
    for (const code of codes) expect(isKnownErrorCode(code)).toBe(true);
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'InvalidWidth', '', 'unknownError']) {
      expect(isKnownErrorCode(name)).toBe(false);
      expect(statusForCode(name)).toBe(400);
    }
  });

  it('gives the table status for known codes', () => {
    for (const code of codes) expect(statusForCode(code)).toBe(errorCodes[code].status);
  });
});

describe('protocolError', () => {
  it('builds an item with only code and message when there is no context', () => {
    expect(protocolError('invalidJSON', 'bad')).toEqual({ code: 'invalidJSON', message: 'bad' });
    expect(Object.keys(protocolError('invalidJSON', 'bad', {}))).toEqual(['code', 'message']);
  });

  it('leaves out context fields that are undefined', () => {
    const item = protocolError('invalidWidth', 'width must be a multiple of 64 from 128 to 2048; got 500', {
      parameter: 'width',
      type: undefined,
      taskType: 'imageInference',
      taskUUID: undefined,
    });
    expect(item).toEqual({ code: 'invalidWidth', message: 'width must be a multiple of 64 from 128 to 2048; got 500', parameter: 'width', taskType: 'imageInference' });
    expect(Object.keys(item).sort()).toEqual(['code', 'message', 'parameter', 'taskType']);
  });

  it('keeps every known context field', () => {
    expect(protocolError('invalidApiKey', 'Invalid API key', { parameter: 'apiKey', type: 'string', taskType: 'authentication', taskUUID: 'u' })).toEqual({
      code: 'invalidApiKey',
      message: 'Invalid API key',
      parameter: 'apiKey',
      type: 'string',
      taskType: 'authentication',
      taskUUID: 'u',
    });
  });

  it('copies no field outside the item shape', () => {
    const context = { parameter: 'width', secret: 'sk-live' } as unknown as Parameters<typeof protocolError>[2];
    expect(protocolError('invalidWidth', 'm', context)).toEqual({ code: 'invalidWidth', message: 'm', parameter: 'width' });
  });
});
