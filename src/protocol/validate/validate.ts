// Validates one decoded task of any known type and returns either the typed task or every
// problem as protocol error items. Never throws on bad input.
import { TaskChecker } from './checker.js';
import { cutText, describeValue, quoteText } from './describe.js';
import { errorBounds } from './error-bounds.js';
import { protocolError, type ProtocolErrorItem } from '../error-codes.js';
import { isRecord } from '../is-record.js';
import { isUuid, isUuidV4 } from '../task-uuid.js';
import { MAX_API_KEY_LENGTH, sessionExtensions, taskTypes, type ClientTask, type TaskType } from '../tasks.js';
import { checkImageInference } from './validate-image-inference.js';

export type ValidationResult<T> = { ok: true; task: T } | { ok: false; errors: ProtocolErrorItem[] };


const authenticationKeys = new Set(['taskType', 'apiKey', 'connectionSessionUUID', 'extensions', 'ack']);
const pingKeys = new Set(['taskType', 'ping', 'taskUUID', 'ack']);
const cancelKeys = new Set(['taskType', 'taskUUID']);
const enableExtensionsKeys = new Set(['taskType', 'extensions', 'ack']);
/**
 * Sequence numbers of the ack extension are non-negative safe integers. The bound is written as
 * arithmetic, not Number.MAX_SAFE_INTEGER: bundlers keep a module-level property read (it might
 * have effects), and with it this module in every client that merely imports the frame codec.
 */
const ackRule = { min: 0, max: 2 ** 53 - 1 };
const imageUploadKeys = new Set(['taskType', 'taskUUID', 'image']);
const getResponseKeys = new Set(['taskType', 'taskUUID']);

/** Task types whose tasks carry no taskUUID of their own. */
const withoutTaskUUID: ReadonlySet<string> = new Set(['authentication', 'ping', 'enableExtensions']);

/**
 * A received value for a message: a bounded preview (never String(), which a JSON object like
 * {"toString":1} makes throw, nor JSON.stringify, which a deep value makes overflow the stack).
 */
function shown(value: unknown): string {
  return typeof value === 'string' ? quoteText(value) : describeValue(value);
}

function isTaskType(value: string): value is TaskType {
  return (taskTypes as readonly string[]).includes(value);
}

/** A list of session extensions; a repeat is harmless, so the bound leaves room for one of each. */
function checkExtensions(c: TaskChecker, value: unknown): void {
  const list = c.array(value, 'extensions', 'invalidExtensions', sessionExtensions.length * 2);
  list?.forEach((name, index) => c.oneOf(name, `extensions[${index}]`, 'invalidExtensions', sessionExtensions));
}

function checkTaskUUID(c: TaskChecker, task: Record<string, unknown>): void {
  if (!c.required(task.taskUUID, 'taskUUID', 'string', 'missingTaskUUID')) return;
  if (!isUuidV4(task.taskUUID)) {
    c.fail('invalidTaskUUID', 'taskUUID', 'string', `taskUUID must be a UUID v4 string (xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx); got ${shown(task.taskUUID)}`);
  }
}

