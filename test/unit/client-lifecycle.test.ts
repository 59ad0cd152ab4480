import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { WanClient } from '../../src/client/client.js';
import { WanApiError } from '../../src/client/errors.js';
import { startStubServer, taskResult } from '../support/stub-api-server.js';

const stub = await startStubServer();
const fastRetry = { initialDelayMs: 5, maxDelayMs: 20 };
const client = new WanClient({ baseUrl: stub.url, apiKey: 'k', retry: fastRetry, pollIntervalMs: 10 });
const sse = (events: [id: number, result: unknown][], tail = '') => ({
  headers: { 'content-type': 'text/event-stream' },
  body: `: keep-alive\n\n${events.map(([id, result]) => `id: ${id}\nevent: task\ndata: ${JSON.stringify(result)}\n\n`).join('')}${tail}`,
});

test('events() yields each state with its id, and reopens a stream that closed early with Last-Event-ID', async () => {
  stub.script(
    'GET /v3/async/task-events',
    sse([[1, taskResult('e1', 'TASK_STATUS_QUEUED')], [2, taskResult('e1', 'TASK_STATUS_PROCESSING', { progress: 50 })]]),
    sse([[3, taskResult('e1', 'TASK_STATUS_SUCCEED', { progress: 100 })]]),
  );
  const seen = [];
  for await (const event of client.events('e1')) seen.push([event.id, event.result.task.status]);
  assert.deepEqual(seen, [['1', 'TASK_STATUS_QUEUED'], ['2', 'TASK_STATUS_PROCESSING'], ['3', 'TASK_STATUS_SUCCEED']]);
  const requests = stub.requestsTo('GET /v3/async/task-events');
  assert.equal(requests[0].headers.authorization, 'Bearer k');
  assert.equal(requests[0].headers.accept, 'text/event-stream');
  assert.equal(requests[0].headers['last-event-id'], undefined);
  assert.equal(requests[1].headers['last-event-id'], '2', 'resumed after the last event seen');
});

test('waitFor follows the stream, and falls back to polling where the server has none', async () => {
  stub.script('GET /v3/async/task-events', sse([[4, taskResult('w1', 'TASK_STATUS_PROCESSING', { progress: 10 })], [5, taskResult('w1', 'TASK_STATUS_SUCCEED', { progress: 100 })]]));
  const progress: number[] = [];
  const before = stub.requestsTo('GET /v3/async/task-result').length;
  const done = await client.waitFor('w1', { onProgress: (task) => progress.push(task.progress_percent) });
  assert.equal(done.task.status, 'TASK_STATUS_SUCCEED');
  assert.deepEqual(progress, [10, 100]);
  assert.equal(stub.requestsTo('GET /v3/async/task-result').length, before, 'no poll');

  stub.script('GET /v3/async/task-events', { status: 404, json: { code: 404, reason: 'API_NOT_FOUND', message: 'no', metadata: {} } });
  stub.script('GET /v3/async/task-result', { json: taskResult('w2', 'TASK_STATUS_PROCESSING') }, { json: taskResult('w2', 'TASK_STATUS_SUCCEED') });
  assert.equal((await client.waitFor('w2')).task.status, 'TASK_STATUS_SUCCEED');
  assert.ok(stub.requestsTo('GET /v3/async/task-result').length - before >= 2, 'polled');

  stub.script('GET /v3/async/task-events', { json: taskResult('w3', 'TASK_STATUS_QUEUED') });
  await assert.rejects(async () => {
    for await (const event of client.events('w3')) assert.fail(`no event expected, got ${JSON.stringify(event)}`);
  }, (error: WanApiError) => error.reason === 'STREAM_NOT_SUPPORTED');

  stub.script('GET /v3/async/task-events', sse([[6, taskResult('w4', 'TASK_STATUS_FAILED', { reason: 'the task was cancelled by its client', error: { code: 500, reason: 'TASK_CANCELLED', message: 'x', metadata: {} } })]]));
  await assert.rejects(client.waitFor('w4', { stream: true }), (error: WanApiError) => error.kind === 'task_failed' && error.reason === 'TASK_CANCELLED');
});

