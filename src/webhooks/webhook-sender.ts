import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { AddressPolicy } from '../net/address-policy.js';
import { checkedAddresses, type LookupAll, parseOutboundUrl, pinnedLookup } from '../net/checked-addresses.js';
import { describeUrl } from '../net/download-error.js';
import { parseRetryAfter } from '../engines/upstream/retry-after.js';
import type { AttemptResult } from './retry-schedule.js';

export interface WebhookSenderOptions {
  /** The same policy as media downloads: webhook URLs may not reach private networks either. */
  policy: AddressPolicy;
  lookup?: LookupAll;
  /** An attempt that has no answer by then failed. */
  timeoutMs?: number;
  userAgent?: string;
}

/** The most of a receiver's answer that is read (and thrown away) before the connection is closed. */
const answerBytesRead = 64 * 1024;

/**
 * POSTs one webhook event through the address guard: the URL's host is resolved and every
 * address checked at each attempt (DNS may have changed since submission), the connection goes
 * to the checked addresses only, and redirects are not followed (a 3xx is a failed attempt).
 * Never throws: every way an attempt can fail is an AttemptResult.
 */
export class WebhookSender {
  private readonly lookup: LookupAll;
  private readonly timeoutMs: number;

  constructor(private readonly options: WebhookSenderOptions) {
    this.lookup = options.lookup ?? ((hostname) => dns.promises.lookup(hostname, { all: true }));
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  async post(target: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let url: URL | undefined;
    try {
      url = parseOutboundUrl(target);
      const addresses = await checkedAddresses(url, this.options.policy, this.lookup, signal);
      return await this.send(url, addresses, headers, body, signal);
    } catch (error) {
      const where = url ? describeUrl(url) : 'the webhook URL';
      if (signal.aborted) return { ok: false, statusCode: null, error: `${where} did not answer within ${this.timeoutMs / 1000} s` };
      return { ok: false, statusCode: null, error: (error as Error).message };
    }
  }

  private send(
    url: URL,
    addresses: Awaited<ReturnType<typeof checkedAddresses>>,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(url, {
        method: 'POST',
        // A pooled socket could be one opened to an address this attempt never checked.
        agent: false,
        lookup: pinnedLookup(addresses),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
        },
        signal,
      });
      request.once('response', (response) => {
        const statusCode = response.statusCode ?? 0;
        // The answer's body means nothing to the sender; a little is read so the receiver is not
        // cut off mid-write, then the connection goes.
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > answerBytesRead) response.destroy();
        });
        response.once('end', () => request.destroy());
        response.once('error', () => undefined);
        if (statusCode >= 200 && statusCode <= 299) {
          resolve({ ok: true, statusCode });
          return;
        }
        const retryAfter = parseRetryAfter(response.headers['retry-after'], Date.now());
        const redirect = statusCode >= 300 && statusCode <= 399 ? ' (redirects are not followed)' : '';
        resolve({
          ok: false,
          statusCode,
          error: `${describeUrl(url)} answered HTTP ${statusCode}${redirect}`,
          ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
        });
      });
      request.once('error', (error) => reject(new Error(`cannot deliver to ${url.origin}: ${error.message}`)));
      request.end(body);
    });
  }
}
