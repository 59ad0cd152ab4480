import { WanApiError } from './errors.js';
import { readTaskEvents } from './task-event-stream.js';
import type {
  ModelId,
  ModelRequests,
  TaskCreated,
  TaskInfo,
  TaskList,
  TaskListQuery,
  TaskResult,
  TaskStreamEvent,
  UsageQuery,
  UsageReport,
  WebhookDeliveries,
} from './types.js';
import { terminalStatuses } from './types.js';

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
 *   the error is thrown for the caller to decide (its `mayHaveReachedServer` is true). A submit
 *   with an `idempotencyKey` is retried like a read: the server answers a repeat with the same task.
 *   A cancel is retried only as a plain submit is: a repeat of one that went through would answer 409.
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
  /**
   * An event stream that brings nothing, not even the server's heartbeat (every 15 s), for this
   * long is taken as dead and opened again. Default 45 000 ms.
   */
  streamIdleTimeoutMs?: number;
  /** Extra headers for every API request (not for result URLs). */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface SubmitOptions extends RequestOptions {
  /**
   * Sent as the `Idempotency-Key` header: the server answers the same task for a repeat of the
   * same request with the same key (24 h), so the submit is retried like a read.
   */
  idempotencyKey?: string;
}

export interface WaitOptions extends SubmitOptions {
  /** Called with the task after each poll or streamed change, the first one included. */
  onProgress?: (task: TaskInfo, result: TaskResult) => void;
  /**
   * Follow the task's live event stream (`GET /v3/async/task-events`) when the server offers it;
   * polling otherwise, and when false. Default true.
   */
  stream?: boolean;
  /** Give up (a `timeout` WanApiError) after this many milliseconds. Default: never. */
  timeout?: number;
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
}

export interface EventsOptions extends RequestOptions {
  /** The `id` of the last event seen: the stream resumes after it. */
  lastEventId?: string;
}

export interface UploadOptions extends RequestOptions {
  /** File name sent in `x-file-name`; a File's own name by default. */
  name?: string;
  /** Content-Type of the upload; a Blob's own type, else `application/octet-stream`. */
  contentType?: string;
}

/** What `upload` accepts: a File or Blob (browsers, Node 20), or bytes. */
export type UploadData = Blob | ArrayBuffer | Uint8Array;

