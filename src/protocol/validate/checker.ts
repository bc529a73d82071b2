// Collects every problem of one task as protocol error items. Each check states its rule and
// the value received in the message ("width must be a multiple of 64 from 128 to 2048; got 500").
// The items of one task are capped: a frame with 300,000 unknown keys gets a few dozen, not 300,000.
import { cutText, describeValue } from './describe.js';
import { errorBounds, leftOutItem } from './error-bounds.js';
import { protocolError, type ErrorCode, type ParameterType, type ProtocolErrorItem } from '../error-codes.js';
import { parseImageRef, isHttpUrl } from '../image-ref.js';

export interface NumberRule {
  min?: number;
  max?: number;
  multipleOf?: number;
  /** Extra words naming where the bounds come from, e.g. "(steps)". */
  maxLabel?: string | undefined;
  minLabel?: string | undefined;
}

export interface LengthRule {
  minLength?: number;
  maxLength?: number;
}

/** UTF-16 units of a received member name quoted in a parameter path or message. */
const MAX_NAME_LENGTH = 64;

/** A received member name as a parameter path shows it: cut, so a megabyte-long key stays short. */
export function nameOf(key: string): string {
  return cutText(key, MAX_NAME_LENGTH);
}

function bound(value: number, label: string | undefined): string {
  return label === undefined ? `${value}` : `${label} (${value})`;
}

function numberRuleText(kind: 'an integer' | 'a number', rule: NumberRule): string {
  const head = rule.multipleOf !== undefined ? `a multiple of ${rule.multipleOf}` : kind;
  if (rule.min !== undefined && rule.max !== undefined) {
    return `${head} from ${bound(rule.min, rule.minLabel)} to ${bound(rule.max, rule.maxLabel)}`;
  }
  if (rule.min !== undefined) return `${head} of at least ${bound(rule.min, rule.minLabel)}`;
  if (rule.max !== undefined) return `${head} of at most ${bound(rule.max, rule.maxLabel)}`;
  return head;
}

/** Character count in code points, so an emoji counts once. */
function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/**
 * Gathers the errors of one task; every check returns the value when it passed. It keeps at most
 * `errorBounds.maxItems` items: past that, the last item (`tooManyErrors`) counts the problems left
 * out, which are only counted, never built.
 */
export class TaskChecker {
  readonly #items: ProtocolErrorItem[] = [];
  readonly #taskType: string | undefined;
  readonly #taskUUID: string | undefined;
  /** Problems found once the items were full. */
  #leftOut = 0;

  constructor(taskType: string | undefined, taskUUID: string | undefined) {
    this.#taskType = taskType;
    this.#taskUUID = taskUUID;
  }

  get ok(): boolean {
    return this.#items.length === 0;
  }

  /** The error items, at most `errorBounds.maxItems`. */
  get errors(): ProtocolErrorItem[] {
    if (this.#leftOut === 0) return this.#items;
    // The summary takes the last place, and counts the item it displaces.
    const summary = leftOutItem(this.#leftOut + 1, { taskType: this.#taskType, taskUUID: this.#taskUUID });
    return [...this.#items.slice(0, errorBounds.maxItems - 1), summary];
  }

  /** True when no more items are kept: further problems are only counted. */
  get full(): boolean {
    return this.#items.length >= errorBounds.maxItems;
  }

  fail(code: ErrorCode, parameter: string, type: ParameterType, message: string): void {
    if (this.full) {
      this.#leftOut++;
      return;
    }
    this.#items.push(protocolError(code, message, { parameter, type, taskType: this.#taskType, taskUUID: this.#taskUUID }));
  }

  /** Fails with `missingCode` when the value is absent (undefined or null); returns whether it is present. */
  required(value: unknown, parameter: string, type: ParameterType, missingCode: ErrorCode): boolean {
    if (value === undefined || value === null) {
      this.fail(missingCode, parameter, type, `${parameter} is required`);
      return false;
    }
    return true;
  }

  integer(value: unknown, parameter: string, code: ErrorCode, rule: NumberRule = {}): number | undefined {
    return this.#number(value, parameter, code, rule, true);
  }

  float(value: unknown, parameter: string, code: ErrorCode, rule: NumberRule = {}): number | undefined {
    return this.#number(value, parameter, code, rule, false);
  }

  #number(value: unknown, parameter: string, code: ErrorCode, rule: NumberRule, integer: boolean): number | undefined {
    const type: ParameterType = integer ? 'integer' : 'float';
    const text = numberRuleText(integer ? 'an integer' : 'a number', rule);
    const wrongType = typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value));
    const outOfRange =
      !wrongType &&
      ((rule.min !== undefined && value < rule.min) ||
        (rule.max !== undefined && value > rule.max) ||
        (rule.multipleOf !== undefined && value % rule.multipleOf !== 0));
    if (wrongType || outOfRange) {
      this.fail(code, parameter, type, `${parameter} must be ${text}; got ${describeValue(value)}`);
      return undefined;
    }
    return value as number;
  }

