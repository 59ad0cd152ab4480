import { ApiError, errors } from '../../spec/api-error.js';
import { EngineUnavailable } from '../../spec/engine.js';
import { UpstreamConnectionError, type UpstreamHttp, type UpstreamResponse } from './upstream-http.js';
import type { PollOutcome } from './upstream-protocol.js';

/**
 * What a failed call to an upstream means for the task, the same for every upstream protocol.
 *
 * A create call that the upstream did not accept throws EngineUnavailable, so that the worker
 * may offer the task to the next engine of its route: the connection was never made, the
 * upstream answered 429 or 5xx, or it refused the server's key (another engine may hold a good
 * one). A create call that may have been accepted must not be sent anywhere again, or the task
 * would be paid twice: it fails the task. A check (poll) is harmless to repeat, so its network
 * trouble only postpones the next check.
 */

/**
 * Sends a create call. Resolves with a 2xx answer or an error answer for the protocol to read
 * (its own codes: refusals, throttling in a 4xx …); throws for the cases every upstream shares.
 */
export async function sendCreate(
  http: UpstreamHttp,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<UpstreamResponse> {
  let response: UpstreamResponse;
  try {
    response = await http.send('POST', path, body, headers);
  } catch (error) {
    if (!(error instanceof UpstreamConnectionError)) throw error;
    if (!error.mayHaveArrived) throw new EngineUnavailable(http.engine, `${error.message}; nothing was created there`);
    throw acceptanceUnknown(http.engine, error.message);
  }
  if (response.status === 429 || response.status >= 500) {
    throw new EngineUnavailable(http.engine, `the ${http.engine} upstream did not take the task: ${http.describe(response)}`, response.retryAfterMs);
  }
  if (response.status === 401 || response.status === 403) {
    throw misconfigured(http.engine, `the ${http.engine} upstream refused the server's API key: ${http.describe(response)}`);
  }
  return response;
}

/** A 2xx answer: the upstream did what was asked. */
export function isSuccess(response: UpstreamResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

/**
 * The task id of a create call's 2xx answer, as the protocol found it in the body. Without one,
 * the upstream may still have accepted (and billed) the task, so it is not sent anywhere again.
 */
export function acceptedTaskId(http: UpstreamHttp, response: UpstreamResponse, taskId: unknown): string {
  if (typeof taskId === 'string' && taskId !== '') return taskId;
  throw acceptanceUnknown(http.engine, `the ${http.engine} upstream answered HTTP ${response.status} without a task id`);
}

export type PollAnswer =
  | { kind: 'answer'; response: UpstreamResponse }
  /** No usable answer this time; the task is still followed. */
  | { kind: 'unreachable'; why: string; retryAfterMs?: number }
  | { kind: 'failed'; error: ApiError };

/** Sends a check of a task; network trouble, 429 and 5xx come back as `unreachable`. */
export async function sendPoll(http: UpstreamHttp, path: string): Promise<PollAnswer> {
  let response: UpstreamResponse;
  try {
    response = await http.send('GET', path);
  } catch (error) {
    if (!(error instanceof UpstreamConnectionError)) throw error;
    return { kind: 'unreachable', why: error.message };
  }
  if (response.status === 429 || response.status >= 500) {
    return { kind: 'unreachable', why: `the ${http.engine} upstream answered ${http.describe(response)}`, retryAfterMs: response.retryAfterMs };
  }
  if (response.status === 401 || response.status === 403) {
    // Not INVALID_API_KEY: that reason speaks of the client's key, and the client's key is fine.
    return {
      kind: 'failed',
      error: errors.taskFailed(
        `server configuration problem: the ${http.engine} upstream refused the server's API key while the task ` +
          `was followed (${http.describe(response)}); the task cannot be followed to its end`,
        { engine: http.engine },
      ),
    };
  }
  return { kind: 'answer', response };
}

/**
 * Checks a task at `path`. What every upstream shares is settled here (trouble that only
 * postpones the next check, a refused key, an error answer about the task); `readReport` reads
 * the upstream's own report of the task from a 2xx answer.
 */
export async function checkTask(
  http: UpstreamHttp,
  path: string,
  upstreamTaskId: string,
  readReport: (response: UpstreamResponse) => PollOutcome,
): Promise<PollOutcome> {
  const answer = await sendPoll(http, path);
  if (answer.kind === 'unreachable') return { state: 'unreachable', why: answer.why, retryAfterMs: answer.retryAfterMs };
  if (answer.kind === 'failed') return { state: 'failed', error: answer.error };
  if (!isSuccess(answer.response)) {
    return {
      state: 'failed',
      error: errors.taskFailed(`the ${http.engine} upstream cannot report task ${upstreamTaskId}: ${http.describe(answer.response)}`, {
        engine: http.engine,
        upstream_task_id: upstreamTaskId,
      }),
    };
  }
  return readReport(answer.response);
}

/** Sends a call whose failure changes nothing (a cancel): never throws. */
export async function sendQuietly(http: UpstreamHttp, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<void> {
  try {
    await http.send(method, path, body);
  } catch {
    // Nothing to do: the task ends on its own at the upstream.
  }
}

/**
 * The upstream could not take tasks because of the server's set-up (key, balance, region): not
 * the client's fault, and another engine may be set up well. The message says so, for the log.
 */
export function misconfigured(engine: string, detail: string): EngineUnavailable {
  return new EngineUnavailable(engine, `server configuration problem: ${detail}`);
}

/**
 * The create call was sent and no readable answer came back: the upstream may have accepted
 * (and billed) the task, so it is sent to no engine again.
 */
export function acceptanceUnknown(engine: string, detail: string): ApiError {
  return errors.taskFailed(
    `${detail}, after the task was sent to it; it may have accepted the task, so the task is not ` +
      'sent again (that could bill it twice)',
    { engine, upstream_acceptance: 'unknown' },
  );
}
