import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeEngine } from '../support/fake-engine.js';
import { startInProcessServer } from '../support/in-process-server.js';

// One render at a time, slow enough that a second task waits in the queue.
const engine = new FakeEngine({ renderMs: 1500, capacity: 1 });
const { server, client, newClient } = await startInProcessServer([engine], { worker_concurrency: '1' });
const body = { prompt: 'a lighthouse', size: '1280*720', duration: 2 };

async function call(method: string, path: string, apiKey: string, payload?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text.startsWith('{') ? JSON.parse(text) : undefined };
}

function assertError(answer: { status: number; body: any }, status: number, reason: string, field?: string) {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'message', 'metadata', 'reason']);
  assert.equal(answer.body.reason, reason);
  if (field !== undefined) assert.equal(answer.body.metadata.field, field);
}

/** The events of a whole stream: `id`, `event` and the parsed `data` of each. */
function parseEvents(text: string): { id: number; event: string; data: any }[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.includes('data: '))
    .map((frame) => {
      const field = (name: string) => frame.split('\n').find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
      return { id: Number(field('id')), event: field('event')!, data: JSON.parse(field('data')!) };
    });
}

test('cancel ends a queued task at once and a running one on its engine; an ended task answers 409 and stays', async () => {
  const running = (await client.submit('wan2.7-t2v', body)).body.task_id;
  const queued = (await client.submit('wan2.7-t2v', body)).body.task_id;
  for (let waited = 0; engine.starts.every((start) => start.taskId !== running) && waited < 5000; waited += 20) await sleep(20);

  const first = await call('POST', '/v3/async/task-cancel', client.apiKey, { task_id: queued });
  assert.equal(first.status, 200);
  assert.equal(first.body.task.status, 'TASK_STATUS_FAILED');
  assert.equal(first.body.task.reason, 'the task was cancelled by its client');
  assert.equal(first.body.extra.error.reason, 'TASK_CANCELLED');

  const second = await call('POST', '/v3/async/task-cancel', client.apiKey, { task_id: running });
  assert.equal(second.status, 200);
  for (let waited = 0; engine.cancelled.length === 0 && waited < 2000; waited += 20) await sleep(20);
  assert.ok(engine.cancelled.some((render) => render.startsWith(running)), 'the engine was told to stop');

  const again = await call('POST', '/v3/async/task-cancel', client.apiKey, { task_id: running });
  assertError(again, 409, 'TASK_ALREADY_FINISHED');
  assert.equal(again.body.metadata.status, 'TASK_STATUS_FAILED');
  await sleep(1800);
  const later = (await client.result(running)).body;
  assert.equal(later.task.status, 'TASK_STATUS_FAILED', 'a cancelled task never completes later');
  assert.equal(later.videos.length, 0);
  assert.ok(!engine.starts.some((start) => start.taskId === queued), 'the queued one never started');

  assertError(await call('POST', '/v3/async/task-cancel', client.apiKey, { task_id: 'no-such-task' }), 404, 'TASK_NOT_FOUND');
  assertError(await call('POST', '/v3/async/task-cancel', client.apiKey, {}), 400, 'INVALID_REQUEST_BODY', 'task_id');
  const stranger = await newClient();
  const mine = (await client.submit('wan2.7-t2v', body)).body.task_id;
  assertError(await call('POST', '/v3/async/task-cancel', stranger.apiKey, { task_id: mine }), 404, 'TASK_NOT_FOUND');
  assert.equal((await call('POST', '/v3/async/task-cancel', client.apiKey, { task_id: mine })).status, 200);
});

