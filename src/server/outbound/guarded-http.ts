// The one HTTP client of the server's own requests: every hop's URL and every address it connects
// to pass the OutboundPolicy first. Names are resolved once, checked, and only the checked addresses
// are connected to (no second lookup to rebind); redirects are followed by hand, each hop checked again.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent } from 'undici';
import { systemClock, type Clock } from '../../internal/clock.js';
import { errorMessage } from '../logger.js';
import type { OutboundKind, OutboundOutcome, OutboundPolicy } from './policy.js';

/** Resolves a host name to every address it has; tests swap it to play DNS. */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The system resolver (getaddrinfo, as `net.connect` would use), all addresses. */
export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (error, addresses) => (error === null ? resolve(addresses) : reject(error)));
  });

/** One outbound request. */
export interface GuardedRequest {
  readonly kind: OutboundKind;
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly policy: OutboundPolicy;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  /** Redirects followed, GET only (a redirected POST or PUT is a failure); one more is a failure. */
  readonly maxRedirects: number;
  /** The largest 2xx body read, bytes; 0 discards the body unread. */
  readonly maxBodyBytes: number;
  /** Time for the whole exchange: every hop, and the body. */
  readonly timeoutMs: number;
  /** Times `timeoutMs` (the server's clock). @default systemClock */
  readonly clock?: Clock;
  /** The caller's cancellation: when it aborts, its reason is thrown as is. */
  readonly signal: AbortSignal;
  /** @default systemResolver */
  readonly resolve?: Resolver;
}

/** A 2xx answer, after any redirects. */
export interface GuardedResponse {
  readonly status: number;
  /** The URL that answered (the last hop). */
  readonly url: URL;
  /** The body; empty when `maxBodyBytes` is 0. */
  readonly body: Uint8Array;
}

/**
 * Why a request did not succeed: a refused URL or address, DNS, the connection, a status that is
 * not 2xx, a timeout, too many redirects, a body over the cap. The message is for the server's log
 * only; callers answer clients with one code and one message whatever it says.
 */
export class OutboundFailure extends Error {
  /** True when the policy refused it: trying again cannot help. */
  readonly refused: boolean;
  /** True when the exchange ran past its deadline. */
  readonly timedOut: boolean;

  constructor(message: string, options: { refused?: boolean; timedOut?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OutboundFailure';
    this.refused = options.refused ?? false;
    this.timedOut = options.timedOut ?? false;
  }
}

const redirectStatuses: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** The hostname of a URL without IPv6 brackets, and whether it is an IP literal (never looked up). */
function literalAddress(url: URL): string | undefined {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) === 0 ? undefined : host;
}

/**
 * A lookup for `net.connect` that resolves once and hands over only the addresses `refusal` lets
 * through, so the address checked is the address connected to. `refused` hears why others were not.
 */
