// Seeds beyond 2^53 - 1: result k of seed s is exactly s + k (a bigint once past 2^53 - 1), the
// procedural engine renders a different image for each, and a seed's image does not depend on
// whether it arrives as a number or a bigint.
import { describe, expect, it } from 'vitest';
import { requestSeed, resultSeed } from '../../src/engine/index.js';
import { finals, request } from './helpers.js';

describe('resultSeed and requestSeed', () => {
  it('add the index exactly, as a number while the sum is safe and a bigint beyond', () => {
    expect(resultSeed(41, 1)).toBe(42);
    expect(resultSeed(Number.MAX_SAFE_INTEGER - 1, 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(resultSeed(Number.MAX_SAFE_INTEGER, 1)).toBe(9_007_199_254_740_992n);
    expect(resultSeed(Number.MAX_SAFE_INTEGER, 2)).toBe(9_007_199_254_740_993n);
    expect(resultSeed(9_223_372_036_854_775_806n, 1)).toBe(9_223_372_036_854_775_807n);
    expect(resultSeed(5n, 1)).toBe(6);
  });

  it('give a request a bigint seed exactly when its last result passes 2^53 - 1', () => {
    expect(requestSeed(Number.MAX_SAFE_INTEGER - 1, 2)).toBe(Number.MAX_SAFE_INTEGER - 1);
    expect(requestSeed(Number.MAX_SAFE_INTEGER - 1, 3)).toBe(9_007_199_254_740_990n);
    expect(requestSeed(9_223_372_036_854_775_806n, 2)).toBe(9_223_372_036_854_775_806n);
    expect(requestSeed(42n, 20)).toBe(42);
  });
});

describe('the procedural engine with seeds beyond 2^53 - 1', () => {
  it('gives result k the seed s + k exactly, and renders a different image for each', async () => {
    const batch = await finals(request({ seed: 9_223_372_036_854_775_805n, numberResults: 3 }));
    expect(batch.map((event) => event.seed)).toEqual([9_223_372_036_854_775_805n, 9_223_372_036_854_775_806n, 9_223_372_036_854_775_807n]);
    expect(new Set(batch.map((event) => Buffer.from(event.image).toString('base64'))).size).toBe(3);
  });

  it('renders seeds that one double cannot tell apart as different images (2^53 and 2^53 + 1)', async () => {
    const [a, b] = await finals(request({ seed: 9_007_199_254_740_992n, numberResults: 2 }));
    expect([a?.seed, b?.seed]).toEqual([9_007_199_254_740_992n, 9_007_199_254_740_993n]);
    expect(Buffer.from(a?.image ?? [])).not.toEqual(Buffer.from(b?.image ?? []));
  });

  it('renders result k of a batch as a one-result request of seed s + k, across 2^53 and as number or bigint', async () => {
    const batch = await finals(request({ seed: Number.MAX_SAFE_INTEGER - 1, numberResults: 3 }));
    expect(batch.map((event) => event.seed)).toEqual([Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER, 9_007_199_254_740_992n]);
    const [single] = await finals(request({ seed: 9_007_199_254_740_992n }));
    expect(Buffer.from(single?.image ?? [])).toEqual(Buffer.from(batch[2]?.image ?? []));
    const [asBigint] = await finals(request({ seed: BigInt(Number.MAX_SAFE_INTEGER) }));
    expect(Buffer.from(asBigint?.image ?? [])).toEqual(Buffer.from(batch[1]?.image ?? []));
  });
});
