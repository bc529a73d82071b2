// The one test for "a JSON object" that decoding, validation and both ends share: a received value
// is read field by field only after it passed this.

/** True for a non-null object that is not an array: what JSON calls an object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
