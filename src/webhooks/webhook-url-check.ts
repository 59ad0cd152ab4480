import dns from 'node:dns';
import { invalidRequest } from '../spec/api-error.js';
import type { AddressPolicy } from '../net/address-policy.js';
import { checkedAddresses, type LookupAll, parseOutboundUrl } from '../net/checked-addresses.js';

/** How long the submit-time look-up of a webhook host may take. */
const lookupTimeoutMs = 5000;

/**
 * The submit-time check of a webhook URL, under the same address policy as media downloads:
 * http(s) only, no credentials, and a host whose every address the policy accepts (no loopback,
 * private, link-local or metadata address unless allowed). A refusal is a 400 naming the field.
 * Each delivery checks again, because what a host resolves to may change after submission.
 */
export function webhookUrlCheck(policy: AddressPolicy, lookup: LookupAll = (host) => dns.promises.lookup(host, { all: true })) {
  return async (url: string, field: string): Promise<void> => {
    try {
      await checkedAddresses(parseOutboundUrl(url), policy, lookup, AbortSignal.timeout(lookupTimeoutMs));
    } catch (error) {
      const why = error instanceof DOMException ? `looking up its host took longer than ${lookupTimeoutMs / 1000} s` : (error as Error).message;
      throw invalidRequest(field, `${field}: the webhook URL cannot be called: ${why}`, { value: safeShown(url) });
    }
  };
}

/** The URL as it may be echoed back: without credentials or query string. */
function safeShown(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return url.slice(0, 200);
  }
}
