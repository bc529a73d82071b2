// Reads untrusted JSON text within bounds, and exactly. One linear pass over the text, before
// JSON.parse pays for anything, measures how deep it nests and how many values it holds, and finds
// the integers a double cannot hold; only those are then read again as bigints.
import { newTaskUUID } from './task-uuid.js';

/** How complex a JSON text may be. */
export interface JsonBounds {
  /** Deepest nesting of arrays and objects; a frame's own array is level 1. */
  maxDepth: number;
  /** Most values: every array, object, string, number, boolean and null (member names are not counted). */
  maxValues: number;
}

// The same two as plain constants: an object built from them, unlike one reading the properties
// of defaultJsonBounds, is side-effect free to a bundler and drops out of bundles that do not use it.
export const DEFAULT_MAX_DEPTH = 16;
export const DEFAULT_MAX_VALUES = 131_072;

/**
 * The defaults. The deepest valid task nests 4 levels (frame, task, controlNet, entry); a frame of
 * 256 imageInference tasks with every list full holds about 110,000 values, a typical task 20.
 */
export const defaultJsonBounds = { maxDepth: DEFAULT_MAX_DEPTH, maxValues: DEFAULT_MAX_VALUES } as const satisfies JsonBounds;

/**
 * Longest integer (in digits) read exactly. Longer ones stay doubles: every 64-bit integer has at
 * most 20 digits, and BigInt() of a long digit string costs quadratic time.
 */
const MAX_EXACT_DIGITS = 20;

/** The outcome of reading a JSON text. `tooComplex`: over a bound; `syntax`: not JSON. */
export type ParsedJson = { ok: true; value: unknown } | { ok: false; problem: 'syntax' | 'tooComplex'; reason: string };

/** What the scan found: the value count, and the [start, end) spans of integers to read exactly. */
type Scan = { ok: true; values: number; exact: number[] | undefined } | { ok: false; reason: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function isDigit(code: number): boolean {
  return code >= ZERO && code <= NINE;
}

/** Anything else a number token may hold after its integer part: . e E + - */
function isNumberTail(code: number): boolean {
  return code === 0x2e || code === 0x65 || code === 0x45 || code === 0x2b || code === MINUS;
}

/** Index of the quote closing the string opened at `open`, or the text's length when none does. */
function stringEnd(text: string, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at === -1) return text.length;
    // An odd run of backslashes escapes the quote. Each run is counted once: linear overall.
    let run = 0;
    while (text.charCodeAt(at - 1 - run) === BACKSLASH) run++;
    if (run % 2 === 0) return at;
  }
}

/** True when the digits of text[start, end) (no sign, no leading zero) exceed 2^53 - 1. */
function isUnsafe(text: string, start: number, end: number): boolean {
  const digits = end - start;
  if (digits < 16) return false;
  return digits > 16 || text.slice(start, end) > '9007199254740991';
}

/**
 * Measures a JSON text without building anything: nesting depth and value count against `bounds`,
 * stopping at the first bound passed. For text that is not JSON the counts mean little, and
 * JSON.parse then rejects it; the scan only has to be right about JSON.
 */
function scan(text: string, bounds: JsonBounds): Scan {
  /** For each open level, whether it is an object (whose strings alternate between name and value). */
  const inObject: boolean[] = [false];
  let depth = 0;
  let values = 0;
  let exact: number[] | undefined;
  /** The last character outside strings and white space (a string counts as its quote). */
  let last = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    switch (code) {
      case 0x20:
      case 0x0a:
      case 0x0d:
      case 0x09:
        continue;
      case OPEN_ARRAY:
      case OPEN_OBJECT:
        if (++depth > bounds.maxDepth) return { ok: false, reason: `it nests deeper than ${bounds.maxDepth} levels` };
        inObject[depth] = code === OPEN_OBJECT;
        values++;
        break;
      case CLOSE_ARRAY:
      case CLOSE_OBJECT:
        if (depth > 0) depth--;
        break;
      case QUOTE:
        // In an object, a string right after `{` or `,` is a member name, not a value.
        if (inObject[depth] !== true || (last !== OPEN_OBJECT && last !== COMMA)) values++;
        i = stringEnd(text, i);
        break;
      default:
        if (code === MINUS || isDigit(code)) {
          values++;
          const digitsStart = code === MINUS ? i + 1 : i;
          let end = digitsStart;
          while (end < length && isDigit(text.charCodeAt(end))) end++;
          const integer = end === length || !isNumberTail(text.charCodeAt(end));
          const digits = end - digitsStart;
          // A number where a member name belongs, or with a leading zero, is not JSON: it is left for JSON.parse to refuse.
          const nameExpected = inObject[depth] === true && (last === OPEN_OBJECT || last === COMMA);
          if (integer && !nameExpected && digits <= MAX_EXACT_DIGITS && text.charCodeAt(digitsStart) !== ZERO && isUnsafe(text, digitsStart, end)) {
            (exact ??= []).push(i, end);
          }
          while (end < length && (isDigit(text.charCodeAt(end)) || isNumberTail(text.charCodeAt(end)))) end++;
          i = end - 1;
        } else if (code >= 0x61 && code <= 0x7a) {
          // true, false, null: one value, whose letters are skipped.
          values++;
          while (i + 1 < length && text.charCodeAt(i + 1) >= 0x61 && text.charCodeAt(i + 1) <= 0x7a) i++;
        }
    }
    if (values > bounds.maxValues) return { ok: false, reason: `it holds more than ${bounds.maxValues} values` };
    last = code;
  }
  return { ok: true, values, exact };
}

