import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { TestApiClient } from '../support/api-client.js';
import { startE2eEnvironment } from '../support/e2e-environment.js';
import { runCli, startServerProcess } from '../support/server-process.js';
import { closedPort } from '../support/stub-api-server.js';
import { tempDir } from '../support/temp-dir.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

// Retries a second apart, so the schedule plays out within a test.
const retryArgs = ['--webhook-retry-seconds', '1,1,1'];
const { server, key, dataDir } = await startE2eEnvironment(retryArgs);
const api = new TestApiClient(server.url, key);
const render = { prompt: 'a kite over the dunes', size: '1280*720', duration: 2, seed: 3 };

async function secretOf(baseUrl: string, apiKey: string): Promise<string> {
  const response = await fetch(`${baseUrl}/v3/webhook-secret`, { headers: { authorization: `Bearer ${apiKey}` } });
  return (await response.json()).secret;
}

async function deliveriesOf(baseUrl: string, apiKey: string, taskId: string): Promise<any[]> {
  const response = await fetch(`${baseUrl}/v3/async/task-webhooks?task_id=${taskId}`, { headers: { authorization: `Bearer ${apiKey}` } });
  return (await response.json()).deliveries;
}

/** Checks the Standard Webhooks signature with the library receivers use; answers the event. */
function verified(secret: string, webhook: { headers: Record<string, unknown>; body: string }): any {
  const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [name, String(webhook.headers[name])]));
  return new Webhook(secret).verify(webhook.body, headers);
}

test('a receiver that fails twice gets the event three times, under one webhook-id, each validly signed', async () => {
  const receiver = new WebhookReceiver([500, 503, 204]);
  const url = await receiver.listen();
  const taskId = (await api.submit('wan2.7-t2v', { ...render, extra: { webhook: { url } } })).body.task_id;
  const received = await receiver.waitFor(3, 60_000);
  await sleep(300);
  assert.equal(receiver.received.length, 3, 'no delivery after the 2xx');
  const secret = await secretOf(server.url, key);
  const ids = new Set(received.map((webhook) => webhook.headers['webhook-id']));
  assert.equal(ids.size, 1, 'the same webhook-id on every retry');
  for (const webhook of received) {
    const event = verified(secret, webhook);
    assert.equal(event.event_type, 'ASYNC_TASK_RESULT');
    assert.equal(event.payload.task.task_id, taskId);
    assert.equal(event.payload.task.status, 'TASK_STATUS_SUCCEED');
    assert.equal(webhook.headers['content-type'], 'application/json');
  }
  assert.ok(received[1].at - received[0].at >= 900, 'the schedule’s wait between attempts');
  // The payload is the Task Result, with a video URL that works.
  const payload = JSON.parse(received[2].body).payload;
  assert.equal((await fetch(payload.videos[0].video_url)).status, 200);
  const otherKey = (await runCli(['keys', 'create', '--data-dir', dataDir])).stdout.trim();
  const otherSecret = await secretOf(server.url, otherKey);
  assert.notEqual(otherSecret, secret);
  assert.throws(() => verified(otherSecret, received[2]), /signature/i, 'another key’s secret does not verify it');

  const [delivery] = await deliveriesOf(server.url, key, taskId);
  assert.equal(delivery.state, 'delivered');
  assert.equal(delivery.attempts, 3);
  assert.equal(delivery.last_status_code, 204);
  assert.equal(delivery.next_attempt_at, null);
  assert.equal(delivery.id, [...ids][0]);
  const cli = await runCli(['webhooks', taskId, '--api-url', server.url, '--api-key', key]);
  assert.match(cli.stdout, new RegExp(`${delivery.id}\\s+delivered\\s+3\\s+HTTP 204`));
});

test('test mode sends a mock event of the asked status soon after submission, and runs nothing', async () => {
  const receiver = new WebhookReceiver([200]);
  const url = await receiver.listen();
  const ids: Record<string, string> = {};
  for (const status of ['TASK_STATUS_SUCCEED', 'TASK_STATUS_FAILED']) {
    const submitted = await api.submit('wan2.7-t2v', { ...render, extra: { webhook: { url, test_mode: { enabled: true, return_task_status: status } } } });
    ids[status] = submitted.body.task_id;
  }
  const started = Date.now();
  const received = await receiver.waitFor(2, 10_000);
  assert.ok(Date.now() - started < 5000, 'soon after submission');
  const secret = await secretOf(server.url, key);
  const byTask = new Map(received.map((webhook) => [verified(secret, webhook).payload.task.task_id, verified(secret, webhook).payload]));
  assert.equal(byTask.get(ids.TASK_STATUS_SUCCEED).task.status, 'TASK_STATUS_SUCCEED');
  assert.equal(byTask.get(ids.TASK_STATUS_FAILED).task.status, 'TASK_STATUS_FAILED');
  for (const id of Object.values(ids)) {
    const { body } = await api.result(id);
    assert.equal(body.extra.test_mode, true);
    assert.equal(body.extra.engine, undefined, 'no engine ran it');
    assert.equal(body.videos.length, 0);
  }
});

