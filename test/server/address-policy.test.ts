// The address rule over generated addresses: everything in a refused range (and its IPv4-mapped and
// NAT64 forms, in every spelling a URL or DNS can give) is refused; global addresses pass. The
// tables here are the test's own (from the IANA special-purpose registries), not the library's.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../../src/server/outbound/address-policy.js';
import { OutboundPolicy } from '../../src/server/outbound/policy.js';

/** IPv4 blocks that are not global unicast: [first octets, prefix length]. */
const refusedIpv4: readonly [readonly number[], number][] = [
  [[0], 8], // unspecified / "this network"
  [[10], 8], // private
  [[100, 64], 10], // CGNAT
  [[127], 8], // loopback
  [[169, 254], 16], // link-local
  [[172, 16], 12], // private
  [[192, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2], 24], // documentation
  [[192, 88, 99], 24], // 6to4 relay anycast
  [[192, 168], 16], // private
  [[198, 18], 15], // benchmarking
  [[198, 51, 100], 24], // documentation
  [[203, 0, 113], 24], // documentation
  [[224], 4], // multicast
  [[240], 4], // reserved, and broadcast
];

/** First octets of /8 blocks with no special-purpose range inside: global unicast throughout. */
const globalIpv4Octets = [1, 2, 3, 4, 5, 8, 9, 11, 12, 13, 17, 18, 20, 23, 31, 34, 35, 44, 45, 52, 54, 62, 66, 77, 80, 81, 91, 93, 104, 128, 130, 142, 151, 157, 185, 193, 208, 212, 216];

/** IPv6 blocks that are not global unicast: [leading 16-bit groups, prefix length]. */
const refusedIpv6: readonly [readonly number[], number][] = [
  [[0, 0, 0, 0, 0, 0, 0, 0], 128], // unspecified
  [[0, 0, 0, 0, 0, 0, 0, 1], 128], // loopback
  [[0, 0, 0, 0, 0, 0], 96], // IPv4-compatible (deprecated)
  [[0x100, 0, 0, 0], 64], // discard
  [[0x64, 0xff9b, 1], 48], // local-use NAT64
  [[0x2001, 0], 32], // Teredo
  [[0x2001, 0xdb8], 32], // documentation
  [[0x2002], 16], // 6to4
  [[0xfc00], 7], // unique local
  [[0xfe80], 10], // link-local
  [[0xfec0], 10], // site-local (deprecated)
  [[0xff00], 8], // multicast
];

/** /32s of large networks, global unicast. */
const globalIpv6Prefixes: readonly (readonly [number, number])[] = [
  [0x2001, 0x4860],
  [0x2606, 0x4700],
  [0x2a00, 0x1450],
  [0x2400, 0xcb00],
  [0x2620, 0xfe],
];

/** A random IPv4 address inside `octets`/`prefix`. */
function ipv4In([octets, prefix]: readonly [readonly number[], number]): fc.Arbitrary<number[]> {
  return fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((random) => {
    const base = octets.reduce((value, octet, index) => value + octet * 2 ** (24 - 8 * index), 0);
    const hostBits = 32 - prefix;
    const value = base - (base % 2 ** hostBits) + (random % 2 ** hostBits);
    return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
  });
}

/** A random IPv6 address inside `groups`/`prefix`, as 8 groups. */
function ipv6In([groups, prefix]: readonly [readonly number[], number]): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((random) =>
    random.map((value, index) => {
      const fixedBits = Math.max(0, Math.min(16, prefix - 16 * index));
      const mask = fixedBits === 0 ? 0 : (0xffff << (16 - fixedBits)) & 0xffff;
      return ((groups[index] ?? 0) & mask) | (value & ~mask & 0xffff);
    }),
  );
}

const dotted = (octets: readonly number[]): string => octets.join('.');
const hex = (groups: readonly number[]): string => groups.map((group) => group.toString(16)).join(':');

/** Every form of an IPv4 address a connection could be asked to use: itself, IPv4-mapped and NAT64, as DNS or a URL writes them. */
function forms(octets: readonly number[]): string[] {
  const v4 = dotted(octets);
  const high = (((octets[0] ?? 0) << 8) | (octets[1] ?? 0)).toString(16);
  const low = (((octets[2] ?? 0) << 8) | (octets[3] ?? 0)).toString(16);
  return [
    v4,
    `::ffff:${v4}`,
    `::ffff:${high}:${low}`,
    `64:ff9b::${v4}`,
    `64:ff9b::${high}:${low}`,
    // What WHATWG URL parsing makes of them (brackets included, as URL.hostname has them).
    new URL(`http://[::ffff:${v4}]/`).hostname,
    new URL(`http://[64:ff9b::${v4}]/`).hostname,
    new URL(`http://${(octets[0] ?? 0) * 2 ** 24 + (octets[1] ?? 0) * 2 ** 16 + (octets[2] ?? 0) * 256 + (octets[3] ?? 0)}/`).hostname,
  ];
}

