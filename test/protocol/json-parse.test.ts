// Bounded, exact JSON reading: the scan's depth and value counts are exact for any JSON (checked
// against a walk of JSON.parse's result), nothing deep or large is parsed or thrown, and integers
// beyond 2^53 - 1 come back as exact bigints; stringifyJson writes them back with the same digits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, defaultJsonBounds, parseJsonWithin, stringifyJson } from '../../src/protocol/index.js';

/** Depth and value count of a parsed JSON value, by an explicit-stack walk (the reference). */
function measure(value: unknown): { depth: number; values: number } {
  let depth = 0;
  let values = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, level] = top;
    values++;
    if (typeof node !== 'object' || node === null) continue;
    depth = Math.max(depth, level + 1);
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, level + 1]);
  }
  return { depth, values };
}

function parsed(text: string, bounds: Parameters<typeof parseJsonWithin>[1] = {}): unknown {
  const result = parseJsonWithin(text, bounds);
  if (!result.ok) throw new Error(`${result.problem}: ${result.reason}`);
  return result.value;
}

/** JSON values with bigints in them, of every size a 64-bit seed has and beyond. */
const withBigints = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.constantFrom(2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 9_007_199_254_740_991n, 10n ** 19n, 10n ** 20n - 1n, 10n ** 20n),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString', '12', '0')), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** How an integer's digits read: a bigint beyond 2^53 - 1 (up to 20 digits), else a number. */
function integerReading(digits: string): unknown {
  const exact = BigInt(digits);
  const safe = exact >= BigInt(Number.MIN_SAFE_INTEGER) && exact <= BigInt(Number.MAX_SAFE_INTEGER);
  return safe || digits.replace('-', '').length > 20 ? Number(digits) : exact;
}

/** What reading a value's JSON text gives: unsafe integers of up to 20 digits as bigints, other numbers as JSON.parse gives them. */
function expectedReading(value: unknown): unknown {
  if (typeof value === 'bigint') return integerReading(value.toString());
  if (typeof value === 'number') {
    // A double's JSON text may be integer digits beyond 2^53 - 1 (2 ** 53 is "9007199254740992"): those read as they are written.
    const text = JSON.stringify(value);
    return /^-?\d+$/.test(text) ? integerReading(text) : (JSON.parse(text) as unknown);
  }
  if (Array.isArray(value)) return value.map(expectedReading);
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) Object.defineProperty(copy, key, { value: expectedReading(member), enumerable: true, writable: true, configurable: true });
    return copy;
  }
  return value;
}

