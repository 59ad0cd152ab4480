import { WanApiError } from './errors.js';
import type { ModelId, ModelRequests, TaskCreated, TaskInfo, TaskResult } from './types.js';

/**
 * A typed client of the Wan 2.7 asynchronous video API, for Node 20+ and browsers: it uses only
 * `fetch`, `AbortController` and timers, and imports nothing of the server at run time. It talks
 * to any provider of the same API (`Authorization: Bearer <key>`).
 *
 * Retries (see docs/cli-and-sdk.md, "Retries and idempotency"):
 * - reads (task result, download) and uploads are retried after network errors, timeouts, 429 and
 *   5xx answers (except 501 and 505), with exponential backoff and jitter, honouring Retry-After;
 * - a submit creates a task, so it is retried only when the failure proves the server did not take
 *   the request: a 429 or a 503 answer, or a connection that was never made (refused, DNS
 *   failure). After a 500, a 502, a 504, a reset connection or a timeout, the task may exist, and
 *   the error is thrown for the caller to decide (its `mayHaveReachedServer` is true).
 */

export interface RetryOptions {
  /** Retries after the first attempt; 0 turns retrying off. Default 3. */
  maxRetries?: number;
  /** First backoff delay; it doubles at each retry, with jitter. Default 500 ms. */
  initialDelayMs?: number;
  /** Longest backoff delay. Default 8000 ms. */
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the error is thrown. Default 60 000 ms. */
  maxRetryAfterMs?: number;
}

export interface WanClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:8080` or `https://api.example.com/proxy`. */
  baseUrl: string;
  /** The API key, sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Longest wait for one HTTP answer (headers). Default 30 000 ms. */
  requestTimeoutMs?: number;
  retry?: RetryOptions;
  /** First interval between two polls of `waitFor`. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Polls back off up to this interval. Default 10 000 ms. */
  maxPollIntervalMs?: number;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
  /** Extra headers for every API request (not for result URLs). */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface WaitOptions extends RequestOptions {
  /** Called with the task after each poll, the first one included. */
  onProgress?: (task: TaskInfo, result: TaskResult) => void;
  /** Give up (a `timeout` WanApiError) after this many milliseconds. Default: never. */
  timeout?: number;
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
}

export interface UploadOptions extends RequestOptions {
  /** File name sent in `x-file-name`; a File's own name by default. */
  name?: string;
  /** Content-Type of the upload; a Blob's own type, else `application/octet-stream`. */
  contentType?: string;
}

/** What `upload` accepts: a File or Blob (browsers, Node 20), or bytes. */
export type UploadData = Blob | ArrayBuffer | Uint8Array;

type RetryPolicy = 'idempotent' | 'submit';

