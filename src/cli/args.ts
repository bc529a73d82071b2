// Parsers for CLI option values; each throws commander's InvalidArgumentError with the rule broken.
import { InvalidArgumentError } from 'commander';

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
