// The error items the emulated service answers with, and the codes it uses. The shape is the
// documented one ({code, message, parameter, type, taskType, taskUUID}); the codes follow the
// real service's families as the official SDKs map them (invalid*, missing*, unknownParameter,
// unsupported*, conflictTaskUUID, taskFailedOrNotFound, invalidApiKey ...).

/** One item of an `errors` array. */
export interface ErrorItem {
  readonly code: string;
  readonly message: string;
  /** The parameter at fault (a dotted/indexed path inside nested objects). */
  readonly parameter?: string;
  /** The JSON type the parameter should have. */
  readonly type?: string;
  readonly taskType?: string;
  readonly taskUUID?: string;
  readonly min?: number;
  readonly max?: number;
}

/** The fixed codes (per-parameter codes are `missing<Param>` / `invalid<Param>`, built by {@link paramCode}). */
export const codes = {
  /** The frame is not JSON. */
  invalidJSON: 'invalidJSON',
  /** The frame is JSON but not an array of task objects, or it is a binary frame. */
  invalidRequest: 'invalidRequest',
  /** A task without `taskType`. */
  missingTaskType: 'missingTaskType',
  /** A `taskType` the service does not know. */
  unsupportedTaskType: 'unsupportedTaskType',
  /** A task sent before the socket authenticated. */
  missingApiKey: 'missingApiKey',
  /** A wrong or empty key. */
  invalidApiKey: 'invalidApiKey',
  /** A field the documentation does not list, named. */
  unknownParameter: 'unknownParameter',
  /** A field the documentation does not list, not named. */
  unsupportedParameter: 'unsupportedParameter',
  /** A taskUUID already used by a known task of the same key (HTTP 409 on the REST face). */
  conflictTaskUUID: 'conflictTaskUUID',
  /** A task that failed while running (a fault). */
  inferenceError: 'inferenceError',
} as const;

/** `missing` or `invalid` + the parameter's top-level name, capitalised: `invalidWidth`, `missingPositivePrompt`. */
export function paramCode(kind: 'missing' | 'invalid', parameter: string): string {
  const top = /^[A-Za-z0-9]+/.exec(parameter)?.[0] ?? parameter;
  return `${kind}${top.charAt(0).toUpperCase()}${top.slice(1)}`;
}

/** The item for a task-level problem, with the task's identity when it has one. */
export function taskError(
  code: string,
  message: string,
  task: { readonly taskType?: string | undefined; readonly taskUUID?: string | undefined },
  extra: { readonly parameter?: string; readonly type?: string; readonly min?: number; readonly max?: number } = {},
): ErrorItem {
  return {
    code,
    message,
    ...(extra.parameter === undefined ? {} : { parameter: extra.parameter }),
    ...(extra.type === undefined ? {} : { type: extra.type }),
    ...(task.taskType === undefined ? {} : { taskType: task.taskType }),
    ...(task.taskUUID === undefined ? {} : { taskUUID: task.taskUUID }),
    ...(extra.min === undefined ? {} : { min: extra.min }),
    ...(extra.max === undefined ? {} : { max: extra.max }),
  };
}

/** The text of an errors frame; `withEmptyData` adds `"data": []` before `"errors"`. */
export function errorsFrame(items: readonly ErrorItem[], withEmptyData: boolean): string {
  return JSON.stringify(withEmptyData ? { data: [], errors: items } : { errors: items });
}

/** The text of a data frame. */
export function dataFrame(items: readonly object[]): string {
  return JSON.stringify({ data: items });
}
