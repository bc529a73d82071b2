// Encodes and decodes frames. A client frame is a JSON array of tasks; a server frame is
// {"data":[...]} or {"errors":[...]}. Decoding never throws: bad input becomes error items.
import { boundErrorItems } from './validate/error-bounds.js';
import { protocolError, type ProtocolErrorItem } from './error-codes.js';
import { isRecord } from './is-record.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_VALUES, parseJson, parseJsonWithin } from './json-parse.js';
import { stringifyJson } from './json-stringify.js';
import type { ClientTask, ServerDataItem } from './tasks.js';
import { validateTask, type ValidationResult } from './validate/validate.js';

export interface FrameLimits {
  /** Largest frame in bytes (UTF-8). Default 8 MiB: base64 seed images make big frames. */
  maxFrameBytes?: number;
  /** Most tasks in one frame. Default 256. */
  maxTasksPerFrame?: number;
  /** Deepest nesting of arrays and objects, the frame's own array being level 1 (`frameTooComplex`). Default 16; a valid task needs 4. */
  maxFrameDepth?: number;
  /** Most JSON values in one frame, member names not counted (`frameTooComplex`). Default 131,072; 256 full tasks need about 110,000. */
  maxFrameValues?: number;
}

// Built from plain constants so that a browser bundle, which only decodes server frames, drops it.
export const defaultFrameLimits = {
  maxFrameBytes: 8 * 1024 * 1024,
  maxTasksPerFrame: 256,
  maxFrameDepth: DEFAULT_MAX_DEPTH,
  maxFrameValues: DEFAULT_MAX_VALUES,
} as const satisfies Required<FrameLimits>;

export type FrameData = string | Uint8Array | ArrayBuffer;

/** A decoded client frame: the raw entries, or the one problem that stopped decoding. */
export type DecodedClientFrame = { ok: true; entries: unknown[] } | { ok: false; error: ProtocolErrorItem };

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = /* @__PURE__ */ new TextEncoder();

/**
 * The UTF-8 size of a string that is over `maxBytes`, as shown in a message, or undefined when it
 * fits. Counted only when the cheap bounds cannot decide; then the string's length is a lower bound.
 */
function exceedsBytes(text: string, maxBytes: number): string | undefined {
  if (text.length > maxBytes) return `at least ${text.length}`;
  if (text.length * 3 <= maxBytes) return undefined;
  const bytes = utf8Encoder.encode(text).byteLength;
  return bytes > maxBytes ? `${bytes}` : undefined;
}

function byteSize(data: Uint8Array | ArrayBuffer): number {
  return data.byteLength;
}

