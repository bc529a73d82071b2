// The media type of a request body. The HTTP faces take JSON (and multipart/form-data where an edit
// uploads files), never a type a browser may send cross-site without a CORS preflight (text/plain,
// application/x-www-form-urlencoded, or none): a page elsewhere can then not post tasks.
import type { IncomingMessage } from 'node:http';

/** Media types a route accepts. */
export type BodyType = 'application/json' | 'multipart/form-data';

/** The essence of the request's Content-Type (`type/subtype`, lower case), or '' when it has none. */
export function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'] ?? '';
  return (header.split(';')[0] ?? '').trim().toLowerCase();
}

/** The accepted type the request's body has, or undefined when it has none of `accepted`. */
export function acceptedBodyType(req: IncomingMessage, accepted: readonly BodyType[]): BodyType | undefined {
  const type = mediaType(req);
  return accepted.find((candidate) => candidate === type);
}
