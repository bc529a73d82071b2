// Reads the body of an OpenAI-style request, bounded in size: JSON, or (where the route takes files)
// multipart/form-data parsed by the WHATWG `Request.formData()` built into Node (no parser dependency).
import type { IncomingMessage } from 'node:http';
import { cutText, parseJsonWithin } from '../../protocol/index.js';
import type { ServerLimits } from '../limits.js';
import { acceptedBodyType, mediaType, type BodyType } from '../http/media-type.js';
import { readBounded } from '../http/read-bounded.js';
import { OpenAiError } from './errors.js';

/** A file part of a multipart body. */
export interface UploadedFile {
  readonly kind: 'file';
  readonly bytes: Uint8Array;
  /** The part's declared media type ('' when none). */
  readonly type: string;
  readonly name: string;
}

/**
 * A parsed body. `form` is true for multipart bodies, whose values are all strings or files (so numbers
 * and booleans arrive as text); a key sent more than once holds an array of its values.
 */
export interface ParsedBody {
  readonly form: boolean;
  readonly fields: Readonly<Record<string, unknown>>;
}


/** Occurrences of `needle` in `body`, counting no further than `limit` + 1. */
function countUpTo(body: Buffer, needle: string, limit: number): number {
  let count = 0;
  for (let at = body.indexOf(needle); at !== -1 && count <= limit; at = body.indexOf(needle, at + needle.length)) count++;
  return count;
}

function tooManyParts(maxParts: number): OpenAiError {
  return new OpenAiError(400, `the form body is too complex: it holds more than ${maxParts} parts`, { code: 'frame_too_complex' });
}

/**
 * Form parts beyond `maxParts` are refused (frame_too_complex), as a JSON body's values are: first
 * by counting separators (parsing 2 million parts of an 8 MiB body takes seconds), then exactly.
 */
async function parseForm(body: Buffer, contentType: string, maxParts: number): Promise<Record<string, unknown>> {
  // Parts are joined by '&', or start after CRLF "--" (the first may start the body): upper bounds of the count.
  const separators = /^multipart\//i.test(contentType) ? countUpTo(body, '\r\n--', maxParts) : countUpTo(body, '&', maxParts);
  if (separators > maxParts + 1) throw tooManyParts(maxParts);
  let form: FormData;
  try {
    // Request parses multipart bodies exactly as browsers and fetch produce them.
    form = await new Request('http://localhost/', { method: 'POST', headers: { 'content-type': contentType }, body: body as Uint8Array<ArrayBuffer> }).formData();
  } catch (error) {
    const reason = error instanceof Error ? cutText(error.message, 120) : 'unknown error';
    throw new OpenAiError(400, `the form body could not be parsed: ${reason}`, { code: 'invalid_body' });
  }
  // No prototype: a field named __proto__ stays a field.
  const fields = Object.create(null) as Record<string, unknown>;
  let parts = 0;
  for (const [key, value] of form.entries()) {
    if (++parts > maxParts) throw tooManyParts(maxParts);
    const entry: unknown = typeof value === 'string' ? value : { kind: 'file', bytes: new Uint8Array(await value.arrayBuffer()), type: value.type, name: value.name } satisfies UploadedFile;
    const before = fields[key];
    if (before === undefined) fields[key] = entry;
    // Appended in place: copying the list for each repeat made 20,000 repeats of one field cost 15 s.
    else if (Array.isArray(before)) before.push(entry);
    else fields[key] = [before, entry];
  }
  return fields;
}

/** The bounds a request body is read within. */
export type BodyLimits = Pick<ServerLimits, 'maxFrameBytes' | 'maxFrameDepth' | 'maxFrameValues'>;

/**
 * Reads and parses a request body of at most `limits.maxFrameBytes` whose type is one of `accepted`
 * (JSON by default); a JSON body is measured against `maxFrameDepth` and `maxFrameValues` before it
 * is parsed, and must be an object. Throws {@link OpenAiError}: 415 for another media type (checked
 * before the body is read), 413 when too large, 400 when it cannot be parsed or is too complex.
 */
export async function readRequestBody(req: IncomingMessage, limits: BodyLimits, accepted: readonly BodyType[] = ['application/json']): Promise<ParsedBody> {
  const type = acceptedBodyType(req, accepted);
  if (type === undefined) {
    const given = mediaType(req);
    throw new OpenAiError(415, `the request body must be ${accepted.join(' or ')}; got ${given === '' ? 'no content-type' : cutText(given, 80)}`, { code: 'unsupported_media_type' });
  }
  const maxBytes = limits.maxFrameBytes;
  const body = await readBounded(req, maxBytes);
  if (body === undefined) throw new OpenAiError(413, `the request body must be at most ${maxBytes} bytes`, { code: 'request_too_large' });
  if (type === 'multipart/form-data') return { form: true, fields: await parseForm(body, req.headers['content-type'] ?? '', limits.maxFrameValues) };
  const parsed = parseJsonWithin(body.toString('utf8'), { maxDepth: limits.maxFrameDepth, maxValues: limits.maxFrameValues });
  if (!parsed.ok && parsed.problem === 'tooComplex') {
    throw new OpenAiError(400, `the request body is too complex: ${parsed.reason}`, { code: 'frame_too_complex' });
  }
  if (!parsed.ok) throw new OpenAiError(400, 'the request body is not valid JSON (send a JSON object, or multipart/form-data)', { code: 'invalid_json' });
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OpenAiError(400, 'the request body must be a JSON object', { code: 'invalid_json' });
  }
  return { form: false, fields: value as Record<string, unknown> };
}

/** True for a file part. */
export function isUploadedFile(value: unknown): value is UploadedFile {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'file' && (value as { bytes?: unknown }).bytes instanceof Uint8Array;
}
