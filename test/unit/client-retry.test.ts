import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WanApiError, WanClient } from '../../src/client/index.js';
import { closedPort, startStubServer, taskResult } from '../support/stub-api-server.js';

/** The retry rule of the client: what is retried, how long it waits, and what a submit never repeats. */
const stub = await startStubServer();
const fastRetry = { initialDelayMs: 20, maxDelayMs: 50 };
const client = new WanClient({ baseUrl: stub.url, apiKey: 'k', retry: fastRetry });
const submitBody = { prompt: 'a boat' };
const serverError = (status: number, reason: string) => ({ status, json: { code: status, reason, message: `${reason} happened`, metadata: {} } });

test('a read is retried after 429 (waiting the Retry-After) and 503, then succeeds', async () => {
  stub.script(
    'GET /v3/async/task-result',
    { ...serverError(429, 'RATE_LIMIT_EXCEEDED'), headers: { 'retry-after': '1' } },
    serverError(503, 'SERVICE_UNAVAILABLE'),
    { json: taskResult('t1', 'TASK_STATUS_QUEUED') },
  );
  const before = stub.requestsTo('GET /v3/async/task-result').length;
  const result = await client.getResult('t1');
  assert.equal(result.task.status, 'TASK_STATUS_QUEUED');
  const calls = stub.requestsTo('GET /v3/async/task-result').slice(before);
  assert.equal(calls.length, 3);
  assert.ok(calls[1].at - calls[0].at >= 950, `waited ${calls[1].at - calls[0].at} ms after Retry-After: 1`);
  assert.ok(calls[2].at - calls[1].at < 900, 'the 503 without Retry-After uses the short backoff');
});

test('a submit is retried after 429 and 503: both prove the task was not created', async () => {
  stub.script(
    'POST /v3/async/wan2.7-t2v',
    { ...serverError(429, 'RATE_LIMIT_EXCEEDED'), headers: { 'retry-after': '0' } },
    serverError(503, 'SERVICE_UNAVAILABLE'),
    { json: { task_id: 'created' } },
  );
  const before = stub.requestsTo('POST /v3/async/wan2.7-t2v').length;
  assert.equal(await client.submit('wan2.7-t2v', submitBody), 'created');
  const calls = stub.requestsTo('POST /v3/async/wan2.7-t2v').slice(before);
  assert.equal(calls.length, 3);
  for (const call of calls) assert.deepEqual(JSON.parse(call.body.toString()), submitBody, 'the same body each time');
});

test('a submit is not retried after a 500: the task may exist', async () => {
  stub.script('POST /v3/async/wan2.7-t2v', serverError(500, 'CREATE_TASK_FAILED'), { json: { task_id: 'second' } });
  const before = stub.requestsTo('POST /v3/async/wan2.7-t2v').length;
  const error = await client.submit('wan2.7-t2v', submitBody).then(
    () => assert.fail('the submit should fail'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof WanApiError);
  assert.equal(error.kind, 'http');
  assert.equal(error.status, 500);
  assert.equal(error.reason, 'CREATE_TASK_FAILED');
  assert.equal(stub.requestsTo('POST /v3/async/wan2.7-t2v').length - before, 1, 'exactly one attempt');
});

test('a submit is not retried after a connection reset, a read is', async () => {
  stub.script('POST /v3/async/wan2.7-i2v', { action: 'reset' }, { json: { task_id: 'again' } });
  const error = await client.submit('wan2.7-i2v', { image_url: 'https://x/a.png' }).catch((thrown: unknown) => thrown);
  assert.ok(error instanceof WanApiError && error.kind === 'network', String(error));
  assert.equal(error.mayHaveReachedServer, true);
  assert.equal(stub.requestsTo('POST /v3/async/wan2.7-i2v').length, 1);

  stub.script('GET /v3/async/task-result', { action: 'reset' }, { json: taskResult('t2', 'TASK_STATUS_PROCESSING', { progress: 40 }) });
  const before = stub.requestsTo('GET /v3/async/task-result').length;
  assert.equal((await client.getResult('t2')).task.progress_percent, 40);
  assert.equal(stub.requestsTo('GET /v3/async/task-result').length - before, 2);
});

test('a submit to a refused connection is retried (it never reached a server), then fails as a network error', async () => {
  let attempts = 0;
  const counting: typeof fetch = (input, init) => {
    attempts++;
    return fetch(input, init);
  };
  const refused = new WanClient({ baseUrl: `http://127.0.0.1:${await closedPort()}`, apiKey: 'k', retry: { ...fastRetry, maxRetries: 2 }, fetch: counting });
  const error = await refused.submit('wan2.7-t2v', submitBody).catch((thrown: unknown) => thrown);
  assert.ok(error instanceof WanApiError);
  assert.equal(error.kind, 'network');
  assert.equal(error.status, 0);
  assert.equal(error.metadata.error_code, 'ECONNREFUSED');
  assert.equal(error.mayHaveReachedServer, false);
  assert.equal(attempts, 3, 'first attempt and 2 retries');
});

test('retries stop after maxRetries, and a Retry-After beyond maxRetryAfterMs is not waited for', async () => {
  stub.script('GET /v3/async/task-result', serverError(502, 'BAD_GATEWAY'));
  const limited = new WanClient({ baseUrl: stub.url, apiKey: 'k', retry: { ...fastRetry, maxRetries: 2 } });
  let before = stub.requestsTo('GET /v3/async/task-result').length;
  await assert.rejects(limited.getResult('t3'), (error: WanApiError) => error.status === 502);
  assert.equal(stub.requestsTo('GET /v3/async/task-result').length - before, 3);

  stub.script('GET /v3/async/task-result', { ...serverError(429, 'RATE_LIMIT_EXCEEDED'), headers: { 'retry-after': '3600' } });
  before = stub.requestsTo('GET /v3/async/task-result').length;
  const started = Date.now();
  await assert.rejects(limited.getResult('t3'), (error: WanApiError) => error.status === 429 && error.reason === 'RATE_LIMIT_EXCEEDED');
  assert.ok(Date.now() - started < 1000);
  assert.equal(stub.requestsTo('GET /v3/async/task-result').length - before, 1);
});

test('4xx answers are never retried', async () => {
  stub.script('GET /v3/async/task-result', serverError(404, 'TASK_NOT_FOUND'));
  const before = stub.requestsTo('GET /v3/async/task-result').length;
  await assert.rejects(client.getResult('nope'), (error: WanApiError) => error.reason === 'TASK_NOT_FOUND');
  assert.equal(stub.requestsTo('GET /v3/async/task-result').length - before, 1);
});
