import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface AddressPolicyOptions {
  /** Host names trusted whatever they resolve to (exact names, case-insensitive). */
  allowHosts?: readonly string[];
  /** CIDR ranges whose addresses are acceptable even though they are not public. */
  allowRanges?: readonly string[];
}

export type AddressVerdict = { allowed: true } | { allowed: false; why: string };

type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** How each range of ipaddr.js other than `unicast` is named in a refusal. */
const RANGE_DESCRIPTIONS: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  linkLocal: 'a link-local address',
  carrierGradeNat: 'a carrier-grade NAT address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  uniqueLocal: 'a unique-local address',
  rfc6145: 'an IPv4-translated address',
  rfc6052: 'a NAT64 address, which embeds an IPv4 address',
  '6to4': 'a 6to4 address, which embeds an IPv4 address',
  teredo: 'a Teredo address, which embeds an IPv4 address',
};

/**
 * ipaddr.js calls the deprecated IPv4-compatible IPv6 addresses (::a.b.c.d) `unicast`, but they
 * embed an IPv4 address just like the mapped ones, and nothing public lives there.
 */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * Decides which addresses the server may connect to on a user's behalf: only public unicast
 * ones, unless the operator trusts the host by name or the address by range. Without this, a
 * URL could make the server reach its own loopback services, the private network it runs in,
 * or a cloud metadata endpoint.
 */
export class AddressPolicy {
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly allowedRanges: ReadonlyArray<[IpAddress, number]>;

  constructor({ allowHosts = [], allowRanges = [] }: AddressPolicyOptions = {}) {
    this.allowedHosts = new Set(allowHosts.map((host) => normalizeHost(host)).filter((host) => host !== ''));
    this.allowedRanges = allowRanges
      .map((range) => range.trim())
      .filter((range) => range !== '')
      .map((range) => parseRange(range));
  }

  /** `host` as written in the URL, `address` one of the addresses it resolved to. */
  check(host: string, address: string): AddressVerdict {
    if (this.allowedHosts.has(normalizeHost(host))) return { allowed: true };
    // net.isIP is stricter than ipaddr.js (which also takes forms such as 127.1), and what it
    // accepts is exactly what a socket will connect to.
    if (isIP(address) === 0) return { allowed: false, why: `${address} is not an IP address` };
    // An IPv4-mapped IPv6 address reaches its IPv4 address, so that is the one judged.
    const parsed = ipaddr.process(address);
    const shown = parsed.toString() === address ? address : `${address} (IPv4 ${parsed.toString()})`;
    if (this.allowedRanges.some((range) => inRange(parsed, range))) return { allowed: true };
    const range = parsed.range();
    if (range !== 'unicast') {
      return { allowed: false, why: `${shown} is ${RANGE_DESCRIPTIONS[range] ?? `a special-purpose address (${range})`}` };
    }
    if (inRange(parsed, IPV4_COMPATIBLE)) {
      return { allowed: false, why: `${shown} is an IPv4-compatible address, which embeds an IPv4 address` };
    }
    return { allowed: true };
  }
}

/** Host names compare without case, brackets around IPv6 literals or a trailing root dot. */
function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

function parseRange(range: string): [IpAddress, number] {
  // ipaddr.js also reads shorthand IPv4 such as 10.1/16; an operator's range should say exactly
  // what it means, so IPv4 ranges must have four decimal parts.
  const valid = ipaddr.IPv6.isValidCIDR(range) || ipaddr.IPv4.isValidCIDRFourPartDecimal(range);
  if (!valid) throw new Error(`allowed range "${range}" is not a CIDR range such as 10.1.0.0/16, 127.0.0.1/32 or ::1/128`);
  return ipaddr.parseCIDR(range);
}

function inRange(address: IpAddress, [network, prefixLength]: [IpAddress, number]): boolean {
  // ipaddr.js throws when an IPv4 address is matched against an IPv6 range or the reverse.
  return address.kind() === network.kind() && address.match(network, prefixLength);
}
