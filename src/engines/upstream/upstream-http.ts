import type { UpstreamObserver } from '../../spec/upstream-observer.js';
import { parseRetryAfter } from './retry-after.js';
import { Semaphore } from './semaphore.js';

/**
 * HTTP calls to one upstream: its base URL, its API key in the Authorization header and nowhere
 * else, a timeout per request, and a limit on the requests in flight. Answers of any HTTP status
 * are returned for the protocol to read; only a request that got no answer throws.
 */

export interface UpstreamHttpOptions {
  /** Name of the engine, for messages. */
  engine: string;
  baseUrl: string;
  /** Sent as a Bearer token to `baseUrl`'s origin only; none when undefined. */
  apiKey?: string;
  /** Longest wait for one answer, from the moment the request may be sent. */
  timeoutMs: number;
  maxConcurrentRequests: number;
  /** Reads the upstream's error body: its error code and human message, when it has them. */
  describeError: (body: unknown) => { code?: string; message?: string };
  /** Told of every request and how long it took (the metrics). */
  observer?: UpstreamObserver;
}

export interface UpstreamResponse {
  status: number;
  /** The parsed JSON body; the text (cut) when it is not JSON; undefined when empty. */
  body: unknown;
  /** The Retry-After header, in milliseconds, when there was one. */
  retryAfterMs?: number;
}

/** A request that got no answer. */
export class UpstreamConnectionError extends Error {
  override name = 'UpstreamConnectionError';
  constructor(
    message: string,
    /**
     * False only when the connection was never made (refused, DNS, TLS, connect timeout): the
     * upstream cannot have seen the request. True when it may have arrived and been acted on.
     */
    readonly mayHaveArrived: boolean,
  ) {
    super(message);
  }
}

/** Codes of a connection that was never made (Node and its fetch, undici). */
const notConnectedCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Longest piece of a non-JSON body kept for messages. */
const bodyTextLimit = 300;

export class UpstreamHttp {
  readonly engine: string;
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly semaphore: Semaphore;
  private readonly describeError: UpstreamHttpOptions['describeError'];
  private readonly observer: UpstreamObserver | undefined;

  constructor(options: UpstreamHttpOptions) {
    this.engine = options.engine;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs;
    this.semaphore = new Semaphore(options.maxConcurrentRequests);
    this.describeError = options.describeError;
    this.observer = options.observer;
  }

  /** Requests in flight and waiting for a place, for tests and metrics. */
  get load(): { active: number; queued: number } {
    return { active: this.semaphore.active, queued: this.semaphore.queued };
  }

  /**
   * Sends one request: `body` goes as JSON, or as multipart when it is a FormData (files to
   * upload). Resolves with the answer whatever its status; throws UpstreamConnectionError when
   * no answer came.
   */
  async send(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<UpstreamResponse> {
    const multipart = body instanceof FormData;
    // The timeout starts once a place is free: waiting behind other requests is not the upstream's fault.
    return this.semaphore.run(async () => {
      const began = performance.now();
      let status: number | null = null;
      try {
        const response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: {
            ...headers,
            ...this.credentials(),
            ...(body === undefined || multipart ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : multipart ? body : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
          redirect: 'error',
        });
        // Read inside the timeout too: an answer whose body never ends is no answer.
        const text = await response.text();
        status = response.status;
        return {
          status: response.status,
          body: parseBody(text),
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), Date.now()),
        };
      } catch (error) {
        throw this.connectionError(error);
      } finally {
        this.observer?.requested(this.engine, status, performance.now() - began);
      }
    });
  }

  /** The headers a download of `url` carries: the key when `url` is on the upstream's own origin, else none. */
  credentialsFor(url: string): Record<string, string> {
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      return {};
    }
    return origin === new URL(this.baseUrl).origin ? this.credentials() : {};
  }

  private credentials(): Record<string, string> {
    return this.apiKey === undefined ? {} : { authorization: `Bearer ${this.apiKey}` };
  }

  /** "HTTP 400 InvalidParameter: <the upstream's message>", without the API key should it echo it. */
  describe(response: UpstreamResponse): string {
    const { code, message } = this.errorOf(response.body);
    const detail = [code, message].filter((part) => part !== undefined && part !== '').join(': ');
    return `HTTP ${response.status}${detail === '' ? '' : ` ${detail}`}`;
  }

  /** The error code and message of an upstream's error body, without the API key should it echo it. */
  errorOf(body: unknown): { code?: string; message?: string } {
    const described = typeof body === 'string' ? { message: body } : this.describeError(body);
    return {
      ...(described.code === undefined ? {} : { code: this.redact(described.code) }),
      ...(described.message === undefined ? {} : { message: this.redact(described.message) }),
    };
  }

  /** Text from the upstream with the API key blotted out (some services quote a refused key). */
  redact(text: string): string {
    return this.apiKey === undefined ? text : text.split(this.apiKey).join('[redacted]');
  }

  private connectionError(error: unknown): UpstreamConnectionError {
    const origin = new URL(this.baseUrl).origin;
    if (error instanceof Error && error.name === 'TimeoutError') {
      return new UpstreamConnectionError(`the ${this.engine} upstream at ${origin} did not answer within ${this.timeoutMs} ms`, true);
    }
    const code = causeCode(error);
    const why = this.redact(code ?? (error instanceof Error ? error.message : String(error)));
    return new UpstreamConnectionError(`cannot reach the ${this.engine} upstream at ${origin}: ${why}`, !neverConnected(code));
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text.length > bodyTextLimit ? `${text.slice(0, bodyTextLimit)}…` : text;
  }
}

/** The system error code behind a failed fetch (`fetch failed` wraps it in `cause`). */
function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | undefined)?.cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  return typeof code === 'string' ? code : undefined;
}

/** TLS failures happen while connecting, before the request is written. */
function neverConnected(code: string | undefined): boolean {
  if (code === undefined) return false;
  return notConnectedCodes.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.includes('CERT');
}