  string(value: unknown, parameter: string, code: ErrorCode, rule: LengthRule = {}): string | undefined {
    if (typeof value !== 'string') {
      this.fail(code, parameter, 'string', `${parameter} must be a string; got ${describeValue(value)}`);
      return undefined;
    }
    const { minLength, maxLength } = rule;
    if (minLength === undefined && maxLength === undefined) return value;
    // A string longer than twice the limit has more code points than the limit; skip counting it.
    const uncounted = maxLength !== undefined && value.length > maxLength * 2;
    const count = uncounted ? value.length : characterCount(value);
    if ((minLength !== undefined && count < minLength) || (maxLength !== undefined && count > maxLength)) {
      const range =
        minLength !== undefined && maxLength !== undefined
          ? `from ${minLength} to ${maxLength} characters long`
          : minLength !== undefined
            ? `at least ${minLength} characters long`
            : `at most ${maxLength} characters long`;
      // Each code point takes at most two UTF-16 units, so half the length is a true lower bound.
      const got = uncounted ? `at least ${Math.ceil(value.length / 2)} characters` : `${count} characters`;
      this.fail(code, parameter, 'string', `${parameter} must be ${range}; got ${got}`);
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, parameter: string, code: ErrorCode): boolean | undefined {
    if (typeof value !== 'boolean') {
      this.fail(code, parameter, 'boolean', `${parameter} must be true or false; got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  /** One of `allowed`; with `ignoreCase`, returns the allowed spelling. */
  oneOf<T extends string>(value: unknown, parameter: string, code: ErrorCode, allowed: readonly T[], ignoreCase = false): T | undefined {
    if (typeof value === 'string') {
      const found = allowed.find((option) => (ignoreCase ? option.toLowerCase() === value.toLowerCase() : option === value));
      if (found !== undefined) return found;
    }
    this.fail(code, parameter, 'string', `${parameter} must be one of ${allowed.join(', ')}; got ${describeValue(value)}`);
    return undefined;
  }

  object(value: unknown, parameter: string, code: ErrorCode): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(code, parameter, 'object', `${parameter} must be an object; got ${describeValue(value)}`);
      return undefined;
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, parameter: string, code: ErrorCode, maxItems: number): unknown[] | undefined {
    if (!Array.isArray(value)) {
      this.fail(code, parameter, 'array', `${parameter} must be an array; got ${describeValue(value)}`);
      return undefined;
    }
    if (value.length > maxItems) {
      this.fail(code, parameter, 'array', `${parameter} must have at most ${maxItems} entries; got ${value.length}`);
      return undefined;
    }
    return value;
  }

  /** An AIR identifier: `source:id@version`, e.g. runware:101@1 or civitai:102438@133677. */
  air(value: unknown, parameter: string, code: ErrorCode): string | undefined {
    if (typeof value === 'string' && value.length <= 200 && /^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$/.test(value)) {
      return value;
    }
    this.fail(code, parameter, 'string', `${parameter} must be an AIR identifier like runware:101@1 (source:id@version); got ${describeValue(value)}`);
    return undefined;
  }

  /** An image given as an image UUID, a data URI, raw base64 or an http(s) URL. */
  imageRef(value: unknown, parameter: string, code: ErrorCode): string | undefined {
    if (typeof value !== 'string') {
      this.fail(code, parameter, 'string', `${parameter} must be a string (image UUID, data URI, base64 or URL); got ${describeValue(value)}`);
      return undefined;
    }
    const ref = parseImageRef(value);
    if (ref.kind === 'invalid') {
      this.fail(code, parameter, 'string', `${parameter}: ${ref.reason}; got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  httpUrl(value: unknown, parameter: string, code: ErrorCode): string | undefined {
    if (typeof value === 'string' && value.length <= 2048 && isHttpUrl(value)) return value;
    this.fail(code, parameter, 'string', `${parameter} must be an http(s) URL of at most 2048 characters; got ${describeValue(value)}`);
    return undefined;
  }

  /**
   * Reports every key of `object` not in `known` as unknownParameter, its name cut short; once the
   * items are full the rest are only counted.
   */
  onlyKnown(object: Record<string, unknown>, known: ReadonlySet<string>, prefix = ''): void {
    const owner = prefix === '' ? (this.#taskType ?? 'this task') : prefix.slice(0, -1);
    for (const key of Object.keys(object)) {
      if (known.has(key)) continue;
      if (this.full) {
        this.#leftOut++;
        continue;
      }
      const path = `${prefix}${nameOf(key)}`;
      this.fail('unknownParameter', path, 'object', `${path} is not a parameter of ${owner}`);
    }
  }
}