/**
 * The reason JSON.parse gave, without quoting the text: engines put pieces of it in their messages,
 * and a frame may hold an API key.
 */
function syntaxReason(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const position = /\bposition (\d+)/.exec(message)?.[1];
  return position === undefined ? 'syntax error' : `syntax error at position ${position}`;
}

/**
 * Parses trusted JSON (a server's frames, as a client reads them), returning a reason for malformed
 * input instead of throwing. It bounds nothing: untrusted text goes through {@link parseJsonWithin}.
 */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: syntaxReason(error) };
  }
}

/** Sets a member or element, as an own property even for the name `__proto__`. */
function put(container: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(container, key, { value, writable: true, enumerable: true, configurable: true });
  else (container as Record<string | number, unknown>)[key] = value;
}

/**
 * `value` parsed again from `text` with each unsafe integer read as a bigint. Each integer token is
 * replaced by a string holding a marker made now (so no received string can hold it) and its
 * digits; JSON.parse reads the result, and a walk with an explicit stack turns those strings back.
 */
function readExactly(text: string, spans: readonly number[]): unknown {
  const marker = `${newTaskUUID()}:`;
  const parts: string[] = [];
  let from = 0;
  for (let s = 0; s + 1 < spans.length; s += 2) {
    const start = spans[s] ?? 0;
    const end = spans[s + 1] ?? start;
    parts.push(text.slice(from, start), `"${marker}${text.slice(start, end)}"`);
    from = end;
  }
  parts.push(text.slice(from));
  const root: unknown = JSON.parse(parts.join(''));
  const holder = [root];
  const stack: (Record<string, unknown> | unknown[])[] = [holder];
  for (let container = stack.pop(); container !== undefined; container = stack.pop()) {
    const keys: (string | number)[] = Array.isArray(container) ? container.map((_, index) => index) : Object.keys(container);
    for (const key of keys) {
      const child = (container as Record<string | number, unknown>)[key];
      if (typeof child === 'string') {
        if (child.startsWith(marker)) put(container, key, BigInt(child.slice(marker.length)));
      } else if (typeof child === 'object' && child !== null) {
        stack.push(child as Record<string, unknown> | unknown[]);
      }
    }
  }
  return holder[0];
}

/**
 * Parses untrusted JSON text within `bounds`, never throwing. Before JSON.parse runs, a linear scan
 * refuses text that nests deeper than `maxDepth` or holds more than `maxValues` values, so nothing
 * that walks the result later (validation, serialisation) can exhaust the stack, and a hostile text
 * costs a scan instead of a parse. Integers beyond 2^53 - 1 (up to 20 digits) come back as exact
 * bigints; every other number is a JavaScript number, as JSON.parse gives it.
 */
export function parseJsonWithin(text: string, bounds: Partial<JsonBounds> = {}): ParsedJson {
  const resolved: JsonBounds = { maxDepth: bounds.maxDepth ?? defaultJsonBounds.maxDepth, maxValues: bounds.maxValues ?? defaultJsonBounds.maxValues };
  const measured = scan(text, resolved);
  if (!measured.ok) return { ok: false, problem: 'tooComplex', reason: measured.reason };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's parser is iterative; an engine whose parser recurses throws RangeError on deep nesting.
    if (error instanceof RangeError) return { ok: false, problem: 'tooComplex', reason: 'it nests too deeply to be parsed' };
    return { ok: false, problem: 'syntax', reason: syntaxReason(error) };
  }
  if (measured.exact === undefined) return { ok: true, value };
  try {
    // The text is JSON (JSON.parse took it as it is), so replacing its unsafe integers keeps it JSON.
    return { ok: true, value: readExactly(text, measured.exact) };
  } catch {
    // Unreachable for JSON; the doubles are still the best reading there is.
    return { ok: true, value };
  }
}
