import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { WanClient } from '../../src/client/client.js';
import { WanApiError } from '../../src/client/errors.js';
import type { TaskResult } from '../../src/client/types.js';
import { type FollowMode, followTask } from '../../web/playground/task-events.js';

/**
 * How the playground follows a task: the status stream (Server-Sent Events read with fetch),
 * opened again where it broke off, and polling on a server without the stream. A stub server on
 * loopback plays each case.
 */

const key = 'wan_test_key';

function taskResult(status: TaskResult['task']['status'], progress: number): TaskResult {
  return {
    task: { task_id: 't1', task_type: 'WAN_2_7_T2V', status, reason: status === 'TASK_STATUS_FAILED' ? 'it broke' : '', eta: 0, progress_percent: progress },
    images: [],
    videos: status === 'TASK_STATUS_SUCCEED' ? [{ video_url: 'http://127.0.0.1/v.mp4', video_url_ttl: '3600', video_type: 'mp4' }] : [],
    audios: [],
    extra: { seed: '1', debug_info: { request_info: '', submit_time_ms: '0', execute_time_ms: '', complete_time_ms: '' } },
  };
}

function event(id: number, result: TaskResult): string {
  return `id: ${id}\nevent: task\ndata: ${JSON.stringify(result)}\n\n`;
}

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  at: number;
}

/** A server whose every request goes to `handle`; the requests are kept in order. */
async function stub(handle: (path: string, response: ServerResponse, seen: Seen[]) => void) {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    seen.push({ path: request.url!, headers: request.headers, at: Date.now() });
    handle(request.url!.split('?')[0], response, seen);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const apiNotFound = { code: 404, reason: 'API_NOT_FOUND', message: 'no API at GET /v3/async/task-events', metadata: {} };

async function follow(url: string, options: { pollIntervalMs?: number; signal?: AbortSignal; maxRetries?: number } = {}) {
  const updates: { status: string; progress: number; mode: FollowMode }[] = [];
  const { maxRetries = 3, ...rest } = options;
  const client = new WanClient({ baseUrl: url, apiKey: key, retry: { maxRetries, initialDelayMs: 10 } });
  const result = await followTask('t1', {
    client,
    ...rest,
    onUpdate: (update, mode) => updates.push({ status: update.task.status, progress: update.task.progress_percent, mode }),
  });
  return { result, updates };
}

test('the stream: every state in order, across chunk boundaries and heartbeats, until the terminal one', async () => {
  const { url, seen } = await stub((_path, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(': keep-alive\n\n');
    response.write(event(1, taskResult('TASK_STATUS_QUEUED', 0)));
    const processing = event(2, taskResult('TASK_STATUS_PROCESSING', 40));
    response.write(processing.slice(0, 30));
    setTimeout(() => {
      response.write(processing.slice(30));
      response.write(': keep-alive\n\n');
      response.end(event(3, taskResult('TASK_STATUS_SUCCEED', 100)));
    }, 20);
  });
  const { result, updates } = await follow(url);
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED');
  assert.deepEqual(updates, [
    { status: 'TASK_STATUS_QUEUED', progress: 0, mode: 'stream' },
    { status: 'TASK_STATUS_PROCESSING', progress: 40, mode: 'stream' },
    { status: 'TASK_STATUS_SUCCEED', progress: 100, mode: 'stream' },
  ]);
  assert.deepEqual(
    seen.map((request) => [request.path, request.headers.authorization, request.headers.accept]),
    [['/v3/async/task-events?task_id=t1', `Bearer ${key}`, 'text/event-stream']],
  );
});

test('a stream that breaks off is opened again with Last-Event-ID, and no state is reported twice', async () => {
  const { url, seen } = await stub((_path, response, requests) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    if (requests.length === 1) {
      response.write(event(1, taskResult('TASK_STATUS_PROCESSING', 10)));
      response.write(event(2, taskResult('TASK_STATUS_PROCESSING', 20)), () => setTimeout(() => response.destroy(), 20));
    } else {
      response.end(event(3, taskResult('TASK_STATUS_SUCCEED', 100)));
    }
  });
  const { updates } = await follow(url);
  assert.deepEqual(
    updates.map((update) => update.progress),
    [10, 20, 100],
  );
  assert.equal(seen.length, 2);
  assert.equal(seen[0].headers['last-event-id'], undefined);
  assert.equal(seen[1].headers['last-event-id'], '2');
});

