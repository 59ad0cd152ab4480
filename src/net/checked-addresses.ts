import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-policy.js';
import { DownloadError, describeUrl } from './download-error.js';

/** `dns.promises.lookup` with `{ all: true }`: every address of a host name. */
export type LookupAll = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

/**
 * Parses a URL the server is asked to reach on a user's behalf (a redirect's Location relative
 * to `base`) and refuses what must never be reached: schemes other than http and https, and
 * credentials, which would be sent to whatever host the URL or a redirect names.
 */
export function parseOutboundUrl(text: string, base?: URL): URL {
  const subject = base === undefined ? 'the URL' : `${describeUrl(base)} redirects to a URL that`;
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new DownloadError('URL_NOT_ALLOWED', `${subject} is not valid`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DownloadError('URL_NOT_ALLOWED', `${subject} uses ${url.protocol}; only http: and https: URLs are accepted`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new DownloadError('URL_NOT_ALLOWED', `${subject} carries a user name or password, which is not accepted`);
  }
  return url;
}

/**
 * Every address of the URL's host, each one accepted by the policy; one refused address refuses
 * the URL. The answer is what the connection must use (see pinnedLookup), so that a second DNS
 * answer (a rebinding attack) never matters.
 */
export async function checkedAddresses(url: URL, policy: AddressPolicy, lookup: LookupAll, signal: AbortSignal): Promise<LookupAddress[]> {
  // WHATWG URLs keep IPv6 literals in brackets; the policy and sockets want the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literalFamily = isIP(host);
  const addresses = literalFamily !== 0 ? [{ address: host, family: literalFamily }] : await resolve(host, lookup, signal);
  for (const { address } of addresses) {
    const verdict = policy.check(host, address);
    if (!verdict.allowed) {
      const why = literalFamily !== 0 ? verdict.why : `${host} resolves to a refused address: ${verdict.why}`;
      throw new DownloadError('ADDRESS_NOT_ALLOWED', `refusing ${describeUrl(url)}: ${why}`);
    }
  }
  return addresses;
}

async function resolve(host: string, lookup: LookupAll, signal: AbortSignal): Promise<LookupAddress[]> {
  let addresses: LookupAddress[];
  try {
    addresses = await untilAborted(lookup(host, { all: true }), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    throw new DownloadError('UNREACHABLE', `cannot resolve ${host}: ${(error as Error).message}`, { cause: error });
  }
  if (addresses.length === 0) throw new DownloadError('UNREACHABLE', `cannot resolve ${host}: it has no address`);
  return addresses;
}

/** A `lookup` for net.connect that answers with addresses already checked. */
export function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    // With `all` (Node's happy-eyeballs connect) every checked address may be tried.
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
}

/** `promise`, or the signal's reason as soon as it aborts (a DNS lookup cannot be cancelled). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
