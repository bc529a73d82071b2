// The emulator's options and their defaults. The timing defaults are the real service's documented
// values (120 s idle close, 120 s resume buffer); the others keep tests fast and deterministic.

/** What the emulator does with a field a task's documentation does not list. */
export type UnknownFieldMode =
  /** `unknownParameter`, naming the field in `parameter` and the message. */
  | 'rejectNamed'
  /** `unsupportedParameter` with a generic message and no `parameter`: the client cannot tell which field. */
  | 'rejectUnnamed'
  /** The field is ignored, the task runs. */
  | 'ignore';

/** Whether an `errors` frame also carries `"data": []` (the real service sometimes sends both). */
export type EmptyDataWithErrors = 'never' | 'always' | 'seeded';

/** Options of {@link startRunwareEmulator}. Every field is optional. */
export interface RunwareEmulatorOptions {
  /** Accepted API keys; default: any non-empty string. */
  readonly apiKeys?: readonly string[];
  /** Unknown-field mode; default `'rejectNamed'`. */
  readonly unknownFields?: UnknownFieldMode;
  /** A socket is closed after this long without a client frame; default 120 000 (the documented 120 s). */
  readonly idleTimeoutMs?: number;
  /** How long a session whose socket dropped keeps its undelivered results; default 120 000 (documented). */
  readonly resumeWindowMs?: number;
  /** How long a finished task stays known to `getResponse` and to the `conflictTaskUUID` check; default 600 000. */
  readonly retentionMs?: number;
  /** Time one image (or one batch, see `resultsPerFrame`) takes; default 5. 0 makes each image the next timer tick. */
  readonly imageDelayMs?: number;
  /** Delay before an authentication is answered (frames that arrive meanwhile are queued, then run); default 0. */
  readonly authDelayMs?: number;
  /** `'one'` (default): one result item per frame. `'batched'`: up to `batchSize` items of the same task per frame. */
  readonly resultsPerFrame?: 'one' | 'batched';
  /** Items per frame in `'batched'` mode; default 2. */
  readonly batchSize?: number;
  /** Whether error frames carry `"data": []` beside `"errors"`; default `'seeded'` (a seeded coin per frame). */
  readonly emptyDataWithErrors?: EmptyDataWithErrors;
  /** Seed of every random choice (default seeds of images, the coin above); default 1. */
  readonly seed?: number;
  /** The code `getResponse` answers for a taskUUID it does not know; default `'taskFailedOrNotFound'` (the official SDKs' name). */
  readonly notFoundCode?: string;
  /** Known model AIRs; a well-formed AIR not listed is refused (`invalidModel`). Default: every well-formed AIR. */
  readonly models?: readonly string[];
  /** `cost` of one image when a task asks `includeCost`; default 0.0013 (the docs' example). */
  readonly costPerImage?: number;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  readonly apiKeys: ReadonlySet<string> | undefined;
  readonly unknownFields: UnknownFieldMode;
  readonly idleTimeoutMs: number;
  readonly resumeWindowMs: number;
  readonly retentionMs: number;
  readonly imageDelayMs: number;
  readonly authDelayMs: number;
  readonly resultsPerFrame: 'one' | 'batched';
  readonly batchSize: number;
  readonly emptyDataWithErrors: EmptyDataWithErrors;
  readonly seed: number;
  readonly notFoundCode: string;
  readonly models: ReadonlySet<string> | undefined;
  readonly costPerImage: number;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`runware emulator: ${name} must be a finite number >= 0; got ${value}`);
  return value;
}

/** Applies the defaults; throws a RangeError for a nonsensical value. */
export function resolveOptions(options: RunwareEmulatorOptions): ResolvedOptions {
  const batchSize = nonNegative('batchSize', options.batchSize, 2);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`runware emulator: batchSize must be an integer >= 1; got ${batchSize}`);
  return {
    apiKeys: options.apiKeys === undefined ? undefined : new Set(options.apiKeys),
    unknownFields: options.unknownFields ?? 'rejectNamed',
    idleTimeoutMs: nonNegative('idleTimeoutMs', options.idleTimeoutMs, 120_000),
    resumeWindowMs: nonNegative('resumeWindowMs', options.resumeWindowMs, 120_000),
    retentionMs: nonNegative('retentionMs', options.retentionMs, 600_000),
    imageDelayMs: nonNegative('imageDelayMs', options.imageDelayMs, 5),
    authDelayMs: nonNegative('authDelayMs', options.authDelayMs, 0),
    resultsPerFrame: options.resultsPerFrame ?? 'one',
    batchSize,
    emptyDataWithErrors: options.emptyDataWithErrors ?? 'seeded',
    seed: options.seed ?? 1,
    notFoundCode: options.notFoundCode ?? 'taskFailedOrNotFound',
    models: options.models === undefined ? undefined : new Set(options.models),
    costPerImage: nonNegative('costPerImage', options.costPerImage, 0.0013),
  };
}
