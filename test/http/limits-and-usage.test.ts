import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiKey } from '../../src/auth/api-keys.js';
import type { KeyLimits } from '../../src/spec/key-store.js';
import { TestApiClient } from '../support/api-client.js';
import { FakeEngine } from '../support/fake-engine.js';
import { startInProcessServer } from '../support/in-process-server.js';

const engine = new FakeEngine({ renderMs: 300, capacity: 4 });
const { server } = await startInProcessServer([engine], { worker_concurrency: '4', prices: '{"720P": 0.1, "wan2.7-t2v": {"1080P": 0.2}}' });

async function keyWith(limits: Partial<KeyLimits>): Promise<TestApiClient> {
  return new TestApiClient(server.url, (await createApiKey(server.store.keys, 'test', Date.now(), limits)).key);
}

async function call(client: TestApiClient, path: string) {
  const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${client.apiKey}` } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

function assertRefusal(answer: { status: number; body: any }, status: number, reason: string, field: string, limit: number) {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'message', 'metadata', 'reason']);
  assert.equal(answer.body.code, status);
  assert.equal(answer.body.reason, reason);
  assert.equal(answer.body.metadata.field, field);
  assert.equal(answer.body.metadata.limit, limit);
  assert.ok(answer.body.message.includes(field) && answer.body.message.includes(String(limit)), answer.body.message);
}

/** Counting windows are clock minutes: a test that counts waits out a minute about to end. */
async function awayFromMinuteEnd(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5000) await sleep(left + 50);
}

const t2v = (duration: number, size = '1280*720') => ({ prompt: 'a lighthouse', size, duration });

test('past its requests per minute a key is answered 429 RATE_LIMIT_EXCEEDED with Retry-After; other keys are not held', async () => {
  const limited = await keyWith({ requestsPerMinute: 3 });
  const free = await keyWith({});
  await awayFromMinuteEnd();
  const answers = [];
  for (let index = 0; index < 6; index++) answers.push(await call(limited, '/v3/async/tasks'));
  assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 429, 429, 429]);
  assertRefusal(answers[3], 429, 'RATE_LIMIT_EXCEEDED', 'requests_per_minute', 3);
  const retryAfter = Number(answers[3].headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} is the rest of the minute`);
  assert.equal((await limited.submit('wan2.7-t2v', t2v(2))).status, 429, 'submissions count as well');
  for (let index = 0; index < 5; index++) assert.equal((await call(free, '/v3/async/tasks')).status, 200);
});

test('a request past the daily or monthly quota is refused with 400 BILLING_BALANCE_NOT_ENOUGH before any work', async () => {
  const key = await keyWith({ secondsPerDay: 6, secondsPerMonth: 100 });
  const startsBefore = engine.starts.length;
  const refused = await key.submit('wan2.7-t2v', t2v(7));
  assertRefusal(refused, 400, 'BILLING_BALANCE_NOT_ENOUGH', 'seconds_per_day', 6);
  assert.equal(refused.body.metadata.requested, 7);
  assert.equal(refused.body.metadata.value, 0);
  const first = await key.submit('wan2.7-t2v', t2v(4));
  assert.equal(first.status, 200);
  const second = await key.submit('wan2.7-t2v', t2v(3));
  assertRefusal(second, 400, 'BILLING_BALANCE_NOT_ENOUGH', 'seconds_per_day', 6);
  assert.equal(second.body.metadata.value, 4, 'the task in flight counts what it would bill');
  const listed = await call(key, '/v3/async/tasks');
  assert.deepEqual(listed.body.tasks.map((task: any) => task.task.task_id), [first.body.task_id], 'nothing was stored for the refusals');
  await key.waitForEnd(first.body.task_id, 10_000);
  assert.deepEqual(
    engine.starts.slice(startsBefore).map((start) => start.taskId),
    [first.body.task_id],
    'the engine never heard of the refused requests',
  );
  const monthly = await keyWith({ secondsPerMonth: 5 });
  assertRefusal(await monthly.submit('wan2.7-t2v', t2v(6)), 400, 'BILLING_BALANCE_NOT_ENOUGH', 'seconds_per_month', 5);
});

test('past its tasks in flight a key is answered 429 with Retry-After until one ends', async () => {
  const key = await keyWith({ maxInFlight: 1 });
  const first = await key.submit('wan2.7-t2v', t2v(2));
  assert.equal(first.status, 200);
  const response = await fetch(`${server.url}/v3/async/wan2.7-t2v`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(t2v(2)),
  });
  const refused = { status: response.status, body: (await response.json()) as any };
  assertRefusal(refused, 429, 'RATE_LIMIT_EXCEEDED', 'in_flight', 1);
  assert.equal(refused.body.metadata.value, 1);
  assert.ok(Number(response.headers.get('retry-after')) > 0);
  await key.waitForEnd(first.body.task_id, 10_000);
  assert.equal((await key.submit('wan2.7-t2v', t2v(2))).status, 200, 'admitted once the first ended');
});

