// taskUUIDs are UUID v4 strings (the protocol says "a random UUID v4 string"); session UUIDs and
// image UUIDs only need the UUID shape.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { isUuid, isUuidV4, newTaskUUID } from '../../src/protocol/index.js';
import { SESSION_UUID, TASK_UUID, UUID_V1 } from './fixtures.js';

describe('isUuidV4', () => {
  it('accepts the protocol examples in any letter case', () => {
    expect(isUuidV4(TASK_UUID)).toBe(true);
    expect(isUuidV4(SESSION_UUID)).toBe(true);
    expect(isUuidV4(TASK_UUID.toUpperCase())).toBe(true);
  });

  it.each([
    ['a v1 UUID', UUID_V1],
    ['a v5 UUID', '2ed6657d-e927-568b-95e1-2665a8aea6a2'],
    ['a v4 with an NCS variant', '39d7207a-87ef-4c93-0082-1431f9c1dc97'],
    ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
    ['no dashes', '39d7207a87ef4c9380821431f9c1dc97'],
    ['a trailing newline', `${TASK_UUID}\n`],
    ['a non-hex letter', '39d7207a-87ef-4c93-8082-1431f9c1dc9g'],
    ['a number', 42],
    ['null', null],
  ])('refuses %s', (_label, value) => {
    expect(isUuidV4(value)).toBe(false);
  });

  it('accepts every v4 UUID fast-check makes, and refuses every other version', () => {
    fc.assert(fc.property(fc.uuid({ version: 4 }), (uuid) => isUuidV4(uuid)), { numRuns: 200 });
    fc.assert(fc.property(fc.uuid({ version: [1, 2, 3, 5, 6, 7, 8] }), (uuid) => !isUuidV4(uuid) && isUuid(uuid)), { numRuns: 200 });
  });
});

describe('isUuid', () => {
  it('accepts any version and refuses other shapes', () => {
    expect(isUuid(UUID_V1)).toBe(true);
    expect(isUuid(TASK_UUID)).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid(`{${TASK_UUID}}`)).toBe(false);
    expect(isUuid(undefined)).toBe(false);
  });
});

describe('newTaskUUID', () => {
  it('makes distinct UUID v4 strings', () => {
    const made = new Set(Array.from({ length: 100 }, () => newTaskUUID()));
    expect(made.size).toBe(100);
    for (const uuid of made) expect(isUuidV4(uuid)).toBe(true);
  });

  it('makes them from random bytes where crypto.randomUUID is missing (a page outside a secure context)', () => {
    // An own property shadows the prototype's method for this test only.
    Object.defineProperty(globalThis.crypto, 'randomUUID', { value: undefined, configurable: true });
    try {
      const made = new Set(Array.from({ length: 1000 }, () => newTaskUUID()));
      expect(made.size).toBe(1000);
      for (const uuid of made) expect(isUuidV4(uuid), uuid).toBe(true);
      // Every random hex digit takes more than one value across the sample (none is stuck).
      const positions = [...made][0]?.split('').map((_, at) => new Set([...made].map((uuid) => uuid[at])).size) ?? [];
      expect(positions.filter((count, at) => count === 1 && ![8, 13, 14, 18, 23].includes(at))).toEqual([]);
    } finally {
      Reflect.deleteProperty(globalThis.crypto, 'randomUUID');
    }
    expect(typeof globalThis.crypto.randomUUID).toBe('function');
  });
});
