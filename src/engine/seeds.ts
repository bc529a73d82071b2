// Seed arithmetic for engines: result k of a request carries seed + k, exactly. Seeds run up to
// 2^63 - 1, past what a JavaScript number holds, so a seed is a number while it is safe and a bigint beyond.

/** A seed as engines see it: a number up to 2^53 - 1, a bigint above. */
export type Seed = number | bigint;

/**
 * The seed of result `index`: `seed + index`, exactly. A number while the sum is at most
 * `Number.MAX_SAFE_INTEGER`, else a bigint, so `request.seed + index` never rounds silently.
 */
export function resultSeed(seed: Seed, index: number): Seed {
  if (typeof seed === 'number' && Number.isSafeInteger(seed + index)) return seed + index;
  const sum = BigInt(seed) + BigInt(index);
  return sum <= BigInt(Number.MAX_SAFE_INTEGER) && sum >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(sum) : sum;
}

/**
 * The seed of a request as {@link EngineRequest} gives it: a number when every result's seed
 * (`seed` to `seed + numberResults - 1`) is a safe integer, else a bigint. An engine that adds the
 * index to a number seed therefore never loses precision; one that meets a bigint must add
 * `BigInt(index)` (or call {@link resultSeed}).
 */
export function requestSeed(seed: Seed, numberResults: number): Seed {
  const last = resultSeed(seed, Math.max(0, numberResults - 1));
  if (typeof last === 'bigint') return BigInt(seed);
  return typeof seed === 'bigint' ? Number(seed) : seed;
}
