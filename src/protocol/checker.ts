// Collects every problem of one task as protocol error items. Each check states its rule and
// the value received in the message ("width must be a multiple of 64 from 128 to 2048; got 500").
import { protocolError, type ErrorCode, type ParameterType, type ProtocolErrorItem } from './error-codes.js';
import { parseImageRef, isHttpUrl } from './image-ref.js';

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

const MAX_SHOWN = 40;

/** A short, safe rendering of a received value for a message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return `${JSON.stringify(shown)} (string of ${value.length} characters)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return 'an object';
}

function bound(value: number, label: string | undefined): string {
  return label === undefined ? String(value) : `${label} (${value})`;
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

/** Gathers the errors of one task; every check returns the value when it passed. */
export class TaskChecker {
  readonly errors: ProtocolErrorItem[] = [];
  readonly #taskType: string | undefined;
  readonly #taskUUID: string | undefined;

  constructor(taskType: string | undefined, taskUUID: string | undefined) {
    this.#taskType = taskType;
    this.#taskUUID = taskUUID;
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }

  fail(code: ErrorCode, parameter: string, type: ParameterType, message: string): void {
    this.errors.push(protocolError(code, message, { parameter, type, taskType: this.#taskType, taskUUID: this.#taskUUID }));
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

  /** Reports every key of `object` not in `known` as unknownParameter. */
  onlyKnown(object: Record<string, unknown>, known: ReadonlySet<string>, prefix = ''): void {
    for (const key of Object.keys(object)) {
      if (!known.has(key)) {
        this.fail('unknownParameter', `${prefix}${key}`, 'object', `${prefix}${key} is not a parameter of ${prefix === '' ? this.#taskType ?? 'this task' : prefix.slice(0, -1)}`);
      }
    }
  }
}