const refused = (address: string): boolean => !classifyAddress(address).global;

describe('classifyAddress', () => {
  it.each(refusedIpv4.map((block) => [`${dotted(block[0])}/${block[1]}`, block] as const))('refuses %s and its mapped and NAT64 forms', (_name, block) => {
    fc.assert(
      fc.property(ipv4In(block), (octets) => {
        for (const form of forms(octets)) expect(refused(form), form).toBe(true);
      }),
    );
  });

  it.each(refusedIpv6.map((block) => [`${hex(block[0])}/${block[1]}`, block] as const))('refuses %s', (_name, block) => {
    fc.assert(
      fc.property(ipv6In(block), (groups) => {
        expect(refused(hex(groups)), hex(groups)).toBe(true);
        expect(refused(new URL(`http://[${hex(groups)}]/`).hostname)).toBe(true);
      }),
    );
  });

  it('passes global IPv4 addresses, also mapped and through NAT64', () => {
    fc.assert(
      fc.property(fc.constantFrom(...globalIpv4Octets), fc.integer({ min: 0, max: 2 ** 24 - 1 }), (first, rest) => {
        const octets = [first, rest >>> 16, (rest >>> 8) & 255, rest & 255];
        for (const form of forms(octets)) expect(classifyAddress(form), form).toEqual({ range: 'unicast', global: true });
      }),
    );
  });

  it('passes global IPv6 addresses', () => {
    fc.assert(
      fc.property(fc.constantFrom(...globalIpv6Prefixes), ipv6In([[0, 0], 0]), (prefix, groups) => {
        const address = hex([prefix[0], prefix[1], ...groups.slice(2)]);
        expect(classifyAddress(address), address).toEqual({ range: 'unicast', global: true });
      }),
    );
  });

  it('names the range, and refuses what is not an address', () => {
    expect(classifyAddress('127.0.0.1')).toEqual({ range: 'loopback', global: false });
    expect(classifyAddress('::ffff:a00:1')).toEqual({ range: 'private', global: false });
    expect(classifyAddress('[::1]')).toEqual({ range: 'loopback', global: false });
    expect(classifyAddress('100.64.0.1')).toEqual({ range: 'carrierGradeNat', global: false });
    expect(classifyAddress('255.255.255.255')).toEqual({ range: 'broadcast', global: false });
    for (const notAnAddress of ['localhost', '0x7f.1', '127.1', '2130706433', '', 'fe80::1%eth0']) expect(classifyAddress(notAnAddress).global).toBe(false);
  });
});

describe('the early refusal of an uploadEndpoint from its text', () => {
  const policy = new OutboundPolicy({ allowPrivateNetwork: false });
  const octet = fc.integer({ min: 0, max: 255 });

  it('refuses every private or loopback IPv4 literal in every spelling a URL accepts, and never a host name', () => {
    const spellings = (a: number, b: number, c: number, d: number): string[] => [
      `${a}.${b}.${c}.${d}`,
      String(((a << 24) >>> 0) + (b << 16) + (c << 8) + d),
      `0x${a.toString(16)}.${b}.${c}.${d}`,
      `[::ffff:${a}.${b}.${c}.${d}]`,
    ];
    fc.assert(
      fc.property(fc.constantFrom(10, 127, 192), octet, octet, octet, (first, b, c, d) => {
        const second = first === 192 ? 168 : b;
        for (const host of spellings(first, second, c, d)) expect(policy.earlyRefusal('upload', new URL(`http://${host}:8080/put`)), host).toBeDefined();
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}\.(com|net|example)$/), (name) => {
        expect(policy.earlyRefusal('upload', new URL(`https://${name}/put`))).toBeUndefined();
      }),
    );
    expect(policy.earlyRefusal('upload', new URL('http://localhost:9/put'))).toBeDefined();
    expect(policy.earlyRefusal('upload', new URL('http://api.localhost/put'))).toBeDefined();
    expect(policy.earlyRefusal('upload', new URL('https://93.184.216.34/put'))).toBeUndefined();
    expect(new OutboundPolicy({ allowPrivateNetwork: true }).earlyRefusal('upload', new URL('http://127.0.0.1/put'))).toBeUndefined();
  });
});
