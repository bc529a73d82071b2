// Writes JSON with exact bigints: a seed above 2^53 - 1 travels as a bigint and must reach the wire
// as its own digits, where JSON.stringify would throw ("Do not know how to serialize a BigInt").
import { newTaskUUID } from './task-uuid.js';

/**
 * JSON.stringify, except that a bigint becomes a JSON number with its exact digits. Values without
 * a bigint take JSON.stringify's own path and cost nothing more; with one, each bigint is written
 * as a string holding a marker made now (so no other string can hold it) and its digits, and the
 * quotes around those strings are then removed.
 */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    // Only a bigint (or a cycle, which no frame has) makes JSON.stringify throw a TypeError.
    if (!(error instanceof TypeError)) throw error;
  }
  const marker = `bigint-${newTaskUUID()}:`;
  const text = JSON.stringify(value, (_key, member: unknown) => (typeof member === 'bigint' ? `${marker}${member.toString()}` : member));
  return text.split(`"${marker}`).reduce((joined, part) => joined + part.replace(/^(-?\d+)"/, '$1'));
}
