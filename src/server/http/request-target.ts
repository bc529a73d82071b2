// The path of a request target, read without `new URL()` (which throws on targets such as `//[/v1`,
// where it sees an authority): an absolute path of RFC 3986 characters with well-formed percent
// escapes, then an optional query that routing ignores. Anything else is a bad request.

/** RFC 3986 `absolute-path`: segments of unreserved characters, sub-delims, ':', '@' and %XX escapes. */
const absolutePath = /^(?:\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*)+$/;

/** The path of `target` (the request line's target), or undefined when it is not origin-form. */
export function requestPath(target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  // Two leading slashes would read as an authority to a URL parser further down.
  if (path.startsWith('//') || !absolutePath.test(path)) return undefined;
  return path;
}