test('the task list pages through a key’s tasks newest first, filters, and refuses bad parameters by name', async () => {
  const owner = await newClient();
  const ids: string[] = [];
  for (let index = 0; index < 5; index++) ids.push((await owner.submit(index % 2 ? 'wan2.7-i2v' : 'wan2.7-t2v', index % 2 ? { image_url: 'https://example.com/a.png' } : body)).body.task_id);
  for (const id of ids) await call('POST', '/v3/async/task-cancel', owner.apiKey, { task_id: id });
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await call('GET', `/v3/async/tasks?limit=2${cursor ? `&cursor=${cursor}` : ''}`, owner.apiKey);
    assert.equal(page.status, 200);
    assert.ok(page.body.tasks.length <= 2);
    for (const task of page.body.tasks) {
      assert.deepEqual(Object.keys(task).sort(), ['audios', 'extra', 'images', 'task', 'videos']);
      seen.push(task.task.task_id);
    }
    cursor = page.body.next_cursor;
    pages++;
  } while (cursor !== null);
  assert.deepEqual(seen, [...ids].reverse(), 'every task once, newest first');
  assert.equal(pages, 3);
  const i2v = await call('GET', '/v3/async/tasks?model=wan2.7-i2v&status=TASK_STATUS_FAILED', owner.apiKey);
  assert.deepEqual(i2v.body.tasks.map((task: any) => task.task.task_id), [ids[3], ids[1]]);
  assert.equal(i2v.body.next_cursor, null);
  assert.deepEqual((await call('GET', '/v3/async/tasks?status=TASK_STATUS_SUCCEED', owner.apiKey)).body.tasks, []);
  assertError(await call('GET', '/v3/async/tasks?limit=0', owner.apiKey), 400, 'INVALID_REQUEST_BODY', 'limit');
  assertError(await call('GET', '/v3/async/tasks?limit=101', owner.apiKey), 400, 'INVALID_REQUEST_BODY', 'limit');
  assertError(await call('GET', '/v3/async/tasks?status=DONE', owner.apiKey), 400, 'INVALID_REQUEST_BODY', 'status');
  assertError(await call('GET', '/v3/async/tasks?model=wan9', owner.apiKey), 400, 'INVALID_REQUEST_BODY', 'model');
  assertError(await call('GET', '/v3/async/tasks', ''), 400, 'MISSING_API_KEY');
});

