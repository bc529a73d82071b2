// Seeded randomness for the procedural engine: string hashing and a small PRNG, so a seed, prompt
// and model give the same picture on every run and every machine.

/** A generator of numbers in [0, 1). */
export type Random = () => number;

/** 32-bit hash of a string (FNV-1a with a murmur3 finaliser, so nearby strings spread apart). */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return finalise(h);
}

/**
 * Hashes several values into one 32-bit seed; order matters. A number and a bigint of the same
 * integer hash alike (both print their decimal digits), so a seed's picture does not depend on its type.
 */
export function hashParts(...parts: readonly (string | number | bigint)[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // The separator keeps ("ab", "c") and ("a", "bc") apart.
    h = hashString(`${part}\u241f`, h);
  }
  return h;
}

function finalise(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32: tiny, fast and good enough for picking shapes and noise lattices. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A number in [min, max). */
export function between(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}

/** An integer in [min, max]. */
export function integerBetween(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** One item, chosen with probability proportional to `weight(item)`. */
export function pickWeighted<T>(random: Random, items: readonly T[], weight: (item: T) => number): T {
  const first = items[0];
  if (first === undefined) throw new RangeError('pickWeighted needs at least one item');
  let total = 0;
  for (const item of items) total += weight(item);
  let target = random() * total;
  for (const item of items) {
    target -= weight(item);
    if (target < 0) return item;
  }
  return first;
}
