// Typed reads of request parameters for the OpenAI-style faces: JSON values as they are, form
// text coerced to numbers and booleans, null meaning "the default", every failure a 400 naming the parameter.
import { cutText, describeValue as describeReceived, quoteText } from '../../protocol/index.js';
import { invalidParam } from './errors.js';
import { isUploadedFile, type ParsedBody } from './request-body.js';

/** UTF-16 units of a received parameter name quoted in an answer. */
const MAX_NAME_LENGTH = 64;

/**
 * A short, safe description of a value for error messages (never a whole prompt or image): a file
 * part, or the protocol's bounded description (a string as its quoted preview, without its length).
 */
export function describeValue(value: unknown): string {
  if (isUploadedFile(value)) return 'a file';
  if (typeof value === 'string') return quoteText(value);
  return describeReceived(value);
}

const numberText = /^\s*-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

/** Reads the parameters of one parsed body. */
export class ParamReader {
  readonly #fields: Readonly<Record<string, unknown>>;
  readonly #form: boolean;

  constructor(body: ParsedBody) {
    this.#fields = body.fields;
    this.#form = body.form;
  }

  /** Fails on the first parameter not in `known`. */
  onlyKnown(known: ReadonlySet<string>): void {
    for (const name of Object.keys(this.#fields)) {
      if (known.has(name)) continue;
      // A received name may be a megabyte long: the answer quotes the start of it.
      const shown = cutText(name, MAX_NAME_LENGTH);
      throw invalidParam(shown, `unknown parameter '${shown}'`, 'unknown_parameter');
    }
  }

  /** The value as sent (arrays included), or undefined when absent or null. */
  raw(name: string): unknown {
    const value = Object.prototype.hasOwnProperty.call(this.#fields, name) ? this.#fields[name] : undefined;
    return value === null ? undefined : value;
  }

  /** The value, or undefined when absent or null (null means "the default" in these APIs). */
  get(name: string): unknown {
    const value = this.raw(name);
    if (Array.isArray(value) && this.#form) throw invalidParam(name, `'${name}' was sent more than once`);
    return value;
  }

  string(name: string): string | undefined {
    const value = this.get(name);
    if (value === undefined || typeof value === 'string') return value;
    throw invalidParam(name, `'${name}' must be a string; got ${describeValue(value)}`, 'invalid_type');
  }

  number(name: string, range: { readonly min: number; readonly max: number }, integer: boolean): number | undefined {
    const raw = this.get(name);
    if (raw === undefined) return undefined;
    const value = this.#form && typeof raw === 'string' && numberText.test(raw) ? Number(raw) : raw;
    const kind = integer ? 'an integer' : 'a number';
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidParam(name, `'${name}' must be ${kind}; got ${describeValue(raw)}`, 'invalid_type');
    if ((integer && !Number.isInteger(value)) || value < range.min || value > range.max) {
      throw invalidParam(name, `'${name}' must be ${kind} from ${range.min} to ${range.max}; got ${describeValue(raw)}`);
    }
    return value;
  }

  boolean(name: string): boolean | undefined {
    const raw = this.get(name);
    if (raw === undefined || typeof raw === 'boolean') return raw;
    if (this.#form && (raw === 'true' || raw === 'false')) return raw === 'true';
    throw invalidParam(name, `'${name}' must be a boolean; got ${describeValue(raw)}`, 'invalid_type');
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined || (values as readonly string[]).includes(value)) return value as T | undefined;
    throw invalidParam(name, `'${name}' must be one of ${values.join(', ')}; got ${describeValue(value)}`);
  }

  /**
   * Text with a length in characters (code points). Absent, null or (when optional) blank is
   * undefined; a required one that is missing is `missing_required_parameter`.
   */
  text(name: string, limits: { readonly min: number; readonly max: number }, required: boolean): string | undefined {
    const value = this.string(name);
    if (value === undefined || (!required && value.trim() === '')) {
      if (required) throw invalidParam(name, `'${name}' is required`, 'missing_required_parameter');
      return undefined;
    }
    const length = [...value].length;
    if (value.trim().length === 0 || length < limits.min || length > limits.max) {
      throw invalidParam(name, `'${name}' must be ${limits.min} to ${limits.max} characters (not only white space); got ${length}`);
    }
    return value;
  }

  /** A seed: an integer in `range`, as a number or (as the images API documents it) a string of digits. */
  seed(name: string, range: { readonly min: number; readonly max: number }): number | undefined {
    const raw = this.get(name);
    if (raw === undefined) return undefined;
    const value = typeof raw === 'string' && /^\s*\d{1,16}\s*$/.test(raw) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      throw invalidParam(name, `'${name}' must be an integer from ${range.min} to ${range.max}, as a number or a string of digits; got ${describeValue(raw)}`);
    }
    return value;
  }
}