describe('parseJsonWithin', () => {
  it('reads integers beyond 2^53 - 1 as exact bigints, and every other number as JSON.parse does', () => {
    expect(parsed('[9223372036854775807, 9007199254740992, 9007199254740991, -9007199254740993, 1.5, 1e300, 12345678901234567890123]')).toEqual([
      9_223_372_036_854_775_807n,
      9_007_199_254_740_992n,
      9_007_199_254_740_991,
      -9_007_199_254_740_993n,
      1.5,
      1e300,
      Number('12345678901234567890123'),
    ]);
    expect(parsed(' { "seed" :\n 9223372036854775806 } ')).toEqual({ seed: 9_223_372_036_854_775_806n });
  });

  it('keeps a member named __proto__ an own member, with an exact bigint in it', () => {
    const value = parsed('{"__proto__":9223372036854775806,"a":[{"__proto__":{"b":18446744073709551615}}]}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toBe(9_223_372_036_854_775_806n);
    const inner = (value.a as Record<string, unknown>[])[0] as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(inner, '__proto__')?.value).toEqual({ b: 18_446_744_073_709_551_615n });
  });

  it('leaves numbers inside strings, and strings that look like its markers, alone', () => {
    expect(parsed('["9223372036854775807", "a\\"9223372036854775807", 9223372036854775807]')).toEqual(['9223372036854775807', 'a"9223372036854775807', 9_223_372_036_854_775_807n]);
  });

  it.each([
    ['an integer with a leading zero', '[09223372036854775807]'],
    ['an integer as a member name', '{9223372036854775807:1}'],
    ['a bare minus', '[-]'],
    ['an unterminated array', '[9223372036854775807'],
    ['trailing text', '[9223372036854775807] x'],
  ])('refuses %s as a syntax error, as JSON.parse does', (_name, text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(parseJsonWithin(text)).toMatchObject({ ok: false, problem: 'syntax' });
  });

  it('never quotes the text in a syntax reason', () => {
    const result = parseJsonWithin('{"apiKey":"sk-SECRET"');
    expect(result).toMatchObject({ ok: false, problem: 'syntax' });
    expect(JSON.stringify(result)).not.toContain('SECRET');
  });

  it('refuses nesting deeper than maxDepth and values beyond maxValues, before parsing', () => {
    const nest = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    expect(parseJsonWithin(nest(16))).toMatchObject({ ok: true });
    expect(parseJsonWithin(nest(17))).toEqual({ ok: false, problem: 'tooComplex', reason: 'it nests deeper than 16 levels' });
    expect(parseJsonWithin('{"a":{"b":[1]}}', { maxDepth: 3 })).toMatchObject({ ok: true });
    expect(parseJsonWithin('{"a":{"b":[1]}}', { maxDepth: 2 })).toMatchObject({ ok: false, problem: 'tooComplex' });
    // 4 values: the object, "x", 1 and null; member names do not count.
    expect(parseJsonWithin('{"a":"x","b":[1,null]}', { maxValues: 5 })).toMatchObject({ ok: true });
    expect(parseJsonWithin('{"a":"x","b":[1,null]}', { maxValues: 4 })).toEqual({ ok: false, problem: 'tooComplex', reason: 'it holds more than 4 values' });
    // Brackets and quotes inside strings are not structure.
    expect(parseJsonWithin(`["${'[{'.repeat(100)}\\"]]]"]`)).toMatchObject({ ok: true });
  });

  it('refuses 100,000 levels of nesting and 4 million values as tooComplex, without throwing', () => {
    expect(parseJsonWithin(`[{"taskType":"ping","ping":${'['.repeat(100_000)}${']'.repeat(100_000)}}]`)).toMatchObject({ ok: false, problem: 'tooComplex' });
    expect(parseJsonWithin(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`)).toMatchObject({ ok: false, problem: 'tooComplex' });
    expect(parseJsonWithin(`[${'0,'.repeat(4_000_000)}0]`)).toMatchObject({ ok: false, problem: 'tooComplex' });
  });

  it('has defaults that hold the largest valid frame: 4 levels, about 110,000 values in 256 full tasks', () => {
    expect(defaultJsonBounds).toEqual({ maxDepth: 16, maxValues: 131_072 });
  });

  it('counts depth and values exactly, as a walk of the parsed value does (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        const { depth, values } = measure(JSON.parse(text));
        expect(parseJsonWithin(text, { maxDepth: depth, maxValues: values })).toMatchObject({ ok: true });
        if (depth > 0) expect(parseJsonWithin(text, { maxDepth: depth - 1, maxValues: values })).toMatchObject({ ok: false, problem: 'tooComplex' });
        expect(parseJsonWithin(text, { maxDepth: depth, maxValues: values - 1 })).toMatchObject({ ok: false, problem: 'tooComplex' });
      }),
      { numRuns: 500 },
    );
  });

  it('reads back what stringifyJson wrote, bigints exact (property)', () => {
    fc.assert(
      fc.property(withBigints, (value) => {
        const text = stringifyJson(value);
        expect(parsed(text, { maxDepth: 64, maxValues: 1e6 })).toEqual(expectedReading(value));
      }),
      { numRuns: 500 },
    );
  });

  it('reads a frame decoded from bytes with the same exact integers', () => {
    const decoded = decodeClientFrame(Buffer.from('[{"taskType":"imageInference","seed":9223372036854775806}]'));
    expect(decoded).toEqual({ ok: true, entries: [{ taskType: 'imageInference', seed: 9_223_372_036_854_775_806n }] });
  });
});

describe('stringifyJson', () => {
  it('writes a bigint as a JSON number with its exact digits', () => {
    expect(stringifyJson({ data: [{ seed: 9_223_372_036_854_775_807n, list: [-(2n ** 64n), 1n] }] })).toBe('{"data":[{"seed":9223372036854775807,"list":[-18446744073709551616,1]}]}');
  });

  it('is JSON.stringify for values without a bigint', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(stringifyJson(value)).toBe(JSON.stringify(value));
      }),
    );
  });

  it('leaves strings that look like its placeholder alone', () => {
    const text = stringifyJson({ a: 'bigint-00000000-0000-4000-8000-000000000000:5', b: 5n });
    expect(JSON.parse(text)).toEqual({ a: 'bigint-00000000-0000-4000-8000-000000000000:5', b: 5 });
  });
});