/** Error codes of a connection that was never made: the request cannot have reached the server. */
const notConnectedCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export class WanClient {
  readonly baseUrl: string;
  private readonly apiKey?: string;
  private readonly requestTimeoutMs: number;
  private readonly retry: Required<RetryOptions>;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly headers: Record<string, string>;

  constructor(options: WanClientOptions) {
    if (!options.baseUrl) throw new TypeError('WanClient: baseUrl is required');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.retry = {
      maxRetries: options.retry?.maxRetries ?? 3,
      initialDelayMs: options.retry?.initialDelayMs ?? 500,
      maxDelayMs: options.retry?.maxDelayMs ?? 8000,
      maxRetryAfterMs: options.retry?.maxRetryAfterMs ?? 60_000,
    };
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.maxPollIntervalMs = options.maxPollIntervalMs ?? 10_000;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = options.headers ?? {};
  }

  /** Creates a task; answers its id. Not retried once the request may have reached the server. */
  async submit<Model extends ModelId>(model: Model, request: ModelRequests[Model], options: RequestOptions = {}): Promise<string> {
    const response = await this.send(
      `/v3/async/${encodeURIComponent(model)}`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) },
      'submit',
      options.signal,
    );
    const created = (await readJson(response)) as TaskCreated;
    if (typeof created?.task_id !== 'string') {
      throw new WanApiError({ kind: 'http', status: response.status, reason: 'INVALID_RESPONSE', message: 'the create-task answer has no task_id' });
    }
    return created.task_id;
  }

  /** The task as it stands now (`GET /v3/async/task-result`). */
  async getResult(taskId: string, options: RequestOptions = {}): Promise<TaskResult> {
    return (await this.readResult(taskId, options.signal)).result;
  }

  /**
   * Polls until the task ends: answers the Task Result when it succeeded, throws a `task_failed`
   * WanApiError when it failed. Polls back off from `pollIntervalMs` to `maxPollIntervalMs`; a
   * Retry-After on an answer sets the next delay.
   */
  async waitFor(taskId: string, options: WaitOptions = {}): Promise<TaskResult> {
    const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
    const maxInterval = options.maxPollIntervalMs ?? this.maxPollIntervalMs;
    let interval = options.pollIntervalMs ?? this.pollIntervalMs;
    const timedOut = () =>
      new WanApiError({ kind: 'timeout', status: 0, reason: 'TIMEOUT', taskId, message: `task ${taskId} did not end within ${options.timeout} ms` });
    for (;;) {
      throwIfAborted(options.signal);
      const deadlineSignal = deadline === Infinity ? undefined : AbortSignal.timeout(Math.max(1, deadline - Date.now()));
      let read: { result: TaskResult; retryAfterMs?: number };
      try {
        read = await this.readResult(taskId, anySignal([options.signal, deadlineSignal]));
      } catch (error) {
        if (deadlineSignal?.aborted && !options.signal?.aborted) throw timedOut();
        throw error;
      }
      const { result } = read;
      options.onProgress?.(result.task, result);
      if (result.task.status === 'TASK_STATUS_SUCCEED') return result;
      if (result.task.status === 'TASK_STATUS_FAILED') throw taskFailedError(taskId, result);
      const delay = read.retryAfterMs ?? interval;
      interval = Math.min(maxInterval, Math.ceil(interval * 1.5));
      const left = deadline - Date.now();
      if (left <= 0) throw timedOut();
      await sleep(Math.min(delay, left), options.signal);
      if (Date.now() >= deadline) throw timedOut();
    }
  }

  /** submit, then waitFor. */
  async run<Model extends ModelId>(model: Model, request: ModelRequests[Model], options: WaitOptions = {}): Promise<TaskResult> {
    const taskId = await this.submit(model, request, options);
    return this.waitFor(taskId, options);
  }

  /**
   * Uploads a file for use as input media and answers its URL: `POST /v3/uploads` with the file as
   * the raw body, its Content-Type and `x-file-name` (URI-encoded), answered by `{"url": "…"}`.
   * A server without uploads answers 404 (a WanApiError with status 404). Retried as a read: a
   * second copy of a file costs nothing.
   */
  async upload(data: UploadData, options: UploadOptions = {}): Promise<string> {
    const blobType = typeof Blob !== 'undefined' && data instanceof Blob ? data.type : '';
    const fileName = options.name ?? (isNamed(data) ? data.name : 'upload');
    const response = await this.send(
      '/v3/uploads',
      {
        method: 'POST',
        headers: {
          'content-type': options.contentType || blobType || 'application/octet-stream',
          'x-file-name': encodeURIComponent(fileName),
        },
        body: data as BodyInit,
      },
      'idempotent',
      options.signal,
    );
    const answer = (await readJson(response)) as { url?: unknown };
    if (typeof answer?.url !== 'string') {
      throw new WanApiError({ kind: 'http', status: response.status, reason: 'INVALID_RESPONSE', message: 'the upload answer has no url' });
    }
    return answer.url;
  }

  /**
   * Fetches a URL of a result (a signed video URL needs no key, and none is sent to it), retried
   * as a read. Answers the Response, whose body the caller reads or streams.
   */
  async fetchFile(url: string, options: RequestOptions = {}): Promise<Response> {
    return this.send(url, { method: 'GET' }, 'idempotent', options.signal, false);
  }

  private async readResult(taskId: string, signal?: AbortSignal): Promise<{ result: TaskResult; retryAfterMs?: number }> {
    const response = await this.send(`/v3/async/task-result?task_id=${encodeURIComponent(taskId)}`, { method: 'GET' }, 'idempotent', signal);
    const result = (await readJson(response)) as TaskResult;
    if (typeof result?.task?.status !== 'string') {
      throw new WanApiError({ kind: 'http', status: response.status, reason: 'INVALID_RESPONSE', message: 'the task-result answer has no task.status', taskId });
    }
    return { result, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
  }

  /** One API call with the retry policy; answers a 2xx response or throws a WanApiError. */
  private async send(
    pathOrUrl: string,
    init: { method: string; headers?: Record<string, string>; body?: BodyInit },
    policy: RetryPolicy,
    signal: AbortSignal | undefined,
    authorized = true,
  ): Promise<Response> {
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const headers: Record<string, string> = authorized ? { ...this.headers, ...init.headers } : { ...init.headers };
    if (authorized && this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), this.requestTimeoutMs);
      let error: WanApiError;
      let retryAfter: number | undefined;
      try {
        const response = await this.fetchImpl(url, { ...init, headers, signal: anySignal([signal, timeout.signal]) });
        if (response.ok) return response;
        error = await errorFromResponse(response);
        retryAfter = retryAfterMs(response.headers.get('retry-after'));
      } catch (thrown) {
        if (thrown instanceof WanApiError) throw thrown;
        if (signal?.aborted) throw abortedError(signal);
        error = timeout.signal.aborted
          ? new WanApiError({
              kind: 'timeout',
              status: 0,
              reason: 'TIMEOUT',
              message: `${init.method} ${url}: no answer within ${this.requestTimeoutMs} ms`,
              cause: thrown,
            })
          : networkError(init.method, url, thrown);
      } finally {
        clearTimeout(timer);
      }
      if (attempt >= this.retry.maxRetries || !retryable(error, policy)) throw error;
      if (retryAfter !== undefined && retryAfter > this.retry.maxRetryAfterMs) throw error;
      await sleep(retryAfter ?? this.backoff(attempt), signal);
    }
  }

  private backoff(attempt: number): number {
    const delay = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** attempt);
    return delay / 2 + Math.random() * (delay / 2);
  }
}

