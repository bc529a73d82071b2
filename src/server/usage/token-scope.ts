// The scope a session token is minted with: which models, how large and how many images its tasks
// may ask for, how many tasks a minute and how much cost (USD) they may spend. Read strictly from
// the body of POST /v1/tokens; sealed into the token, so it cannot be changed by its holder.
import { describeValue, isRecord, quoteText } from '../../protocol/index.js';

/** What the tasks of a scoped token may do; every field is optional (absent: no bound of this kind). */
export interface TokenScope {
  /** AIR ids the token's tasks may use (compared without letter case). */
  readonly models?: readonly string[];
  readonly maxNumberResults?: number;
  readonly maxWidth?: number;
  readonly maxHeight?: number;
  readonly maxSteps?: number;
  /** Tasks the token may submit per minute (a fixed window on the minute). */
  readonly tasksPerMinute?: number;
  /** Cost (USD) the token's tasks may spend; once reached, it runs no more tasks. */
  readonly budget?: number;
}

/** A token's identity and scope, as a verified token gives them to the task core. */
export interface TokenGrant {
  /** The random id of the token (not a secret: it names the token in usage, never stands for it). */
  readonly id: string;
  readonly scope: TokenScope;
  /** When the token stops working, ms since the epoch (its counters need to live no longer). */
  readonly expiresAtMs: number;
}

/** What is wrong with a scope: the field (`scope.maxWidth`) and why. */
export interface ScopeProblem {
  readonly parameter: string;
  readonly message: string;
}

/** Most models a scope may list: the list travels inside the token. */
export const MAX_SCOPE_MODELS = 8;
/** Longest AIR id a scope may list. */
const MAX_MODEL_CHARS = 96;
const AIR = /^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$/;

/** The integer fields of a scope and their largest value (anything above bounds nothing a task can ask). */
const INTEGER_FIELDS = { maxNumberResults: 1_000, maxWidth: 100_000, maxHeight: 100_000, maxSteps: 10_000, tasksPerMinute: 1_000_000 } as const;
/** The largest budget, USD. */
const MAX_BUDGET = 1e9;
const FIELDS: readonly string[] = ['models', ...Object.keys(INTEGER_FIELDS), 'budget'];

type IntegerField = keyof typeof INTEGER_FIELDS;
type Mutable = { -readonly [K in keyof TokenScope]: TokenScope[K] };

function readModels(value: unknown): readonly string[] | ScopeProblem {
  if (!Array.isArray(value)) return { parameter: 'scope.models', message: `scope.models must be a list of AIR ids; got ${describeValue(value)}` };
  if (value.length === 0 || value.length > MAX_SCOPE_MODELS) return { parameter: 'scope.models', message: `scope.models must list 1 to ${MAX_SCOPE_MODELS} models; got ${value.length}` };
  const models: string[] = [];
  for (const [index, model] of value.entries()) {
    if (typeof model !== 'string' || model.length > MAX_MODEL_CHARS || !AIR.test(model)) {
      return { parameter: `scope.models[${index}]`, message: `scope.models[${index}] must be an AIR id like runware:101@1 of at most ${MAX_MODEL_CHARS} characters; got ${describeValue(model)}` };
    }
    models.push(model);
  }
  return models;
}

function readInteger(name: IntegerField, value: unknown): number | ScopeProblem {
  const max = INTEGER_FIELDS[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    return { parameter: `scope.${name}`, message: `scope.${name} must be an integer from 1 to ${max}; got ${describeValue(value)}` };
  }
  return value;
}

function readBudget(value: unknown): number | ScopeProblem {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_BUDGET) {
    return { parameter: 'scope.budget', message: `scope.budget must be a number of USD above 0 and at most ${MAX_BUDGET}; got ${describeValue(value)}` };
  }
  return value;
}

/** True when readScope answered a problem. */
export function isScopeProblem(value: unknown): value is ScopeProblem {
  return isRecord(value) && typeof value.parameter === 'string';
}

/** Reads the `scope` of a token request; a problem names the first field at fault. */
export function readScope(value: unknown): TokenScope | ScopeProblem {
  if (!isRecord(value)) return { parameter: 'scope', message: `scope must be a JSON object; got ${describeValue(value)}` };
  const scope: Mutable = {};
  for (const key of Object.keys(value)) {
    if (!FIELDS.includes(key)) return { parameter: `scope.${cutKey(key)}`, message: `unknown scope field ${quoteText(key)}; the fields are ${FIELDS.join(', ')}` };
    const field = value[key];
    const read = key === 'models' ? readModels(field) : key === 'budget' ? readBudget(field) : readInteger(key as IntegerField, field);
    if (isScopeProblem(read)) return read;
    (scope as Record<string, unknown>)[key] = read;
  }
  return scope;
}

/** A hostile key name is cut before it becomes a parameter path. */
function cutKey(key: string): string {
  return key.length > 40 ? `${key.slice(0, 40)}...` : key;
}

/** True when `value` is a scope as {@link readScope} makes them (how an opened token's scope is checked again). */
export function isScope(value: unknown): value is TokenScope {
  return !isScopeProblem(readScope(value)) && isRecord(value);
}