test('a server without the stream (404 API_NOT_FOUND) is polled at the interval until the task ends', async () => {
  const states = [taskResult('TASK_STATUS_QUEUED', 0), taskResult('TASK_STATUS_PROCESSING', 60), taskResult('TASK_STATUS_SUCCEED', 100)];
  const { url, seen } = await stub((path, response) => {
    if (path === '/v3/async/task-events') return sendJson(response, 404, apiNotFound);
    sendJson(response, 200, states.shift());
  });
  const { result, updates } = await follow(url, { pollIntervalMs: 150 });
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED');
  assert.deepEqual(updates, [
    { status: 'TASK_STATUS_QUEUED', progress: 0, mode: 'polling' },
    { status: 'TASK_STATUS_PROCESSING', progress: 60, mode: 'polling' },
    { status: 'TASK_STATUS_SUCCEED', progress: 100, mode: 'polling' },
  ]);
  const polls = seen.filter((request) => request.path.startsWith('/v3/async/task-result?task_id=t1'));
  assert.equal(polls.length, 3);
  for (let index = 1; index < polls.length; index++) {
    const gap = polls[index].at - polls[index - 1].at;
    assert.ok(gap >= 140 && gap < 1000, `polls ${gap} ms apart, for an interval of 150 ms`);
  }
  assert.equal(polls[0].headers.authorization, `Bearer ${key}`);
});

test('a failed task ends the following with its state, whether streamed or polled', async () => {
  const streamed = await stub((_path, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(event(1, taskResult('TASK_STATUS_FAILED', 0)));
  });
  assert.equal((await follow(streamed.url)).result.task.reason, 'it broke');
  const polled = await stub((path, response) =>
    path === '/v3/async/task-events' ? sendJson(response, 404, apiNotFound) : sendJson(response, 200, taskResult('TASK_STATUS_FAILED', 0)),
  );
  assert.equal((await follow(polled.url)).result.task.status, 'TASK_STATUS_FAILED');
});

test('TASK_NOT_FOUND and a refused key from the stream are errors, not a reason to poll', async () => {
  for (const body of [
    { code: 404, reason: 'TASK_NOT_FOUND', message: 'task "t1" does not exist', metadata: {} },
    { code: 403, reason: 'INVALID_API_KEY', message: 'the API key is not valid', metadata: {} },
  ]) {
    const { url, seen } = await stub((_path, response) => sendJson(response, body.code, body));
    await assert.rejects(follow(url), (error: unknown) => error instanceof WanApiError && error.reason === body.reason);
    assert.equal(seen.length, 1, `${body.reason}: nothing more was asked`);
  }
});

test('a stream that keeps failing (5xx) is given up for polling after the retries allowed', async () => {
  const { url, seen } = await stub((path, response) =>
    path === '/v3/async/task-events'
      ? sendJson(response, 503, { code: 503, reason: 'SERVICE_UNAVAILABLE', message: 'draining', metadata: {} })
      : sendJson(response, 200, taskResult('TASK_STATUS_SUCCEED', 100)),
  );
  const { updates } = await follow(url, { maxRetries: 2 });
  assert.deepEqual(
    seen.map((request) => request.path.split('?')[0]),
    ['/v3/async/task-events', '/v3/async/task-events', '/v3/async/task-events', '/v3/async/task-result'],
  );
  assert.deepEqual(updates, [{ status: 'TASK_STATUS_SUCCEED', progress: 100, mode: 'polling' }]);
});

test('aborting stops the following and closes the stream', async () => {
  let closed = false;
  const { url } = await stub((_path, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(event(1, taskResult('TASK_STATUS_PROCESSING', 5)));
    response.on('close', () => (closed = true));
  });
  const controller = new AbortController();
  const following = follow(url, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(following);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(closed, 'the server saw the connection close');
});
