import { isIP } from 'node:net';
import { AddressPolicy } from './address-policy.js';

/** Names that by convention never resolve on the internet (RFC 6761, RFC 8375, mDNS, cloud-internal DNS). */
const localNames = /(^|\.)(localhost|local|internal|lan|home\.arpa)$/i;

/**
 * Whether a machine on the internet (a cloud engine fetching an upload) can reach this URL: a
 * public IP address, or a dotted name that is not local by convention. A name is not resolved:
 * where it points is the operator's DNS, and a lookup at start would not say what a cloud sees.
 */
export function isPubliclyReachable(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  if (isIP(host)) return new AddressPolicy().check(host, host).allowed;
  return host.includes('.') && !localNames.test(host);
}