/** The retry rule; see the comment at the top of this file. */
function retryable(error: WanApiError, policy: RetryPolicy): boolean {
  if (policy === 'submit') {
    if (error.kind === 'http') return error.status === 429 || error.status === 503;
    return error.kind === 'network' && !error.mayHaveReachedServer;
  }
  if (error.kind === 'network' || error.kind === 'timeout') return true;
  if (error.kind !== 'http') return false;
  return error.status === 429 || (error.status >= 500 && error.status !== 501 && error.status !== 505);
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new WanApiError({
      kind: 'http',
      status: response.status,
      reason: 'INVALID_RESPONSE',
      message: `expected JSON from ${response.url || 'the server'}, got ${JSON.stringify(text.slice(0, 120))}`,
    });
  }
}

async function errorFromResponse(response: Response): Promise<WanApiError> {
  const text = await response.text().catch(() => '');
  let body: { code?: unknown; reason?: unknown; message?: unknown; metadata?: unknown } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body && typeof body === 'object' && typeof body.reason === 'string') {
    return new WanApiError({
      kind: 'http',
      status: response.status,
      code: typeof body.code === 'number' ? body.code : response.status,
      reason: body.reason,
      message: typeof body.message === 'string' ? body.message : body.reason,
      metadata: body.metadata && typeof body.metadata === 'object' ? (body.metadata as Record<string, unknown>) : {},
    });
  }
  const snippet = text.trim().slice(0, 200);
  return new WanApiError({
    kind: 'http',
    status: response.status,
    reason: `HTTP_${response.status}`,
    message: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`,
  });
}

function networkError(method: string, url: string, thrown: unknown): WanApiError {
  const code = causeCode(thrown);
  const detail = code ?? (thrown instanceof Error ? (thrown.cause instanceof Error ? thrown.cause.message : thrown.message) : String(thrown));
  return new WanApiError({
    kind: 'network',
    status: 0,
    reason: 'NETWORK_ERROR',
    message: `${method} ${url}: cannot reach the server (${detail})`,
    metadata: code ? { error_code: code } : {},
    mayHaveReachedServer: !(code !== undefined && notConnectedCodes.has(code)),
    cause: thrown,
  });
}

/** The system error code behind a fetch failure (Node's fetch puts it on `cause`), if any. */
function causeCode(thrown: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [thrown];
  while (queue.length > 0) {
    const item = queue.shift();
    if (item === null || typeof item !== 'object' || seen.has(item)) continue;
    seen.add(item);
    const code = (item as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_INVALID_ARG_TYPE') return code;
    queue.push((item as { cause?: unknown }).cause, ...(((item as { errors?: unknown[] }).errors) ?? []));
  }
  return undefined;
}

function taskFailedError(taskId: string, result: TaskResult): WanApiError {
  const body = result.extra?.error;
  return new WanApiError({
    kind: 'task_failed',
    status: 200,
    code: body?.code,
    reason: body?.reason ?? 'TASK_FAILED',
    message: result.task.reason || body?.message || `task ${taskId} failed`,
    metadata: body?.metadata ?? {},
    taskId,
    result,
  });
}

function abortedError(signal: AbortSignal): WanApiError {
  return new WanApiError({ kind: 'aborted', status: 0, reason: 'ABORTED', message: 'the operation was aborted', cause: signal.reason });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

/** Milliseconds of a Retry-After header (seconds or an HTTP date), if there is a valid one. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(header.trim())) return Math.round(Number(header) * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A signal that aborts when any of the given ones does (AbortSignal.any is not everywhere yet). */
function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (present.length <= 1) return present[0];
  const controller = new AbortController();
  for (const signal of present) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

function isNamed(data: unknown): data is { name: string } {
  return typeof (data as { name?: unknown }).name === 'string';
}
