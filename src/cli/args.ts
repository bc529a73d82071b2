// Parsers for CLI option values; each throws commander's InvalidArgumentError with the rule broken.
import { InvalidArgumentError } from 'commander';
import { limits } from '../protocol/index.js';

/** Parses `WIDTHxHEIGHT`, e.g. `512x768`. The protocol's own rules are checked later by validation. */
export function parseSize(value: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`expected WIDTHxHEIGHT such as 512x512; got "${value}"`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** Parses a whole number. */
export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number; got "${value}"`);
  return Number(value);
}

/**
 * Parses a seed: a whole number from 1 to 2^63 - 1, read digit for digit (a double would round
 * 9223372036854775807 to 9223372036854775808), a bigint above 2^53 - 1.
 */
export function parseSeed(value: string): number | bigint {
  const rule = `expected a whole number from ${limits.seed.min} to ${limits.seed.max}`;
  const text = value.trim();
  if (!/^[+-]?\d+$/.test(text)) throw new InvalidArgumentError(`${rule}; got "${value}"`);
  const seed = BigInt(text);
  if (seed < BigInt(limits.seed.min) || seed > limits.seed.max) throw new InvalidArgumentError(`${rule}; got ${seed}`);
  return seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed;
}

/** Parses a decimal number. */
export function parseNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new InvalidArgumentError(`expected a number; got "${value}"`);
  return number;
}

export type CliFormat = 'png' | 'jpg' | 'webp';

/** Parses an output format name. */
export function parseFormat(value: string): CliFormat {
  const lower = value.toLowerCase();
  if (lower === 'png' || lower === 'jpg' || lower === 'webp') return lower;
  if (lower === 'jpeg') return 'jpg';
  throw new InvalidArgumentError(`expected png, jpg or webp; got "${value}"`);
}

/** Parses a TCP port (0 picks a free one). */
export function parsePort(value: string): number {
  const port = parseInteger(value);
  if (port < 0 || port > 65535) throw new InvalidArgumentError(`expected a port from 0 to 65535; got ${port}`);
  return port;
}

/** Collects a repeatable option into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A repeatable option whose values may also come comma-separated (from an environment variable). */
export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim()).filter((item) => item.length > 0)];
}