function checkedLookup(resolve: Resolver, refusal: (address: string) => string | undefined, refused: (why: string) => void): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (found) => {
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        const allowed = found.filter((entry) => {
          if (family !== undefined && entry.family !== family) return false;
          const why = refusal(entry.address);
          if (why !== undefined) refused(why);
          return why === undefined;
        });
        const first = allowed[0];
        if (first === undefined) {
          const error: NodeJS.ErrnoException = new Error(`no address of ${hostname} may be connected to`);
          error.code = 'ENOTFOUND';
          callback(error, '', 0);
        } else if (options.all === true) callback(null, allowed);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

/** A body the server does not want. Destroying an unread body makes undici emit an abort error: heard here, not thrown. */
function discard(body: { destroy(): void; on(event: 'error', listener: () => void): unknown }): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** Reads a body up to `max` bytes; a longer one is a failure (its declared length is checked first). */
async function readCapped(body: AsyncIterable<Uint8Array> & Parameters<typeof discard>[0], declared: string | string[] | undefined, max: number): Promise<Uint8Array> {
  const length = typeof declared === 'string' ? Number(declared) : Number.NaN;
  if (Number.isFinite(length) && length > max) {
    discard(body);
    throw new OutboundFailure(`the body declares ${length} bytes, more than ${max}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > max) {
      discard(body);
      throw new OutboundFailure(`the body is more than ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** One hop: its own Agent, so no connection made for another URL or another check is reused. */
async function hop(url: URL, request: GuardedRequest, signal: AbortSignal, first: boolean): Promise<{ redirect: URL } | GuardedResponse> {
  const { policy, kind } = request;
  const urlRefusal = policy.urlRefusal(kind, url);
  if (urlRefusal !== undefined) throw new OutboundFailure(urlRefusal, { refused: true });
  // net.connect does not look IP literals up, so the lookup below never sees them: check them here.
  const literal = literalAddress(url);
  if (literal !== undefined) {
    const why = policy.addressRefusal(kind, url, literal);
    if (why !== undefined) throw new OutboundFailure(why, { refused: true });
  }
  let refusedBy: string | undefined;
  const lookup = checkedLookup(
    request.resolve ?? systemResolver,
    (address) => policy.addressRefusal(kind, url, address),
    (why) => (refusedBy ??= why),
  );
  const agent = new Agent({ connect: { lookup }, maxRedirections: 0 });
  try {
    const response = await agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: request.method,
      headers: { ...request.headers },
      // A redirected GET carries no body; POST and PUT are never redirected.
      body: first ? (request.body ?? null) : null,
      signal,
    });
    const { statusCode, headers, body } = response;
    if (redirectStatuses.has(statusCode) && request.method === 'GET') {
      discard(body);
      const location = headers.location;
      if (typeof location !== 'string') throw new OutboundFailure(`HTTP ${statusCode} without a Location`);
      let target: URL;
      try {
        target = new URL(location, url);
      } catch (error) {
        throw new OutboundFailure(`HTTP ${statusCode} to an invalid Location`, { cause: error });
      }
      return { redirect: target };
    }
    if (statusCode < 200 || statusCode > 299) {
      discard(body);
      throw new OutboundFailure(`HTTP ${statusCode}${redirectStatuses.has(statusCode) ? ` (a ${request.method} is not redirected)` : ''}`);
    }
    if (request.maxBodyBytes === 0) {
      discard(body);
      return { status: statusCode, url, body: new Uint8Array(0) };
    }
    return { status: statusCode, url, body: await readCapped(body, headers['content-length'], request.maxBodyBytes) };
  } catch (error) {
    if (error instanceof OutboundFailure || signal.aborted) throw error;
    if (refusedBy !== undefined) throw new OutboundFailure(refusedBy, { refused: true, cause: error });
    const code = (error as NodeJS.ErrnoException).code;
    throw new OutboundFailure(`the request failed: ${errorMessage(error)}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: error });
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}

/**
 * Sends one request under the policy: each hop's URL checked, each address checked after DNS and
 * before connecting, GET redirects followed by hand up to `maxRedirects`, the whole exchange bounded
 * by `timeoutMs` and the 2xx body by `maxBodyBytes`. Throws `OutboundFailure` for any failure, or
 * the caller's abort reason when `signal` aborts.
 */
export async function guardedRequest(url: string | URL, request: GuardedRequest): Promise<GuardedResponse> {
  try {
    const response = await exchange(url, request);
    request.policy.report(request.kind, 'ok');
    return response;
  } catch (error) {
    request.policy.report(request.kind, outcomeOf(error, request.signal));
    throw error;
  }
}

/** How a failed request ended, for the policy's listener. */
function outcomeOf(error: unknown, signal: AbortSignal): OutboundOutcome {
  if (signal.aborted) return 'aborted';
  if (error instanceof OutboundFailure) return error.refused ? 'refused' : error.timedOut ? 'timeout' : 'failed';
  return 'failed';
}

/** {@link guardedRequest}'s exchange, before its outcome is reported. */
async function exchange(url: string | URL, request: GuardedRequest): Promise<GuardedResponse> {
  const controller = new AbortController();
  const timeout = new OutboundFailure(`no answer within ${request.timeoutMs} ms`, { timedOut: true });
  const clock = request.clock ?? systemClock;
  const timer = clock.setTimeout(() => controller.abort(timeout), request.timeoutMs);
  const onAbort = (): void => controller.abort(request.signal.reason);
  request.signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (request.signal.aborted) throw request.signal.reason;
    let current: URL;
    try {
      current = new URL(url);
    } catch (error) {
      throw new OutboundFailure('the URL cannot be parsed', { refused: true, cause: error });
    }
    for (let redirects = 0; ; redirects++) {
      const answer = await hop(current, request, controller.signal, redirects === 0);
      if (!('redirect' in answer)) return answer;
      if (redirects >= request.maxRedirects) throw new OutboundFailure(`more than ${request.maxRedirects} redirects`);
      current = answer.redirect;
    }
  } catch (error) {
    if (request.signal.aborted) throw request.signal.reason;
    if (controller.signal.aborted) throw timeout;
    throw error;
  } finally {
    clock.clearTimeout(timer);
    request.signal.removeEventListener('abort', onAbort);
  }
}

/** The origin of a URL for a log line: never its path or query, which may carry secrets. */
export function originOf(url: string | URL): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid URL';
  }
}