/** `once`: retried only when the request provably never reached the server (see the top of this file). */
type RetryPolicy = 'idempotent' | 'once';

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
  private readonly streamIdleTimeoutMs: number;

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
    this.streamIdleTimeoutMs = options.streamIdleTimeoutMs ?? 45_000;
  }

  /**
   * Creates a task; answers its id. Without an idempotency key it is not retried once the request
   * may have reached the server.
   */
  async submit<Model extends ModelId>(model: Model, request: ModelRequests[Model], options: SubmitOptions = {}): Promise<string> {
    const idempotency: Record<string, string> = options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey };
    const response = await this.send(
      `/v3/async/${encodeURIComponent(model)}`,
      { method: 'POST', headers: { 'content-type': 'application/json', ...idempotency }, body: JSON.stringify(request) },
      options.idempotencyKey === undefined ? 'once' : 'idempotent',
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
   * Cancels a queued or running task (`POST /v3/async/task-cancel`) and answers its Task Result
   * (TASK_STATUS_FAILED, `extra.error.reason` TASK_CANCELLED). A task that already ended is a
   * 409 TASK_ALREADY_FINISHED WanApiError.
   */
  async cancel(taskId: string, options: RequestOptions = {}): Promise<TaskResult> {
    const response = await this.send(
      '/v3/async/task-cancel',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task_id: taskId }) },
      'once',
      options.signal,
    );
    return (await readJson(response)) as TaskResult;
  }

  /** One page of the key's tasks, newest first (`GET /v3/async/tasks`); `next_cursor` asks for the next. */
  async listTasks(query: TaskListQuery = {}, options: RequestOptions = {}): Promise<TaskList> {
    return (await readJson(await this.send(`/v3/async/tasks${searchOf(query)}`, { method: 'GET' }, 'idempotent', options.signal))) as TaskList;
  }

  /** What the key's tasks that ended in a period billed, per model or per UTC day (`GET /v3/usage`). */
  async usage(query: UsageQuery = {}, options: RequestOptions = {}): Promise<UsageReport> {
    return (await readJson(await this.send(`/v3/usage${searchOf(query)}`, { method: 'GET' }, 'idempotent', options.signal))) as UsageReport;
  }

  /** The delivery state of a task's webhook events (`GET /v3/async/task-webhooks`). */
  async webhookDeliveries(taskId: string, options: RequestOptions = {}): Promise<WebhookDeliveries> {
    const path = `/v3/async/task-webhooks?task_id=${encodeURIComponent(taskId)}`;
    return (await readJson(await this.send(path, { method: 'GET' }, 'idempotent', options.signal))) as WebhookDeliveries;
  }

  /** The key's webhook signing secret, `whsec_…` (`GET /v3/webhook-secret`). */
  async webhookSecret(options: RequestOptions = {}): Promise<string> {
    const answer = (await readJson(await this.send('/v3/webhook-secret', { method: 'GET' }, 'idempotent', options.signal))) as { secret: string };
    return answer.secret;
  }

  /**
   * The task's states as they change (`GET /v3/async/task-events`, Server-Sent Events), the
   * current one first, until it ends. A stream that breaks or goes quiet is opened again with
   * `Last-Event-ID`, up to `retry.maxRetries` times in a row. Throws a `STREAM_NOT_SUPPORTED`
   * WanApiError when the server answers something other than an event stream, and the API's
   * error (404 for a server without the endpoint) when it refuses.
   */
  async *events(taskId: string, options: EventsOptions = {}): AsyncGenerator<TaskStreamEvent> {
    let lastEventId = options.lastEventId;
    for (let reopened = 0; ; reopened++) {
      const idle = new AbortController();
      const response = await this.send(
        `/v3/async/task-events?task_id=${encodeURIComponent(taskId)}`,
        { method: 'GET', headers: { accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) } },
        'idempotent',
        anySignal([options.signal, idle.signal]),
      );
      if (!response.headers.get('content-type')?.startsWith('text/event-stream') || !response.body) {
        await response.body?.cancel().catch(() => undefined);
        throw new WanApiError({
          kind: 'http',
          status: response.status,
          reason: 'STREAM_NOT_SUPPORTED',
          message: `the server answered the task event stream with ${response.headers.get('content-type') ?? 'no content type'}`,
        });
      }
      try {
        for await (const message of readTaskEvents(response.body, this.streamIdleTimeoutMs, () => idle.abort())) {
          const result = JSON.parse(message.data) as TaskResult;
          lastEventId = message.id ?? lastEventId;
          reopened = 0;
          yield { id: lastEventId, result };
          if (terminalStatuses.includes(result.task.status)) return;
        }
      } catch (error) {
        if (options.signal?.aborted) throw abortedError(options.signal);
        if (error instanceof SyntaxError) {
          throw new WanApiError({ kind: 'http', status: response.status, reason: 'INVALID_RESPONSE', message: `an event of the task stream is not JSON: ${error.message}`, taskId });
        }
        // The connection broke or went quiet: opened again below.
      }
      if (reopened >= this.retry.maxRetries) {
        throw new WanApiError({ kind: 'network', status: 0, reason: 'NETWORK_ERROR', message: `the event stream of task ${taskId} kept closing before the task ended`, taskId });
      }
      await sleep(this.backoff(reopened), options.signal);
    }
  }

  /**
   * Waits until the task ends: answers the Task Result when it succeeded, throws a `task_failed`
   * WanApiError when it failed. Follows the task's event stream when the server has one, else
   * polls, backing off from `pollIntervalMs` to `maxPollIntervalMs`; a Retry-After on an answer
   * sets the next delay.
   */
  async waitFor(taskId: string, options: WaitOptions = {}): Promise<TaskResult> {
    const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
    const timedOut = () =>
      new WanApiError({ kind: 'timeout', status: 0, reason: 'TIMEOUT', taskId, message: `task ${taskId} did not end within ${options.timeout} ms` });
    if (options.stream !== false) {
      const deadlineSignal = deadline === Infinity ? undefined : AbortSignal.timeout(Math.max(1, deadline - Date.now()));
      try {
        for await (const { result } of this.events(taskId, { signal: anySignal([options.signal, deadlineSignal]) })) {
          options.onProgress?.(result.task, result);
          if (result.task.status === 'TASK_STATUS_SUCCEED') return result;
          if (result.task.status === 'TASK_STATUS_FAILED') throw taskFailedError(taskId, result);
        }
      } catch (error) {
        if (error instanceof WanApiError && error.kind === 'task_failed') throw error;
        if (options.signal?.aborted) throw abortedError(options.signal);
        if (deadlineSignal?.aborted) throw timedOut();
        // No stream here (an older server, another provider, a proxy that buffers): polling
        // reports any real error the same way a poll would.
      }
    }
    return this.poll(taskId, options, deadline, timedOut);
  }

  private async poll(taskId: string, options: WaitOptions, deadline: number, timedOut: () => WanApiError): Promise<TaskResult> {
    const maxInterval = options.maxPollIntervalMs ?? this.maxPollIntervalMs;
    let interval = options.pollIntervalMs ?? this.pollIntervalMs;
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
  if (policy === 'once') {
    if (error.kind === 'http') return error.status === 429 || error.status === 503;
    return error.kind === 'network' && !error.mayHaveReachedServer;
  }
  if (error.kind === 'network' || error.kind === 'timeout') return true;
  if (error.kind !== 'http') return false;
  return error.status === 429 || (error.status >= 500 && error.status !== 501 && error.status !== 505);
}

/** A query's given fields as a URL's search part (`?a=1&b=2`), or nothing. */
function searchOf(query: object): string {
  const parameters = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) parameters.set(name, String(value));
  return parameters.toString() === '' ? '' : `?${parameters}`;
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

/** The WanApiError of an error answer: the API's body when there is one, else its status and text. */
export async function errorFromResponse(response: Response): Promise<WanApiError> {
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