const checkers: Record<TaskType, (c: TaskChecker, task: Record<string, unknown>) => void> = {
  authentication(c, task) {
    c.onlyKnown(task, authenticationKeys);
    if (c.required(task.apiKey, 'apiKey', 'string', 'missingApiKey')) {
      if (typeof task.apiKey !== 'string' || task.apiKey.length === 0 || task.apiKey.length > MAX_API_KEY_LENGTH) {
        // The key itself is never echoed: messages may be logged.
        c.fail('invalidApiKey', 'apiKey', 'string', `apiKey must be a non-empty string of at most ${MAX_API_KEY_LENGTH} characters`);
      }
    }
    if (task.connectionSessionUUID !== undefined && task.connectionSessionUUID !== null && !isUuid(task.connectionSessionUUID)) {
      c.fail('invalidConnectionSessionUUID', 'connectionSessionUUID', 'string', `connectionSessionUUID must be a UUID string; got ${shown(task.connectionSessionUUID)}`);
    }
    // Older imagewire clients turn extensions on here; newer ones send enableExtensions.
    if (task.extensions !== undefined) checkExtensions(c, task.extensions);
    if (task.ack !== undefined) c.integer(task.ack, 'ack', 'invalidAck', ackRule);
  },
  enableExtensions(c, task) {
    c.onlyKnown(task, enableExtensionsKeys);
    if (c.required(task.extensions, 'extensions', 'array', 'missingExtensions')) checkExtensions(c, task.extensions);
    if (task.ack !== undefined) c.integer(task.ack, 'ack', 'invalidAck', ackRule);
  },
  ping(c, task) {
    c.onlyKnown(task, pingKeys);
    if (task.ping !== undefined && task.ping !== true) {
      c.fail('invalidPing', 'ping', 'boolean', `ping must be true; got ${shown(task.ping)}`);
    }
    if (task.ack !== undefined) c.integer(task.ack, 'ack', 'invalidAck', ackRule);
  },
  cancel(c, task) {
    checkTaskUUID(c, task);
    c.onlyKnown(task, cancelKeys);
  },
  imageInference(c, task) {
    checkTaskUUID(c, task);
    checkImageInference(c, task);
  },
  imageUpload(c, task) {
    checkTaskUUID(c, task);
    c.onlyKnown(task, imageUploadKeys);
    if (c.required(task.image, 'image', 'string', 'missingImage')) {
      const image = c.imageRef(task.image, 'image', 'invalidImage');
      if (image !== undefined && isUuid(image)) {
        c.fail('invalidImage', 'image', 'string', 'image must be the image itself (data URI, base64 or URL), not an image UUID');
      }
    }
  },
  getResponse(c, task) {
    checkTaskUUID(c, task);
    c.onlyKnown(task, getResponseKeys);
  },
};

/**
 * Validates one task. `raw` is whatever the frame held at that position; every problem is
 * returned, each naming its parameter, taskType and taskUUID.
 */
export function validateTask(raw: unknown, index?: number): ValidationResult<ClientTask> {
  if (!isRecord(raw)) {
    const where = index === undefined ? 'a task' : `task [${index}]`;
    return {
      ok: false,
      errors: [protocolError('invalidTask', `${where} must be an object; got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`, { parameter: index === undefined ? undefined : `[${index}]`, type: 'object' })],
    };
  }
  // Echoed in every item: cut, so a megabyte-long one stays short (a UUID has 36 units).
  const taskUUID = typeof raw.taskUUID === 'string' ? cutText(raw.taskUUID, errorBounds.maxFieldLength) : undefined;
  const taskType = raw.taskType;
  if (taskType === undefined || taskType === null) {
    return { ok: false, errors: [protocolError('missingTaskType', 'taskType is required', { parameter: 'taskType', type: 'string', taskUUID })] };
  }
  if (typeof taskType !== 'string' || !isTaskType(taskType)) {
    return {
      ok: false,
      errors: [protocolError('unknownTaskType', `taskType must be one of ${taskTypes.join(', ')}; got ${shown(taskType)}`, { parameter: 'taskType', type: 'string', taskType: typeof taskType === 'string' ? cutText(taskType, errorBounds.maxFieldLength) : undefined, taskUUID })],
    };
  }
  const checker = new TaskChecker(taskType, withoutTaskUUID.has(taskType) ? undefined : taskUUID);
  checkers[taskType](checker, raw);
  if (!checker.ok) return { ok: false, errors: checker.errors };
  return { ok: true, task: raw as unknown as ClientTask };
}

/** Validates a task that must be of one type (used by the client before sending). */
export function validateTaskOf<T extends ClientTask>(taskType: T['taskType'], raw: unknown): ValidationResult<T> {
  const result = validateTask(raw);
  if (!result.ok) return result;
  if (result.task.taskType !== taskType) {
    return { ok: false, errors: [protocolError('unknownTaskType', `expected taskType ${taskType}; got ${result.task.taskType}`, { parameter: 'taskType', type: 'string' })] };
  }
  return { ok: true, task: result.task as T };
}