test('a stream that keeps closing early, or goes quiet, is opened again up to maxRetries; a waitFor timeout stops it', async () => {
  const quiet = new WanClient({ baseUrl: stub.url, apiKey: 'k', retry: { ...fastRetry, maxRetries: 1 }, streamIdleTimeoutMs: 100 });
  stub.script('GET /v3/async/task-events', { headers: { 'content-type': 'text/event-stream' }, body: ': keep-alive\n\n' });
  const before = stub.requestsTo('GET /v3/async/task-events').length;
  await assert.rejects(async () => {
    for await (const event of quiet.events('q1')) void event;
  }, (error: WanApiError) => error.kind === 'network' && /kept closing/.test(error.message));
  assert.equal(stub.requestsTo('GET /v3/async/task-events').length - before, 2, 'opened again once, then given up');

  // Headers, then silence: no heartbeat within the idle time means a dead connection.
  const opened: number[] = [];
  const silent = createServer((_request, response) => {
    opened.push(Date.now());
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.flushHeaders();
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  after(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const viaSilent = new WanClient({ baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, apiKey: 'k', retry: { ...fastRetry, maxRetries: 1 }, streamIdleTimeoutMs: 100 });
  await assert.rejects(async () => {
    for await (const event of viaSilent.events('q3')) void event;
  }, (error: WanApiError) => error.kind === 'network');
  assert.equal(opened.length, 2);
  assert.ok(opened[1] - opened[0] >= 100, 'reopened after the idle time');

  stub.script('GET /v3/async/task-events', sse([[1, taskResult('q2', 'TASK_STATUS_PROCESSING')]]));
  stub.script('GET /v3/async/task-result', { json: taskResult('q2', 'TASK_STATUS_PROCESSING') });
  await assert.rejects(quiet.waitFor('q2', { timeout: 300 }), (error: WanApiError) => error.kind === 'timeout' && error.taskId === 'q2');
});

test('cancel, listTasks, webhookDeliveries and webhookSecret send what the API documents', async () => {
  stub.script('POST /v3/async/task-cancel', { json: taskResult('c1', 'TASK_STATUS_FAILED') });
  assert.equal((await client.cancel('c1')).task.status, 'TASK_STATUS_FAILED');
  assert.deepEqual(JSON.parse(stub.requestsTo('POST /v3/async/task-cancel')[0].body.toString()), { task_id: 'c1' });
  stub.script('POST /v3/async/task-cancel', { status: 503, json: { code: 503, reason: 'SERVICE_UNAVAILABLE', message: 'draining', metadata: {} } }, { status: 409, json: { code: 409, reason: 'TASK_ALREADY_FINISHED', message: 'ended', metadata: {} } });
  await assert.rejects(client.cancel('c2'), (error: WanApiError) => error.status === 409);

  stub.script('GET /v3/async/tasks', { json: { tasks: [taskResult('l1', 'TASK_STATUS_SUCCEED')], next_cursor: 'l1' } });
  const page = await client.listTasks({ limit: 1, status: 'TASK_STATUS_SUCCEED', model: 'wan2.7-t2v', cursor: 'l0' });
  assert.equal(page.next_cursor, 'l1');
  const url = new URL(stub.requestsTo('GET /v3/async/tasks')[0].url, stub.url);
  assert.deepEqual(Object.fromEntries(url.searchParams), { limit: '1', status: 'TASK_STATUS_SUCCEED', model: 'wan2.7-t2v', cursor: 'l0' });

  stub.script('GET /v3/async/task-webhooks', { json: { deliveries: [] } });
  assert.deepEqual(await client.webhookDeliveries('l1'), { deliveries: [] });
  assert.match(stub.requestsTo('GET /v3/async/task-webhooks')[0].url, /task_id=l1/);
  stub.script('GET /v3/webhook-secret', { json: { secret: 'whsec_abc' } });
  assert.equal(await client.webhookSecret(), 'whsec_abc');
});

test('a submit with an idempotency key sends the header and is retried after a lost answer; one without is not', async () => {
  stub.script('POST /v3/async/wan2.7-t2v', { action: 'reset' }, { json: { task_id: 'i1' } });
  assert.equal(await client.submit('wan2.7-t2v', { prompt: 'p' }, { idempotencyKey: 'order-7' }), 'i1');
  const sent = stub.requestsTo('POST /v3/async/wan2.7-t2v');
  assert.equal(sent.length, 2);
  assert.ok(sent.every((request) => request.headers['idempotency-key'] === 'order-7'));
  stub.script('POST /v3/async/wan2.7-t2v', { action: 'reset' }, { json: { task_id: 'i2' } });
  await assert.rejects(client.submit('wan2.7-t2v', { prompt: 'p' }), (error: WanApiError) => error.kind === 'network' && error.mayHaveReachedServer);
});
