// How many sockets the server lets in: upgrades not yet authenticated, in total and per remote
// address (checked before the WebSocket handshake, so a refusal costs one short HTTP answer), and
// authenticated sockets per API key (checked at the authentication).
import { isIPv4, isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';

/** Why an upgrade was refused. */
export type AdmissionRefusal = 'total' | 'address';

/**
 * The counting key of a remote address: IPv4 as it is (an IPv4-mapped IPv6 address counts as its
 * IPv4 address), IPv6 by its /64 prefix, since one host is usually given a whole /64.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') return '?';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIPv4(address) || !isIPv6(address)) return address;
  const zoneless = address.split('%')[0] ?? address;
  const [head = '', tail = ''] = zoneless.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = zoneless.includes('::') ? [...headGroups, ...Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0'), ...tailGroups] : headGroups;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** One admitted upgrade's place in the count; released once, when it authenticates or its socket closes. */
export class AdmissionTicket {
  readonly #caps: UnauthenticatedSockets;
  readonly #key: string;
  readonly #socket: Duplex;
  #held = true;

  constructor(caps: UnauthenticatedSockets, key: string, socket: Duplex) {
    this.#caps = caps;
    this.#key = key;
    this.#socket = socket;
    // A handshake that fails never reaches a socket session: the close still gives the place back.
    socket.once('close', this.release);
  }

  /** Gives the place back. Idempotent. */
  readonly release = (): void => {
    if (!this.#held) return;
    this.#held = false;
    this.#socket.off('close', this.release);
    this.#caps.leave(this.#key);
  };
}

/** Upgrades not yet authenticated, counted in total and per remote address. */
export class UnauthenticatedSockets {
  readonly #maxTotal: number;
  readonly #maxPerAddress: number;
  readonly #byAddress = new Map<string, number>();
  #total = 0;

  constructor(maxTotal: number, maxPerAddress: number) {
    this.#maxTotal = maxTotal;
    this.#maxPerAddress = maxPerAddress;
  }

  /** Sockets counted now. */
  get size(): number {
    return this.#total;
  }

  /** Takes a place for `socket` from `address`, or says which cap refuses it. */
  admit(address: string | undefined, socket: Duplex): AdmissionTicket | AdmissionRefusal {
    if (this.#total >= this.#maxTotal) return 'total';
    const key = addressKey(address);
    const current = this.#byAddress.get(key) ?? 0;
    if (current >= this.#maxPerAddress) return 'address';
    this.#byAddress.set(key, current + 1);
    this.#total++;
    return new AdmissionTicket(this, key, socket);
  }

  /** @internal Called by a ticket's release. */
  leave(key: string): void {
    this.#total--;
    const current = this.#byAddress.get(key) ?? 0;
    if (current <= 1) this.#byAddress.delete(key);
    else this.#byAddress.set(key, current - 1);
  }
}

/** Authenticated sockets per owner (a key's digest; its session tokens resolve to the same owner). */
export class KeyConnections {
  readonly #max: number;
  readonly #byOwner = new Map<string, number>();

  constructor(max: number) {
    this.#max = max;
  }

  /** Counts one more socket of `owner`; false (and nothing counted) when it has `max` already. */
  tryAcquire(owner: string): boolean {
    const current = this.#byOwner.get(owner) ?? 0;
    if (current >= this.#max) return false;
    this.#byOwner.set(owner, current + 1);
    return true;
  }

  /** One socket of `owner` left. */
  release(owner: string): void {
    const current = this.#byOwner.get(owner) ?? 0;
    if (current <= 1) this.#byOwner.delete(owner);
    else this.#byOwner.set(owner, current - 1);
  }

  /** Sockets of `owner` counted now. */
  count(owner: string): number {
    return this.#byOwner.get(owner) ?? 0;
  }
}