test('a 410 stops retrying, and the schedule’s end gives up', async () => {
  const gone = new WebhookReceiver([410]);
  const goneUrl = await gone.listen();
  const failing = new WebhookReceiver([500]);
  const failingUrl = await failing.listen();
  const goneTask = (await api.submit('wan2.7-t2v', { ...render, extra: { webhook: { url: goneUrl, test_mode: { enabled: true } } } })).body.task_id;
  const failingTask = (await api.submit('wan2.7-t2v', { ...render, extra: { webhook: { url: failingUrl, test_mode: { enabled: true } } } })).body.task_id;
  await failing.waitFor(4, 20_000);
  await sleep(2500);
  assert.equal(gone.received.length, 1);
  assert.equal(failing.received.length, 4, 'the first attempt and the three retries of the schedule');
  const [goneState] = await deliveriesOf(server.url, key, goneTask);
  assert.deepEqual([goneState.state, goneState.attempts, goneState.last_status_code], ['given_up', 1, 410]);
  const [failingState] = await deliveriesOf(server.url, key, failingTask);
  assert.deepEqual([failingState.state, failingState.attempts, failingState.last_status_code], ['given_up', 4, 500]);
  assert.match(failingState.last_error, /no retry left/);
});

test('a delivery whose receiver is down survives kill -9 and a restart, and is delivered once the receiver is back', async () => {
  const privateDir = tempDir();
  const ownKey = (await runCli(['keys', 'create', '--data-dir', privateDir])).stdout.trim();
  const first = await startServerProcess(privateDir, ['--media-allow-ranges', '127.0.0.1/32', ...retryArgs]);
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}/hook`;
  const client = new TestApiClient(first.url, ownKey);
  const taskId = (await client.submit('wan2.7-t2v', { ...render, extra: { webhook: { url, test_mode: { enabled: true } } } })).body.task_id;
  for (let waited = 0; ; waited += 50) {
    const [delivery] = await deliveriesOf(first.url, ownKey, taskId);
    if (delivery?.attempts >= 1) {
      assert.equal(delivery.state, 'pending');
      assert.match(delivery.last_error, /cannot deliver|ECONNREFUSED/);
      break;
    }
    assert.ok(waited < 10_000, 'the first attempt was made');
    await sleep(50);
  }
  await first.kill9();
  const receiver = new WebhookReceiver([200]);
  await receiver.listen(port);
  const second = await startServerProcess(privateDir, ['--media-allow-ranges', '127.0.0.1/32', ...retryArgs]);
  const [webhook] = await receiver.waitFor(1, 20_000);
  const event = verified(await secretOf(second.url, ownKey), webhook);
  assert.equal(event.payload.task.task_id, taskId);
  const [delivery] = await deliveriesOf(second.url, ownKey, taskId);
  assert.equal(delivery.state, 'delivered');
  assert.equal(delivery.id, webhook.headers['webhook-id']);
  assert.equal(await second.stop(), 0);
});

test('without an allowed range every webhook URL into loopback, private, link-local or metadata addresses is refused at submission', async () => {
  const plainDir = tempDir();
  const plainKey = (await runCli(['keys', 'create', '--data-dir', plainDir])).stdout.trim();
  const plain = await startServerProcess(plainDir);
  const client = new TestApiClient(plain.url, plainKey);
  const refused = [
    'http://127.0.0.1:8080/hook',
    'http://localhost/hook',
    'http://[::1]/hook',
    'http://10.1.2.3/hook',
    'http://172.16.0.1/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[fe80::1]/hook',
    'http://100.64.0.1/hook',
    'http://0.0.0.0/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://2130706433/hook',
    'http://user:secret@example.com/hook',
  ];
  for (const url of refused) {
    const { status, body } = await client.submit('wan2.7-t2v', { ...render, extra: { webhook: { url } } });
    assert.equal(status, 400, url);
    assert.equal(body.reason, 'INVALID_REQUEST_BODY', url);
    assert.equal(body.metadata.field, 'extra.webhook.url', url);
    assert.doesNotMatch(body.message, /secret/, 'credentials are not echoed');
  }
  const scheme = await client.submit('wan2.7-t2v', { ...render, extra: { webhook: { url: 'ftp://example.com/hook' } } });
  assert.equal(scheme.body.metadata.field, 'extra.webhook.url');
  assert.equal((await client.submit('wan2.7-t2v', { ...render, extra: { webhook: { url: 'http://127.0.0.1:9/hook' } } })).status, 400);
  // The same URL is accepted by the server that allows 127.0.0.1/32.
  assert.equal((await api.submit('wan2.7-t2v', { ...render, extra: { webhook: { url: 'http://127.0.0.1:9/hook', test_mode: { enabled: true } } } })).status, 200);
  assert.equal(await plain.stop(), 0);
});