test('every finished task records what it bills; GET /v3/usage sums them per model and per day; the Task Result shows its own', async () => {
  const key = await keyWith({});
  const other = await keyWith({});
  const submitted = [
    await key.submit('wan2.7-t2v', t2v(2)),
    await key.submit('wan2.7-t2v', t2v(3, '1920*1080')),
    await key.submit('wan2.7-t2v', t2v(4, '1920*1080')),
    await other.submit('wan2.7-t2v', t2v(5)),
  ];
  for (const answer of submitted) assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const results = [];
  for (const [index, answer] of submitted.entries()) results.push(await (index === 3 ? other : key).waitForEnd(answer.body.task_id, 20_000));
  const [first, second, third] = results;
  assert.deepEqual(first.extra.usage, {
    model: 'wan2.7-t2v',
    engine: 'fake',
    billed_seconds: 2,
    output_seconds: 2,
    input_seconds: 0,
    resolution: '720P',
    audio: false,
    list_price: 0.2,
    cost: 0.2,
    currency: 'USD',
  });
  assert.equal(second.extra.usage.resolution, '1080P');
  assert.equal(second.extra.usage.cost, 0.6, 't2v at its own 1080P price');
  assert.equal(third.extra.usage.cost, 0.8);
  const byModel = await call(key, '/v3/usage?group_by=model');
  assert.equal(byModel.status, 200);
  assert.equal(byModel.body.group_by, 'model');
  assert.equal(byModel.body.currency, 'USD');
  const expected = {
    tasks: 3,
    billed_seconds: [first, second, third].reduce((sum, result) => sum + result.extra.usage.billed_seconds, 0),
    list_price: Math.round([first, second, third].reduce((sum, result) => sum + result.extra.usage.list_price, 0) * 10_000) / 10_000,
    cost: Math.round([first, second, third].reduce((sum, result) => sum + result.extra.usage.cost, 0) * 10_000) / 10_000,
  };
  assert.deepEqual(expected, { tasks: 3, billed_seconds: 9, list_price: 1.6, cost: 1.6 });
  assert.deepEqual(byModel.body.total, expected, 'the sums of the tasks themselves; the other key’s task is not counted');
  assert.deepEqual(byModel.body.rows, [{ group: 'wan2.7-t2v', ...expected }]);
  const byDay = await call(key, '/v3/usage?group_by=day&from=2000-01-01');
  assert.deepEqual(byDay.body.rows, [{ group: new Date().toISOString().slice(0, 10), ...expected }]);
  const before = await call(key, '/v3/usage?from=2000-01-01&to=2000-02-01T00:00:00Z');
  assert.deepEqual(before.body.total, { tasks: 0, billed_seconds: 0, list_price: 0, cost: 0 });
  assert.equal(before.body.from, '2000-01-01T00:00:00.000Z');
});

test('GET /v3/usage refuses a bad period or grouping with 400 naming the parameter', async () => {
  const key = await keyWith({});
  for (const [query, field] of [
    ['from=yesterday', 'from'],
    ['to=2026-13-45', 'to'],
    ['group_by=week', 'group_by'],
    ['from=2026-11-02&to=2026-11-01', 'to'],
  ]) {
    const answer = await call(key, `/v3/usage?${query}`);
    assert.equal(answer.status, 400, query);
    assert.equal(answer.body.reason, 'INVALID_REQUEST_BODY');
    assert.equal(answer.body.metadata.field, field, query);
    assert.ok(answer.body.message.includes(field), answer.body.message);
  }
});

test('past max_queued_tasks over every key, submissions are answered 429 with Retry-After and nothing is stored', async () => {
  const { server: capped, newClient } = await startInProcessServer([new FakeEngine()], { worker_concurrency: '0', max_queued_tasks: '2' });
  const [one, two] = [await newClient(), await newClient()];
  assert.equal((await one.submit('wan2.7-t2v', t2v(2))).status, 200);
  assert.equal((await two.submit('wan2.7-t2v', t2v(2))).status, 200);
  const response = await fetch(`${capped.url}/v3/async/wan2.7-t2v`, {
    method: 'POST',
    headers: { authorization: `Bearer ${one.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(t2v(2)),
  });
  const refused = { status: response.status, body: (await response.json()) as any };
  assertRefusal(refused, 429, 'RATE_LIMIT_EXCEEDED', 'max_queued_tasks', 2);
  assert.equal(refused.body.metadata.value, 2);
  assert.ok(Number(response.headers.get('retry-after')) > 0);
  const listed = await fetch(`${capped.url}/v3/async/tasks`, { headers: { authorization: `Bearer ${one.apiKey}` } });
  assert.equal(((await listed.json()) as any).tasks.length, 1, 'the refused task was not stored');
});