function frameText(data: FrameData): string {
  if (typeof data === 'string') return data;
  return utf8Decoder.decode(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
}

/**
 * Decodes a client frame into its raw task entries, enforcing its limits: size before anything is
 * decoded, nesting depth and value count before anything is parsed (`frameTooComplex`), then the
 * task count. Integers beyond 2^53 - 1 come back as exact bigints (see {@link parseJsonWithin}).
 */
export function decodeClientFrame(data: FrameData, limits: FrameLimits = {}): DecodedClientFrame {
  const maxBytes = limits.maxFrameBytes ?? defaultFrameLimits.maxFrameBytes;
  const maxTasks = limits.maxTasksPerFrame ?? defaultFrameLimits.maxTasksPerFrame;
  const size = typeof data === 'string' ? exceedsBytes(data, maxBytes) : byteSize(data) > maxBytes ? `${byteSize(data)}` : undefined;
  if (size !== undefined) {
    return { ok: false, error: protocolError('frameTooLarge', `a frame must be at most ${maxBytes} bytes; got ${size}`, { type: 'frame' }) };
  }
  const parsed = parseJsonWithin(frameText(data), {
    maxDepth: limits.maxFrameDepth ?? defaultFrameLimits.maxFrameDepth,
    maxValues: limits.maxFrameValues ?? defaultFrameLimits.maxFrameValues,
  });
  if (!parsed.ok && parsed.problem === 'tooComplex') {
    return { ok: false, error: protocolError('frameTooComplex', `the frame is too complex: ${parsed.reason}`, { type: 'frame' }) };
  }
  if (!parsed.ok) {
    return { ok: false, error: protocolError('invalidJSON', `the frame is not valid JSON (${parsed.reason})`, { type: 'frame' }) };
  }
  if (!Array.isArray(parsed.value)) {
    const got = parsed.value === null ? 'null' : typeof parsed.value;
    return { ok: false, error: protocolError('invalidFrame', `a frame must be a JSON array of task objects; got ${got}`, { type: 'array' }) };
  }
  if (parsed.value.length === 0) {
    return { ok: false, error: protocolError('invalidFrame', 'a frame must hold at least one task; got an empty array', { type: 'array' }) };
  }
  if (parsed.value.length > maxTasks) {
    return { ok: false, error: protocolError('tooManyTasks', `a frame may hold at most ${maxTasks} tasks; got ${parsed.value.length}`, { type: 'array' }) };
  }
  return { ok: true, entries: parsed.value };
}

/** Decodes a client frame and validates each task; frame problems come back as a single result. */
export function decodeAndValidate(data: FrameData, limits: FrameLimits = {}): { frameError?: ProtocolErrorItem; results: ValidationResult<ClientTask>[] } {
  const decoded = decodeClientFrame(data, limits);
  if (!decoded.ok) return { frameError: decoded.error, results: [] };
  return { results: decoded.entries.map((entry, index) => validateTask(entry, index)) };
}

/** Serialises tasks as one client frame; a bigint (a seed above 2^53 - 1) is written with its exact digits. */
export function encodeClientFrame(tasks: readonly ClientTask[] | readonly Record<string, unknown>[]): string {
  return stringifyJson(tasks);
}

/**
 * Serialises result items as `{"data":[...]}`; `seq` numbers the frame under the ack extension. A
 * bigint (a result seed above 2^53 - 1) is written with its exact digits.
 */
export function encodeDataFrame(items: readonly ServerDataItem[], seq?: number): string {
  return stringifyJson(seq === undefined ? { data: items } : { seq, data: items });
}

/**
 * Serialises error items as `{"errors":[...]}`, bounded by {@link boundErrorItems}, so the frame is
 * at most MAX_ERROR_FRAME_BYTES; `seq` numbers the frame under the ack extension.
 */
export function encodeErrorFrame(errors: readonly ProtocolErrorItem[], seq?: number): string {
  const bounded = boundErrorItems(errors);
  return stringifyJson(seq === undefined ? { errors: bounded } : { seq, errors: bounded });
}

/** A server frame as a client sees it. */
export type DecodedServerFrame =
  | { ok: true; data: ServerDataItem[]; errors: ProtocolErrorItem[]; seq?: number }
  | { ok: false; reason: string };

function toErrorItems(value: unknown): ProtocolErrorItem[] {
  const list = Array.isArray(value) ? value : [value];
  const items: ProtocolErrorItem[] = [];
  for (const entry of list) {
    if (!isRecord(entry)) continue;
    const item: ProtocolErrorItem = {
      code: typeof entry.code === 'string' ? entry.code : 'unknownError',
      message: typeof entry.message === 'string' ? entry.message : typeof entry.error === 'string' ? entry.error : 'the server reported an error',
    };
    // Cross-field errors may name several parameters.
    if (typeof entry.parameter === 'string') item.parameter = entry.parameter;
    else if (Array.isArray(entry.parameter)) item.parameter = entry.parameter.filter((p) => typeof p === 'string').join(',');
    if (typeof entry.type === 'string') item.type = entry.type;
    if (typeof entry.taskType === 'string') item.taskType = entry.taskType;
    if (typeof entry.taskUUID === 'string') item.taskUUID = entry.taskUUID;
    items.push(item);
  }
  return items;
}

function toDataItems(value: unknown): ServerDataItem[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((entry): entry is ServerDataItem => isRecord(entry) && typeof entry.taskType === 'string');
}

/** Frames shorter than this are parsed whole: the cut only pays off for image-sized strings. */
const LARGE_FIELD_MIN_CHARS = 64 * 1024;
/** Result fields that hold a whole encoded image, the only strings worth cutting out. */
const LARGE_FIELDS = ['imageBase64Data', 'imageDataURI'] as const;

/**
 * Parses a frame holding one image field without making JSON.parse walk the image: the field's
 * string is sliced out (O(1) in V8), the rest is parsed, and the string is put back. Undefined
 * means "parse it whole", whenever the cut cannot be proven equivalent: the key appears more
 * than once, the value holds a backslash (an escape), or the placeholder is not found where a
 * result item would hold it. Unlike JSON.parse it does not reject raw control characters inside
 * the image string; such a value is not base64 and fails when decoded.
 */
function parseCuttingLargeField(text: string): { ok: true; value: unknown } | undefined {
  for (const key of LARGE_FIELDS) {
    const quotedKey = `"${key}"`;
    const keyAt = text.indexOf(quotedKey);
    if (keyAt === -1) continue;
    if (text.indexOf(quotedKey, keyAt + quotedKey.length) !== -1) return undefined;
    // Inside a JSON string every quote is escaped, so an unescaped `"key":"` is always a member name.
    const open = keyAt + quotedKey.length;
    if (text.charCodeAt(open) !== 0x3a || text.charCodeAt(open + 1) !== 0x22) return undefined;
    const start = open + 2;
    const end = text.indexOf('"', start);
    if (end === -1) return undefined;
    const value = text.slice(start, end);
    // With no backslash, the first quote closes the string and the slice is its exact value.
    if (value.includes('\\')) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.slice(0, start) + text.slice(end));
    } catch {
      return undefined;
    }
    return restoreField(parsed, key, value) ? { ok: true, value: parsed } : undefined;
  }
  return undefined;
}

