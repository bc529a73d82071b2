// The JSON that `generate --json` prints: indented for people, and exact for seeds above 2^53 - 1,
// which travel as bigints (JSON.stringify throws on them, and a double would round them).
import { randomUUID } from 'node:crypto';

/** JSON.stringify with two-space indentation, a bigint written as a number with its own digits. */
export function jsonText(value: unknown): string {
  // A marker made now cannot occur in any other string of the value.
  const marker = `bigint-${randomUUID()}:`;
  const text = JSON.stringify(value, (_key, member: unknown) => (typeof member === 'bigint' ? `${marker}${member.toString()}` : member), 2);
  return text.split(`"${marker}`).reduce((joined, part) => joined + part.replace(/^(-?\d+)"/, '$1'));
}
