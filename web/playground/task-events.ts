import { EventSourceParserStream } from 'eventsource-parser/stream';
import { errorFromResponse, type WanClient } from '../../src/client/client.js';
import { WanApiError } from '../../src/client/errors.js';
import { terminalStatuses, type TaskResult } from '../../src/client/types.js';
import { isMissingEndpoint } from './missing-endpoint.js';

/**
 * Follows a task until it ends, calling `onUpdate` with each state: live from the status stream
 * `GET /v3/async/task-events` (Server-Sent Events), or, on a server without it (404), by reading
 * `GET /v3/async/task-result` every second.
 *
 * EventSource cannot send an Authorization header, so the stream is read with fetch and parsed
 * with eventsource-parser. A stream that breaks off before the task ended is opened again with
 * `Last-Event-ID`, so no state is seen twice; after `maxReconnects` failures in a row the task is
 * polled instead.
 */

export type FollowMode = 'stream' | 'polling';

export interface FollowOptions {
  /** Reads the task when polling (its retries and Retry-After handling apply). */
  client: WanClient;
  apiKey: string;
  signal?: AbortSignal;
  onUpdate: (result: TaskResult, mode: FollowMode) => void;
  pollIntervalMs?: number;
  /** Pause before opening a broken stream again. */
  reconnectDelayMs?: number;
  maxReconnects?: number;
  fetch?: typeof fetch;
}

/** Answers the task's final state (succeeded or failed). */
export async function followTask(taskId: string, options: FollowOptions): Promise<TaskResult> {
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const maxReconnects = options.maxReconnects ?? 3;
  const url = `${options.client.baseUrl}/v3/async/task-events?task_id=${encodeURIComponent(taskId)}`;
  let lastEventId: string | undefined;
  let failures = 0;
  for (;;) {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          accept: 'text/event-stream',
          ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
        },
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (++failures > maxReconnects) return poll(taskId, options);
      await sleep(options.reconnectDelayMs ?? 1000, options.signal);
      continue;
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      if (isMissingEndpoint(error)) return poll(taskId, options);
      if (response.status < 500 && response.status !== 429) throw error;
      if (++failures > maxReconnects) return poll(taskId, options);
      await sleep(options.reconnectDelayMs ?? 1000, options.signal);
      continue;
    }
    try {
      for await (const event of events(response)) {
        if (event.event !== undefined && event.event !== 'task') continue;
        const result = JSON.parse(event.data) as TaskResult;
        if (event.id !== undefined) lastEventId = event.id;
        failures = 0;
        options.onUpdate(result, 'stream');
        if (terminalStatuses.includes(result.task.status)) return result;
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
    }
    // The stream ended (or broke) before the task did: a proxy's timeout, a server restart.
    if (++failures > maxReconnects) return poll(taskId, options);
    await sleep(options.reconnectDelayMs ?? 1000, options.signal);
  }
}

async function* events(response: Response) {
  if (response.body === null) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // Leaving early (the task ended) closes the connection rather than leaving it to the server.
    await reader.cancel().catch(() => undefined);
  }
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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