/** Puts `value` back into the one result item holding the emptied `key`; false if there is none. */
function restoreField(parsed: unknown, key: string, value: string): boolean {
  for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
    if (!isRecord(frame)) continue;
    for (const item of Array.isArray(frame.data) ? frame.data : [frame.data]) {
      if (isRecord(item) && item[key] === '') {
        item[key] = value;
        return true;
      }
    }
  }
  return false;
}

/**
 * Reads a server frame leniently, as servers in the wild differ: `data` may be one object,
 * errors may come as `error` (object or array), and the whole frame may be wrapped in an array.
 */
export function decodeServerFrame(data: FrameData): DecodedServerFrame {
  const text = frameText(data);
  const parsed = (text.length >= LARGE_FIELD_MIN_CHARS ? parseCuttingLargeField(text) : undefined) ?? parseJson(text);
  if (!parsed.ok) return { ok: false, reason: `malformed JSON (${parsed.reason})` };
  const frames = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  const result: { ok: true; data: ServerDataItem[]; errors: ProtocolErrorItem[]; seq?: number } = { ok: true, data: [], errors: [] };
  for (const frame of frames) {
    if (!isRecord(frame)) return { ok: false, reason: 'a server frame must be an object' };
    if (typeof frame.seq === 'number' && Number.isSafeInteger(frame.seq)) result.seq = frame.seq;
    if (frame.data !== undefined) result.data.push(...toDataItems(frame.data));
    if (frame.errors !== undefined) result.errors.push(...toErrorItems(frame.errors));
    if (frame.error !== undefined) result.errors.push(...toErrorItems(frame.error));
  }
  if (result.data.length === 0 && result.errors.length === 0) return { ok: false, reason: 'the frame has neither data nor errors' };
  return result;
}
