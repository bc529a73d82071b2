// Bounded descriptions of received values for error messages: a message quotes a short preview of
// what it got, never the whole value, so hostile input can neither make an answer large nor throw.

/** UTF-16 units of a received string shown in a message before it is cut. */
export const PREVIEW_LENGTH = 40;
/** Keys of a received object counted for its description; beyond it the count says "more than". */
const MAX_COUNTED_KEYS = 1_000;
/** Bigints at least this large in magnitude are described by size: printing one costs quadratic time. */
const LARGE_BIGINT = 10n ** 24n;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * `text` cut to at most `max` UTF-16 units, the last of them '…' when it was cut. The cut never
 * splits a surrogate pair, so the result is as well-formed as the input.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - 1;
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end--;
  return `${text.slice(0, end)}…`;
}

/** A received string as a message shows it: quoted, at most {@link PREVIEW_LENGTH} units of it. */
export function quoteText(text: string, max = PREVIEW_LENGTH): string {
  // The cut is ours and short, so serialising it is bounded work; JSON quoting escapes control characters.
  return JSON.stringify(cutText(text, max));
}

/** How many own enumerable keys `object` has, counting at most `limit` + 1. */
function countKeys(object: object, limit: number): number {
  let count = 0;
  for (const key in object) {
    if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
    if (++count > limit) break;
  }
  return count;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * A short, safe rendering of a received value for a message: strings as a quoted preview with
 * their length, numbers and booleans as they are, bigints cut to a few dozen digits, arrays and
 * objects by kind and size without looking inside. Never throws, whatever the value.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'nothing';
    case 'string':
      return `${quoteText(value)} (string of ${value.length} characters)`;
    case 'number':
    case 'boolean':
      return `${value}`;
    case 'bigint': {
      // A bigint from a frame has at most 20 digits; one made in code may have any number.
      if (value > -LARGE_BIGINT && value < LARGE_BIGINT) return value.toString();
      // Hexadecimal printing is linear; each hex digit is log10(16) decimal digits.
      const hexDigits = (value < 0n ? -value : value).toString(16).length;
      return `an integer of about ${Math.round(hexDigits * Math.log10(16))} digits`;
    }
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of ${value.length}`;
      const keys = countKeys(value, MAX_COUNTED_KEYS);
      return keys > MAX_COUNTED_KEYS ? `an object with more than ${MAX_COUNTED_KEYS} keys` : `an object with ${plural(keys, 'key', 'keys')}`;
    }
    default:
      return `a ${typeof value}`;
  }
}
