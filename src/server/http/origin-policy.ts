// Which browser origins may drive the server, and, in open mode on a loopback address, which Host
// names it answers (against DNS rebinding). The server's own origins come from the address it
// listens on and from publicUrl, never from the request: with DNS rebinding the attacker's page
// sends Host and Origin with the attacker's name, and the two agree.
import type { IncomingHttpHeaders } from 'node:http';
import { networkInterfaces } from 'node:os';

/** What the policy is built from. */
export interface OriginPolicyOptions {
  /** The interface the server listens on (`host`). */
  readonly host: string;
  readonly port: number;
  /** The server's public base URL, when it has one. */
  readonly publicUrl: string | undefined;
  /** Origins allowed besides the server's own (`allowedOrigins`), already checked. */
  readonly allowedOrigins: readonly string[];
  /** Open mode: no API keys, so the origin and host checks guard every route. */
  readonly openMode: boolean;
}

/** Why a request was refused. */
export type OriginRefusal = { readonly kind: 'origin'; readonly origin: string } | { readonly kind: 'host'; readonly host: string };

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function isWildcardHost(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** `name` as it appears in a URL's authority (IPv6 in brackets). */
function urlHost(name: string): string {
  return name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
}

/** The serialized origin of an absolute http(s) URL, lower-cased; undefined for anything else. */
export function originOf(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return url.origin.toLowerCase();
}

/**
 * Checks the `allowedOrigins` option: each an http(s) origin such as `https://app.example.com`
 * (a path or trailing slash is refused, so a typo does not silently allow nothing).
 * @throws TypeError for anything else
 */
export function resolveAllowedOrigins(given: readonly string[] | undefined): string[] {
  return (given ?? []).map((value: unknown) => {
    const origin = typeof value === 'string' ? originOf(value) : undefined;
    if (typeof value !== 'string' || origin === undefined || origin !== value.toLowerCase()) {
      throw new TypeError(`allowedOrigins must hold origins such as https://app.example.com (scheme, host and port only); got ${JSON.stringify(value)}`);
    }
    return origin;
  });
}

/** The names of the machine's own interfaces, for a server that listens on all of them. */
function interfaceNames(): string[] {
  const names: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) names.push(urlHost(entry.address.split('%')[0] ?? entry.address));
  }
  return names;
}

/** The origins and host names one listening server accepts from browsers. */
export class OriginPolicy {
  readonly #origins: ReadonlySet<string>;
  readonly #hosts: ReadonlySet<string>;
  readonly #openMode: boolean;
  /** Host names are checked in open mode on a loopback address (see docs/server.md, Origins). */
  readonly #checkHost: boolean;

  constructor(options: OriginPolicyOptions) {
    const { host, port, openMode } = options;
    const names = isLoopbackHost(host) ? LOOPBACK_NAMES : isWildcardHost(host) ? [...LOOPBACK_NAMES, ...interfaceNames()] : [urlHost(host)];
    const origins = new Set<string>();
    const hosts = new Set<string>();
    for (const name of names) {
      origins.add(`http://${name}:${port}`.toLowerCase());
      hosts.add(`${name}:${port}`.toLowerCase());
      // Clients leave the port out of Host when it is the scheme's default.
      if (port === 80) hosts.add(name.toLowerCase());
    }
    for (const extra of [options.publicUrl, ...options.allowedOrigins]) {
      if (extra === undefined) continue;
      const origin = originOf(extra);
      if (origin === undefined) continue;
      origins.add(origin);
      const url = new URL(origin);
      hosts.add(url.host.toLowerCase());
    }
    this.#origins = origins;
    this.#hosts = hosts;
    this.#openMode = openMode;
    this.#checkHost = openMode && isLoopbackHost(host);
  }

  /** True for an origin of this server or an allowed one. */
  allows(origin: string): boolean {
    return this.#origins.has(origin.toLowerCase());
  }

  /**
   * The check of a request: refused when it carries an `Origin` that is not allowed (a browser page
   * elsewhere), or in open mode on loopback a `Host` that is not one of the server's names. Without
   * an `Origin` (non-browser clients) only the host rule applies. `always` applies the origin rule
   * in keyed mode too (the token routes).
   */
  check(headers: IncomingHttpHeaders, always = false): OriginRefusal | undefined {
    if (!this.#openMode && !always) return undefined;
    const origin = headers.origin;
    if (origin !== undefined && !this.allows(origin)) return { kind: 'origin', origin };
    if (this.#checkHost) {
      const host = (headers.host ?? '').toLowerCase();
      if (!this.#hosts.has(host)) return { kind: 'host', host };
    }
    return undefined;
  }
}
