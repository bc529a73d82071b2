// Which network addresses the server's own requests may connect to by default: global unicast only,
// as ipaddr.js classifies them; IPv4-mapped and NAT64 forms are judged by the IPv4 address inside.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** How an address was classified. */
export interface AddressClass {
  /** ipaddr.js's range name: `unicast` for global addresses, else `loopback`, `private`, `linkLocal`, `uniqueLocal`, ... */
  readonly range: string;
  /** True when the address is global unicast, the only kind the server connects to by default. */
  readonly global: boolean;
}

/** RFC 6052's well-known NAT64 prefix: the last 32 bits are an IPv4 address, reached through a translator. */
const nat64WellKnown = ipaddr.parseCIDR('64:ff9b::/96');
/**
 * IANA's global unicast allocation. ipaddr.js calls everything it has no name for `unicast`, which
 * includes unallocated space and IPv4-compatible forms such as `::7f00:1`; those are not global.
 */
const ipv6GlobalUnicast = ipaddr.parseCIDR('2000::/3');

function classifyIpv4(address: ipaddr.IPv4): AddressClass {
  const range = address.range();
  return { range, global: range === 'unicast' };
}

/**
 * Classifies an IP address in its usual text form (`127.0.0.1`, `::1`, `::ffff:7f00:1`). Anything
 * that is not an IP address is classified as `invalid`, which is not global.
 */
export function classifyAddress(address: string): AddressClass {
  // net.isIP accepts only the canonical forms DNS and WHATWG URLs produce; ipaddr.js would also
  // read legacy spellings like 0x7f.1, which never reach here.
  const plain = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const version = isIP(plain);
  if (version === 0) return { range: 'invalid', global: false };
  const parsed = ipaddr.parse(plain);
  if (parsed.kind() === 'ipv4') return classifyIpv4(parsed as ipaddr.IPv4);
  const ipv6 = parsed as ipaddr.IPv6;
  // A dual-stack socket connecting to ::ffff:a.b.c.d reaches a.b.c.d.
  if (ipv6.isIPv4MappedAddress()) return classifyIpv4(ipv6.toIPv4Address());
  // A NAT64 translator forwards 64:ff9b::a.b.c.d to a.b.c.d; RFC 8215's local-use 64:ff9b:1::/48 stays refused.
  if (ipv6.match(nat64WellKnown)) {
    const bytes = ipv6.toByteArray().slice(12);
    return classifyIpv4(new ipaddr.IPv4(bytes));
  }
  const range = ipv6.range();
  return { range, global: range === 'unicast' && ipv6.match(ipv6GlobalUnicast) };
}