test('an Idempotency-Key answers the same task for the same body, refuses another body, and makes one task under concurrency', async () => {
  const owner = await newClient();
  const submit = (payload: unknown, key: string) => call('POST', '/v3/async/wan2.7-t2v', owner.apiKey, payload, { 'idempotency-key': key });
  const first = await submit(body, 'order-1');
  assert.equal(first.status, 200);
  assert.equal((await submit(body, 'order-1')).body.task_id, first.body.task_id);
  const other = await submit({ ...body, prompt: 'something else' }, 'order-1');
  assertError(other, 422, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key');
  assert.match(other.body.message, /Idempotency-Key/);
  assertError(await submit(body, 'bad key with spaces'), 400, 'INVALID_REQUEST_BODY', 'Idempotency-Key');
  const stranger = await newClient();
  const theirs = await call('POST', '/v3/async/wan2.7-t2v', stranger.apiKey, body, { 'idempotency-key': 'order-1' });
  assert.notEqual(theirs.body.task_id, first.body.task_id, 'keys are per API key');

  const racing = await Promise.all(Array.from({ length: 12 }, () => submit({ ...body, seed: 5 }, 'order-2')));
  assert.ok(racing.every((answer) => answer.status === 200));
  assert.equal(new Set(racing.map((answer) => answer.body.task_id)).size, 1, 'one task id for every concurrent duplicate');
  const listed = await call('GET', '/v3/async/tasks?limit=100', owner.apiKey);
  assert.equal(listed.body.tasks.length, 2, 'order-1 and order-2: no second task was made');
});

test('the event stream sends each change of a task, ends after the terminal one, and resumes after Last-Event-ID', async () => {
  const taskId = (await client.submit('wan2.7-t2v', body)).body.task_id;
  const started = Date.now();
  const stream = await call('GET', `/v3/async/task-events?task_id=${taskId}`, client.apiKey, undefined, { accept: 'text/event-stream' });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type')!, /^text\/event-stream/);
  const events = parseEvents(stream.text);
  assert.ok(Date.now() - started >= 1000, 'the stream stayed open while the task ran');
  assert.ok(events.length >= 3, `queued or processing, progress, the end: ${stream.text}`);
  assert.ok(events.every((event) => event.event === 'task'));
  assert.ok(events.every((event, index) => index === 0 || event.id > events[index - 1].id), 'ids are rising versions');
  assert.ok(events.every((event) => event.data.task.task_id === taskId));
  assert.equal(events.at(-1)!.data.task.status, 'TASK_STATUS_SUCCEED');
  assert.equal(events.at(-1)!.data.videos.length, 1);
  assert.ok(events.slice(0, -1).every((event) => !['TASK_STATUS_SUCCEED', 'TASK_STATUS_FAILED'].includes(event.data.task.status)));

  const resumed = await call('GET', `/v3/async/task-events?task_id=${taskId}`, client.apiKey, undefined, { 'last-event-id': String(events.at(-1)!.id) });
  assert.deepEqual(parseEvents(resumed.text), [], 'nothing newer than what the client saw');
  const fromStart = await call('GET', `/v3/async/task-events?task_id=${taskId}`, client.apiKey, undefined, { 'last-event-id': String(events[0].id) });
  assert.deepEqual(parseEvents(fromStart.text).map((event) => event.id), [events.at(-1)!.id], 'the current state only, being newer');

  assertError(await call('GET', '/v3/async/task-events?task_id=nope', client.apiKey), 404, 'TASK_NOT_FOUND');
  assertError(await call('GET', '/v3/async/task-events', client.apiKey), 400, 'INVALID_REQUEST_BODY', 'task_id');
  assertError(await call('GET', `/v3/async/task-events?task_id=${taskId}`, client.apiKey, undefined, { 'last-event-id': 'x' }), 400, 'INVALID_REQUEST_BODY', 'Last-Event-ID');
  assertError(await call('GET', `/v3/async/task-events?task_id=${taskId}`, (await newClient()).apiKey), 404, 'TASK_NOT_FOUND');
});

test('each key has its own webhook secret; deliveries are shown only to the task’s key', async () => {
  const one = await call('GET', '/v3/webhook-secret', client.apiKey);
  assert.match(one.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal((await call('GET', '/v3/webhook-secret', client.apiKey)).body.secret, one.body.secret);
  const other = await newClient();
  assert.notEqual((await call('GET', '/v3/webhook-secret', other.apiKey)).body.secret, one.body.secret);
  const taskId = (await client.submit('wan2.7-t2v', body)).body.task_id;
  assert.deepEqual((await call('GET', `/v3/async/task-webhooks?task_id=${taskId}`, client.apiKey)).body, { deliveries: [] });
  assertError(await call('GET', `/v3/async/task-webhooks?task_id=${taskId}`, other.apiKey), 404, 'TASK_NOT_FOUND');
  await call('POST', '/v3/async/task-cancel', client.apiKey, { task_id: taskId });
});

test('a webhook URL into loopback or a private network is refused at submission, naming extra.webhook.url', async () => {
  for (const url of ['http://127.0.0.1:9/hook', 'http://10.0.0.1/hook', 'http://169.254.169.254/latest', 'http://[::1]/hook', 'http://user:pw@example.com/hook']) {
    const answer = await client.submit('wan2.7-t2v', { ...body, extra: { webhook: { url } } });
    assertError(answer, 400, 'INVALID_REQUEST_BODY', 'extra.webhook.url');
  }
  const malformed = await client.submit('wan2.7-t2v', { ...body, extra: { webhook: { url: 'https://example.com/h', test_mode: { enabled: 'yes' } } } });
  assertError(malformed, 400, 'INVALID_REQUEST_BODY', 'extra.webhook.test_mode.enabled');
  assert.equal(server.store === undefined, false);
});
