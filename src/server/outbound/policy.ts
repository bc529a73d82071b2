// The server's rule for its own requests (input images, webhooks, uploads): which URLs it may ask
// for and which resolved addresses it may connect to. Safe by default: global unicast addresses only.
import { isIP } from 'node:net';
import { classifyAddress } from './address-policy.js';

/** What an outbound request is for. */
export type OutboundKind = 'input' | 'webhook' | 'upload';

/** How one outbound request ended: answered 2xx, refused by the policy, failed (DNS, connection, status, body), timed out, or aborted by its task. */
export type OutboundOutcome = 'ok' | 'refused' | 'failed' | 'timeout' | 'aborted';

/** One connection the server is about to make, as the `allowOutbound` option sees it. */
export interface OutboundTarget {
  /** `input` (seedImage, maskImage, guide images, imageUpload), `webhook` (webhookURL) or `upload` (uploadEndpoint). */
  readonly kind: OutboundKind;
  /** The URL of this request; after a redirect, the redirect's target. */
  readonly url: URL;
  /** The address about to be connected to, after DNS resolution (`93.184.216.34`, `2606:2800::1`). */
  readonly address: string;
  /**
   * ipaddr.js's name for the address's range: `unicast` for global addresses, else `loopback`,
   * `private`, `linkLocal`, `uniqueLocal`, `carrierGradeNat`, `multicast`, `reserved`, ... For an
   * IPv4-mapped or NAT64 address, the range of the IPv4 address inside.
   */
  readonly range: string;
}

/** The options of the policy (createServer's `allowPrivateNetwork`, `allowOutbound`, `allowInputUrl`). */
export interface OutboundPolicyOptions {
  readonly allowPrivateNetwork: boolean;
  readonly allowOutbound?: ((target: OutboundTarget) => boolean) | undefined;
  readonly allowInputUrl?: ((url: URL) => boolean) | undefined;
}

const schemes: ReadonlySet<string> = new Set(['http:', 'https:']);

/** Runs a caller's predicate; one that throws refuses, so a bug in it never opens the network. */
function admits<T>(predicate: (value: T) => boolean, value: T): boolean {
  try {
    return predicate(value) === true;
  } catch {
    return false;
  }
}

/**
 * Decides every hop of every outbound request. Each check answers why the request is refused, or
 * undefined when it may go ahead; the reasons are for the server's log only.
 */
export class OutboundPolicy {
  readonly #options: OutboundPolicyOptions;
  /** Told how each request ended (the server's metrics); one listener, set by the server that owns the policy. */
  #listener: ((kind: OutboundKind, outcome: OutboundOutcome) => void) | undefined;

  constructor(options: OutboundPolicyOptions) {
    this.#options = options;
  }

  /** Sets the one listener told how each request under this policy ended. */
  onOutcome(listener: (kind: OutboundKind, outcome: OutboundOutcome) => void): void {
    this.#listener = listener;
  }

  /** Reports how a request ended; a listener that throws is ignored (counting must never fail a request). */
  report(kind: OutboundKind, outcome: OutboundOutcome): void {
    try {
      this.#listener?.(kind, outcome);
    } catch {
      // Metrics only.
    }
  }

  /** Why `url` may not be requested at all (scheme, credentials, `allowInputUrl`), before any lookup. */
  urlRefusal(kind: OutboundKind, url: URL): string | undefined {
    if (!schemes.has(url.protocol)) return `scheme ${url.protocol} is not fetched`;
    // fetch refused these before; they would otherwise be sent as Basic credentials to whoever answers.
    if (url.username !== '' || url.password !== '') return 'the URL carries credentials';
    const allowInputUrl = this.#options.allowInputUrl;
    // Callers get a copy: a function that changed the URL it was shown must not change where the request goes.
    if (kind === 'input' && allowInputUrl !== undefined && !admits(allowInputUrl, new URL(url.href))) return 'allowInputUrl refused the URL';
    return undefined;
  }

  /**
   * Why `url` is refused already from its text: its scheme or credentials, or a host that is an
   * address literal (or `localhost`) the address rule refuses. A host name that needs a lookup
   * passes here and is judged when the request is made. Lets a task be refused before it runs.
   */
  earlyRefusal(kind: OutboundKind, url: URL): string | undefined {
    const refusal = this.urlRefusal(kind, url);
    if (refusal !== undefined) return refusal;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host.toLowerCase() === 'localhost' || host.toLowerCase().endsWith('.localhost')) return this.addressRefusal(kind, url, '127.0.0.1');
    return isIP(host) === 0 ? undefined : this.addressRefusal(kind, url, host);
  }

  /** Why the resolved `address` may not be connected to for `url`. */
  addressRefusal(kind: OutboundKind, url: URL, address: string): string | undefined {
    const { range, global } = classifyAddress(address);
    if (!global && !this.#options.allowPrivateNetwork) return `address ${address} is ${range}, not global unicast`;
    const allowOutbound = this.#options.allowOutbound;
    if (allowOutbound !== undefined && !admits(allowOutbound, { kind, url: new URL(url.href), address, range })) return `allowOutbound refused address ${address}`;
    return undefined;
  }
}
