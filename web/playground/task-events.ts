import type { WanClient } from '../../src/client/client.js';
import { WanApiError } from '../../src/client/errors.js';
import { terminalStatuses, type TaskResult } from '../../src/client/types.js';
import { isMissingEndpoint } from './missing-endpoint.js';

/**
 * Follows a task until it ends, calling `onUpdate` with each state: live from the status stream
 * `GET /v3/async/task-events` (Server-Sent Events), or, on a server without it (404), by reading
 * `GET /v3/async/task-result` every second.
 *
 * The stream is the SDK's `events()`: read with fetch (EventSource cannot send an Authorization
 * header), opened again with `Last-Event-ID` where it broke off, so no state is seen twice. When
 * it gives up (the client's retries used up) the task is polled instead; only an answer about the
 * task or the key (4xx other than 429) is an error to show.
 */

export type FollowMode = 'stream' | 'polling';

export interface FollowOptions {
  /** Reads the stream and, when polling, the task (its retries and Retry-After handling apply). */
  client: WanClient;
  signal?: AbortSignal;
  onUpdate: (result: TaskResult, mode: FollowMode) => void;
  pollIntervalMs?: number;
}

/** Answers the task's final state (succeeded or failed). */
export async function followTask(taskId: string, options: FollowOptions): Promise<TaskResult> {
  try {
    for await (const { result } of options.client.events(taskId, { signal: options.signal })) {
      options.onUpdate(result, 'stream');
      if (terminalStatuses.includes(result.task.status)) return result;
    }
  } catch (error) {
    if (options.signal?.aborted || refusal(error)) throw error;
  }
  return poll(taskId, options);
}

/** An answer that polling would get as well: the task does not exist, the key is refused. */
function refusal(error: unknown): boolean {
  return (
    error instanceof WanApiError && error.kind === 'http' && error.status >= 400 && error.status < 500 && error.status !== 429 && !isMissingEndpoint(error)
  );
}

async function poll(taskId: string, options: FollowOptions): Promise<TaskResult> {
  const interval = options.pollIntervalMs ?? 1000;
  try {
    return await options.client.waitFor(taskId, {
      signal: options.signal,
      // Reading the task only: the stream was given up already.
      stream: false,
      pollIntervalMs: interval,
      maxPollIntervalMs: interval,
      onProgress: (_task, result) => options.onUpdate(result, 'polling'),
    });
  } catch (error) {
    // A failed task is a final state to show, not an error of following it.
    if (error instanceof WanApiError && error.kind === 'task_failed') return error.result as TaskResult;
    throw error;
  }
}
