// Reads the body of an OpenAI-style request, bounded in size: JSON, or (where the route takes files)
// multipart/form-data parsed by the WHATWG `Request.formData()` built into Node (no parser dependency).
import type { IncomingMessage } from 'node:http';
import { acceptedBodyType, mediaType, type BodyType } from './media-type.js';
import { OpenAiError } from './openai-errors.js';

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

/**
 * Reads a request body up to `max` bytes; undefined when it is larger (the rest is drained, not
 * kept), so an oversize body is refused without being held in memory. Shared by every HTTP face.
 */
export async function readBounded(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > max) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

async function parseForm(body: Buffer, contentType: string): Promise<Record<string, unknown>> {
  let form: FormData;
  try {
    // Request parses multipart bodies exactly as browsers and fetch produce them.
    form = await new Request('http://localhost/', { method: 'POST', headers: { 'content-type': contentType }, body: body as Uint8Array<ArrayBuffer> }).formData();
  } catch (error) {
    throw new OpenAiError(400, `the form body could not be parsed: ${error instanceof Error ? error.message : String(error)}`, { code: 'invalid_body' });
  }
  // No prototype: a field named __proto__ stays a field.
  const fields = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of form.entries()) {
    const entry: unknown = typeof value === 'string' ? value : { kind: 'file', bytes: new Uint8Array(await value.arrayBuffer()), type: value.type, name: value.name } satisfies UploadedFile;
    const before = fields[key];
    if (before === undefined) fields[key] = entry;
    else fields[key] = Array.isArray(before) ? [...(before as unknown[]), entry] : [before, entry];
  }
  return fields;
}

/**
 * Reads and parses a request body of at most `maxBytes` whose type is one of `accepted` (JSON by
 * default). JSON must be an object. Throws {@link OpenAiError}: 415 for another media type (checked
 * before the body is read), 413 when too large, 400 when it cannot be parsed.
 */
export async function readRequestBody(req: IncomingMessage, maxBytes: number, accepted: readonly BodyType[] = ['application/json']): Promise<ParsedBody> {
  const type = acceptedBodyType(req, accepted);
  if (type === undefined) {
    const given = mediaType(req);
    throw new OpenAiError(415, `the request body must be ${accepted.join(' or ')}; got ${given === '' ? 'no content-type' : given}`, { code: 'unsupported_media_type' });
  }
  const body = await readBounded(req, maxBytes);
  if (body === undefined) throw new OpenAiError(413, `the request body must be at most ${maxBytes} bytes`, { code: 'request_too_large' });
  if (type === 'multipart/form-data') return { form: true, fields: await parseForm(body, req.headers['content-type'] ?? '') };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new OpenAiError(400, 'the request body is not valid JSON (send a JSON object)', { code: 'invalid_json' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OpenAiError(400, 'the request body must be a JSON object', { code: 'invalid_json' });
  }
  return { form: false, fields: parsed as Record<string, unknown> };
}

/** True for a file part. */
export function isUploadedFile(value: unknown): value is UploadedFile {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'file' && (value as { bytes?: unknown }).bytes instanceof Uint8Array;
}
