import dns, { type LookupAddress } from 'node:dns';
import { open, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TLSSocket } from 'node:tls';
import type { AddressPolicy } from './address-policy.js';
import { checkedAddresses, type LookupAll, parseOutboundUrl, pinnedLookup } from './checked-addresses.js';
import { DownloadError, describeUrl } from './download-error.js';

export type { LookupAll };

export interface GuardedDownloaderOptions {
  policy: AddressPolicy;
  /** Resolves host names; the system resolver unless given. */
  lookup?: LookupAll;
  /** Limit for the TCP connection, and the TLS handshake for https. */
  connectTimeoutMs?: number;
  /** Limit for the whole download, redirects included. */
  totalTimeoutMs?: number;
  maxRedirects?: number;
  userAgent?: string;
}

export interface DownloadLimits {
  maxBytes: number;
  signal?: AbortSignal;
  /**
   * Extra request headers (an engine's Authorization), sent to the first URL's origin only: a
   * redirect to another origin gets none, so a credential never follows it elsewhere.
   */
  headers?: Record<string, string>;
}

export interface DownloadResult {
  bytes: number;
  contentType?: string;
  /** The URL the body came from, after redirects. */
  finalUrl: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Downloads http(s) URLs sent by users without letting them reach anything the address policy
 * refuses: every address a host resolves to is checked, the connection goes to the checked
 * addresses only, and every redirect is checked the same way.
 */
export class GuardedDownloader {
  private readonly policy: AddressPolicy;
  private readonly lookup: LookupAll;
  private readonly connectTimeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly maxRedirects: number;
  private readonly headers: Record<string, string>;

  constructor(options: GuardedDownloaderOptions) {
    this.policy = options.policy;
    this.lookup = options.lookup ?? ((hostname) => dns.promises.lookup(hostname, { all: true }));
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.totalTimeoutMs = options.totalTimeoutMs ?? 120_000;
    this.maxRedirects = options.maxRedirects ?? 5;
    this.headers = options.userAgent === undefined ? {} : { 'user-agent': options.userAgent };
  }

  /**
   * Streams the body of `url` to `file`. Rejects with a DownloadError, with the signal's reason
   * when `signal` aborts, or with the file system's error when `file` cannot be written; no
   * partial file is left behind.
   */
  async download(url: string, file: string, { maxBytes, signal, headers = {} }: DownloadLimits): Promise<DownloadResult> {
    const start = parseOutboundUrl(url);
    // One signal stops every stage (lookup, connection, body) for both the caller and the clock.
    const stop = new AbortController();
    const abortForCaller = () => stop.abort(signal?.reason);
    if (signal?.aborted) abortForCaller();
    signal?.addEventListener('abort', abortForCaller, { once: true });
    const totalTimer = setTimeout(() => {
      const seconds = this.totalTimeoutMs / 1000;
      stop.abort(new DownloadError('TIMEOUT', `downloading ${describeUrl(start)} took longer than ${seconds} s in total`));
    }, this.totalTimeoutMs);
    try {
      return await this.follow(start, file, maxBytes, headers, stop.signal);
    } catch (error) {
      // Whatever a stage reports after the stop (an AbortError, a closed socket), the reason for
      // the stop is the one worth telling.
      throw stop.signal.aborted ? stop.signal.reason : error;
    } finally {
      clearTimeout(totalTimer);
      signal?.removeEventListener('abort', abortForCaller);
    }
  }

  private async follow(start: URL, file: string, maxBytes: number, headers: Record<string, string>, signal: AbortSignal): Promise<DownloadResult> {
    let url = start;
    for (let redirects = 0; ; redirects++) {
      const addresses = await checkedAddresses(url, this.policy, this.lookup, signal);
      const response = await this.request(url, addresses, url.origin === start.origin ? headers : {}, signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(status) && location !== undefined) {
        response.destroy();
        if (redirects === this.maxRedirects) {
          throw new DownloadError('TOO_MANY_REDIRECTS', `${describeUrl(start)} redirects more than ${this.maxRedirects} times`);
        }
        url = parseOutboundUrl(location, url);
        continue;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw new DownloadError('HTTP_STATUS', `${describeUrl(url)} answered HTTP ${status}`, { status });
      }
      const bytes = await this.saveBody(response, url, file, maxBytes, signal);
      return { bytes, contentType: response.headers['content-type'], finalUrl: url.href };
    }
  }

  /** Sends the GET to the checked addresses and resolves with the answer's headers. */
  private request(url: URL, addresses: LookupAddress[], headers: Record<string, string>, signal: AbortSignal): Promise<IncomingMessage> {
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(url, {
        // A pooled socket could be one opened to an address this download never checked.
        agent: false,
        // The socket asks this instead of the resolver, so a second answer from DNS (a rebinding
        // attack) never matters. The URL's host stays the Host header and the TLS server name.
        lookup: pinnedLookup(addresses),
        headers: { ...headers, ...this.headers },
        signal,
      });
      const connectTimer = setTimeout(() => {
        const seconds = this.connectTimeoutMs / 1000;
        request.destroy(new DownloadError('TIMEOUT', `connecting to ${url.origin} took longer than ${seconds} s`));
      }, this.connectTimeoutMs);
      request.once('socket', (socket) => {
        socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      request.once('response', (response) => {
        clearTimeout(connectTimer);
        resolve(response);
      });
      // Kept for the request's whole life: a socket error after the answer arrived is emitted
      // here too, and the body's own error reports it.
      request.on('error', (error) => {
        clearTimeout(connectTimer);
        if (error instanceof DownloadError || signal.aborted) reject(error);
        else reject(new DownloadError('UNREACHABLE', `cannot connect to ${url.origin}: ${error.message}`, { cause: error }));
      });
      request.end();
    });
  }

  private async saveBody(response: IncomingMessage, url: URL, file: string, maxBytes: number, signal: AbortSignal): Promise<number> {
    const tooLarge = (what: string) =>
      new DownloadError('TOO_LARGE', `${describeUrl(url)} ${what} the limit of ${maxBytes} bytes`, { limitBytes: maxBytes });
    const declaredBytes = Number(response.headers['content-length']);
    if (declaredBytes > maxBytes) {
      response.destroy();
      throw tooLarge(`declares ${declaredBytes} bytes, over`);
    }
    // Opened before the body flows, so a file that cannot be created fails here, plainly.
    const sink = (await open(file, 'w')).createWriteStream();
    let bytes = 0;
    const limiter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(bytes > maxBytes ? tooLarge('is larger than') : null, chunk);
      },
    });
    // The stream that fails first is the cause; the pipeline then fails the others with the same
    // error. A disk that is full is the server's problem, not the URL's, so it is not wrapped.
    let failedFirst: 'network' | 'disk' | undefined;
    response.once('error', () => (failedFirst ??= 'network'));
    sink.once('error', () => (failedFirst ??= 'disk'));
    try {
      await pipeline(response, limiter, sink, { signal });
      return bytes;
    } catch (error) {
      await rm(file, { force: true });
      if (error instanceof DownloadError || signal.aborted || failedFirst === 'disk') throw error;
      throw new DownloadError('UNREACHABLE', `the connection to ${url.origin} broke during the download: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
