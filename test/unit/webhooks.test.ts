import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { AddressPolicy } from '../../src/net/address-policy.js';
import type { LookupAll } from '../../src/net/checked-addresses.js';
import { ApiError } from '../../src/spec/api-error.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { DeliveryAttempt } from '../../src/webhooks/delivery-attempt.js';
import { deliveryOutcome, parseRetrySchedule } from '../../src/webhooks/retry-schedule.js';
import { WebhookDeliverer } from '../../src/webhooks/webhook-deliverer.js';
import { WebhookSender } from '../../src/webhooks/webhook-sender.js';
import { webhookUrlCheck } from '../../src/webhooks/webhook-url-check.js';
import { tempDir } from '../support/temp-dir.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const loopback = new AddressPolicy({ allowRanges: ['127.0.0.1/32'] });

/** Host names a test resolver answers, as a DNS server under someone's control might. */
const lookup: LookupAll = async (hostname) => {
  const answers: Record<string, string[]> = {
    'public.example': ['93.184.216.34'],
    'internal.example': ['10.0.0.7'],
    'mixed.example': ['93.184.216.34', '192.168.0.9'],
    'metadata.example': ['169.254.169.254'],
    'six.example': ['fd00::1'],
  };
  const addresses = answers[hostname];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

test('the retry schedule is read from its config value, and each outcome follows it', () => {
  assert.deepEqual(parseRetrySchedule('5,300, 1800'), [5000, 300_000, 1_800_000]);
  assert.throws(() => parseRetrySchedule('5,,10'), /"" is not a wait/);
  assert.throws(() => parseRetrySchedule('5,1.5'), /"1.5" is not a wait in whole seconds/);
  assert.throws(() => parseRetrySchedule('0'), /"0"/);
  const schedule = [5000, 300_000];
  assert.deepEqual(deliveryOutcome({ ok: true, statusCode: 204 }, 0, schedule, 10), { state: 'delivered', statusCode: 204, at: 10 });
  const failed = { ok: false as const, statusCode: 503, error: 'answered 503' };
  assert.deepEqual(deliveryOutcome(failed, 0, schedule, 10), { state: 'retry', statusCode: 503, error: 'answered 503', at: 10, nextAttemptAt: 5010 });
  assert.deepEqual(deliveryOutcome(failed, 1, schedule, 10), { state: 'retry', statusCode: 503, error: 'answered 503', at: 10, nextAttemptAt: 300_010 });
  assert.equal(deliveryOutcome(failed, 2, schedule, 10).state, 'given_up', 'after the last retry');
  assert.equal((deliveryOutcome({ ...failed, retryAfterMs: 60_000 }, 0, schedule, 10) as { nextAttemptAt: number }).nextAttemptAt, 60_010, 'a later Retry-After wins');
  assert.equal((deliveryOutcome({ ...failed, retryAfterMs: 1000 }, 0, schedule, 10) as { nextAttemptAt: number }).nextAttemptAt, 5010, 'an earlier one does not');
  assert.equal(deliveryOutcome({ ...failed, statusCode: 410 }, 0, schedule, 10).state, 'given_up', '410: gone for good');
  assert.equal(deliveryOutcome({ ok: false, statusCode: null, error: 'the task no longer exists', final: true }, 0, schedule, 10).state, 'given_up');
});

test('submit-time check: every refused URL is an INVALID_REQUEST_BODY naming the field; allowed ranges open loopback', async () => {
  const check = webhookUrlCheck(new AddressPolicy(), lookup);
  const refused: [string, RegExp][] = [
    ['http://127.0.0.1/hook', /loopback/],
    ['http://[::1]/hook', /loopback/],
    ['http://10.1.2.3/hook', /private/],
    ['http://internal.example/hook', /internal\.example resolves to a refused address: 10\.0\.0\.7 is a private address/],
    ['http://mixed.example/hook', /192\.168\.0\.9/],
    ['http://metadata.example/latest', /link-local/],
    ['http://six.example/hook', /unique-local/],
    ['http://[::ffff:169.254.169.254]/', /link-local/],
    ['http://nowhere.example/hook', /cannot resolve nowhere\.example/],
    ['ftp://public.example/hook', /only http: and https:/],
    ['https://user:pass@public.example/hook', /user name or password/],
  ];
  for (const [url, why] of refused) {
    await assert.rejects(check(url, 'extra.webhook.url'), (error: ApiError) => {
      assert.equal(error.status, 400, url);
      assert.equal(error.reason, 'INVALID_REQUEST_BODY');
      assert.equal(error.metadata.field, 'extra.webhook.url');
      assert.match(error.message, why, url);
      assert.doesNotMatch(JSON.stringify(error.metadata), /pass@/, 'credentials are not echoed');
      return true;
    });
  }
  await check('https://public.example/hook?token=1', 'extra.webhook.url');
  await webhookUrlCheck(loopback, lookup)('http://127.0.0.1:9/hook', 'extra.webhook.url');
});

test('the sender posts the body with its headers, times out, follows no redirect, reads Retry-After and re-checks the address', async () => {
  const seen: { path: string; headers: Record<string, unknown>; body: string }[] = [];
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    seen.push({ path: request.url!, headers: request.headers, body });
    if (request.url === '/slow') return; // never answers
    if (request.url === '/moved') return response.writeHead(302, { location: '/ok' }).end();
    if (request.url === '/busy') return response.writeHead(429, { 'retry-after': '120' }).end();
    response.writeHead(200).end('thanks');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sender = new WebhookSender({ policy: loopback, timeoutMs: 300, userAgent: 'wan-api' });
  assert.deepEqual(await sender.post(`${base}/ok`, { 'webhook-id': 'msg_1' }, '{"a":1}'), { ok: true, statusCode: 200 });
  assert.equal(seen[0].body, '{"a":1}');
  assert.equal(seen[0].headers['webhook-id'], 'msg_1');
  assert.equal(seen[0].headers['content-type'], 'application/json');
  assert.equal(seen[0].headers['user-agent'], 'wan-api');
  const started = Date.now();
  const slow = await sender.post(`${base}/slow`, {}, '{}');
  assert.deepEqual(slow, { ok: false, statusCode: null, error: `${base}/slow did not answer within 0.3 s` });
  assert.ok(Date.now() - started < 1000);
  const moved = await sender.post(`${base}/moved`, {}, '{}');
  assert.equal(moved.ok, false);
  assert.equal(moved.statusCode, 302);
  assert.match(moved.ok ? '' : moved.error, /redirects are not followed/);
  assert.equal(seen.filter((request) => request.path === '/ok').length, 1, 'the redirect was not followed');
  const busy = await sender.post(`${base}/busy`, {}, '{}');
  assert.equal(busy.ok === false && busy.retryAfterMs, 120_000);
  const guarded = new WebhookSender({ policy: new AddressPolicy(), timeoutMs: 300 });
  const refused = await guarded.post(`${base}/ok`, {}, '{}');
  assert.equal(refused.ok, false);
  assert.match(refused.ok ? '' : refused.error, /loopback/);
  assert.equal(seen.filter((request) => request.path === '/ok').length, 1, 'nothing was sent to a refused address');
});

test('the deliverer signs with the task key’s secret, retries on the schedule, records each attempt, and one of two processes delivers', async () => {
  const file = path.join(tempDir(), 'wan.db');
  const stores = [new SqliteStore(file), new SqliteStore(file)];
  after(() => Promise.all(stores.map((store) => store.close())));
  const receiver = new WebhookReceiver([500, 200]);
  const url = await receiver.listen();
  const [store] = stores;
  const taskId = '0190-00000001';
  await store.keys.createKey({ id: 'key-1', name: 'k', prefix: 'wan_k', hash: 'h', createdAt: 1, limits: {} });
  await store.tasks.insert(
    { id: taskId, keyId: 'key-1', model: 'wan2.7-t2v', request: { prompt: 'p' }, seed: 1, webhookUrl: url, createdAt: Date.now(), billableSeconds: 2 },
    { finishedAs: 'TASK_STATUS_SUCCEED' },
  );
  const deliverers = stores.map(
    (each) =>
      new WebhookDeliverer({
        store: each.webhooks,
        events: each.events,
        attempt: new DeliveryAttempt({
          tasks: each.tasks,
          keys: each.keys,
          view: async (task) => ({ task: { task_id: task.id, status: task.status } }) as never,
          sender: new WebhookSender({ policy: loopback, timeoutMs: 1000 }),
          clock: Date.now,
        }),
        logger: pino({ level: 'silent' }),
        schedule: [200],
        concurrency: 4,
        pollMs: 100,
      }),
  );
  for (const deliverer of deliverers) deliverer.start();
  after(() => Promise.all(deliverers.map((deliverer) => deliverer.close())));
  const received = await receiver.waitFor(2, 10_000);
  await sleep(500);
  assert.equal(receiver.received.length, 2, 'each attempt made once, by one process');
  assert.ok(received[1].at - received[0].at >= 180, 'the retry waited for the schedule');
  const secret = await store.keys.webhookSecret('key-1');
  for (const webhook of received) {
    const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [name, String(webhook.headers[name])]));
    assert.deepEqual(new Webhook(secret).verify(webhook.body, headers), { event_type: 'ASYNC_TASK_RESULT', payload: { task: { task_id: taskId, status: 'TASK_STATUS_SUCCEED' } } });
  }
  const [state] = await store.webhooks.deliveriesOf(taskId, 'key-1');
  assert.deepEqual([state.state, state.attempts, state.lastStatusCode, state.lastError], ['delivered', 2, 200, null]);
});
