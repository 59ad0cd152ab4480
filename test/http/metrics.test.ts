import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { startServer } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { FakeEngine } from '../support/fake-engine.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { makeImage, testToolchain } from '../support/media-fixtures.js';
import { Scrape } from '../support/prometheus-scrape.js';
import { tempDir } from '../support/temp-dir.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const token = 'metrics-token-for-the-tests';
const engine = new FakeEngine({ renderMs: 50, capacity: 2 });
// Webhooks go to a receiver on loopback, which the default address policy refuses.
const { server, client } = await startInProcessServer([engine], { metrics_token: token, metrics_port: '0', media_allow_ranges: '127.0.0.1/32' });
const apiMetrics = `${server.url}/metrics`;
const t2v = { prompt: 'a lighthouse', size: '1280*720', duration: 2 };

function assertErrorBody(body: any, status: number, reason: string): void {
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'metadata', 'reason']);
  assert.equal(body.code, status);
  assert.equal(body.reason, reason);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(50)) if (await check()) return;
  assert.fail(`${what} did not happen within 10 s`);
}

test('a task that succeeds moves the task, engine, HTTP and store metrics, as a Prometheus parser reads them', async () => {
  const before = await Scrape.of(apiMetrics, token);
  assert.equal((await fetch(`${server.url}/no/such/${'x'.repeat(40)}`)).status, 404);
  const receiver = new WebhookReceiver([200]);
  const hook = await receiver.listen();
  const taskId = (await client.submit('wan2.7-t2v', { ...t2v, extra: { webhook: { url: hook } } })).body.task_id;
  const end = await client.waitForEnd(taskId, 30_000);
  assert.equal(end.task.status, 'TASK_STATUS_SUCCEED');
  await until(async () => receiver.received.length === 1, 'the webhook delivery');
  // The attempt is counted once it is recorded, just after the receiver answered.
  await until(async () => (await Scrape.of(apiMetrics, token)).value('wan_webhook_attempts_total', { outcome: 'delivered' }) > 0, 'the count of the delivery');
  const after = await Scrape.of(apiMetrics, token);

  const model = { model: 'wan2.7-t2v' };
  const onEngine = { ...model, engine: engine.name };
  const grew = (name: string, labels: Record<string, string>, by = 1) =>
    assert.equal(after.value(name, labels) - before.value(name, labels), by, `${name} ${JSON.stringify(labels)}`);
  grew('wan_tasks_submitted_total', model);
  grew('wan_tasks_started_total', onEngine);
  grew('wan_tasks_succeeded_total', onEngine);
  grew('wan_webhook_attempts_total', { outcome: 'delivered', attempt: 'first' });
  assert.equal(after.count('wan_task_queue_wait_seconds', onEngine) - before.count('wan_task_queue_wait_seconds', onEngine), 1);
  const succeeded = { ...onEngine, outcome: 'succeeded' };
  assert.equal(after.count('wan_task_run_seconds', succeeded) - before.count('wan_task_run_seconds', succeeded), 1);
  const ran = after.sum('wan_task_run_seconds', succeeded) - before.sum('wan_task_run_seconds', succeeded);
  assert.ok(ran >= 0.05, `the run took the render's 50 ms at least: ${ran} s`);

  // Requests under their route templates, never their URLs.
  const poll = { method: 'GET', route: '/v3/async/task-result', status_code: '200' };
  assert.ok(after.count('wan_http_request_duration_seconds', poll) >= 1, 'the polls were counted');
  assert.equal(after.value('wan_http_request_duration_seconds_bucket', { ...poll, le: '+Inf' }), after.count('wan_http_request_duration_seconds', poll));
  assert.ok(after.count('wan_http_request_duration_seconds', { route: 'unmatched', status_code: '404' }) >= 1, 'a 404 of no route');
  const routes = new Set(after.family('wan_http_request_duration_seconds_count').metrics.map((sample) => sample.labels?.route));
  assert.ok(![...routes].some((route) => route?.includes(taskId)), `no task id in a route label: ${[...routes].join(', ')}`);
  assert.ok(after.count('wan_http_request_duration_seconds', { route: '/v3/async/wan2.7-t2v', status_code: '200' }) >= 1, [...routes].join(', '));

  for (const operation of ['tasks.insert', 'tasks.leaseNext', 'tasks.succeed', 'tasks.getSnapshot', 'webhooks.recordDelivery']) {
    assert.ok(after.count('wan_store_operation_seconds', { operation }) > before.count('wan_store_operation_seconds', { operation }), operation);
  }
  assert.equal(after.value('wan_engine_capacity', { engine: engine.name, scope: 'process' }), 2);
  assert.equal(after.value('wan_engine_running_tasks', { engine: engine.name }), 0);
  assert.equal(after.value('wan_worker_running_tasks'), 0);
  assert.equal(after.value('wan_queue_depth'), 0);
  assert.equal(after.value('wan_queue_oldest_age_seconds'), 0);
  assert.ok(after.value('process_resident_memory_bytes') > 0, 'the process metrics are there too');
});

test('input media: bytes of an upload counted, a URL that cannot be fetched refused under its reason and failing its task', async () => {
  const toolchain = await testToolchain();
  const photo = await readFile(await makeImage(toolchain, path.join(tempDir(), 'photo.png'), { width: 480, height: 320 }));
  const uploaded = await (
    await fetch(`${server.url}/v3/uploads`, { method: 'POST', headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/octet-stream' }, body: photo })
  ).json();
  const before = await Scrape.of(apiMetrics, token);
  const good = await client.waitForEnd((await client.submit('wan2.7-i2v', { prompt: 'waves', image_url: uploaded.url })).body.task_id, 30_000);
  assert.equal(good.task.status, 'TASK_STATUS_SUCCEED', good.task.reason);
  // Port 1 on loopback: nothing listens, the connection is refused.
  const bad = await client.waitForEnd((await client.submit('wan2.7-i2v', { prompt: 'waves', image_url: 'http://127.0.0.1:1/photo.png' })).body.task_id, 30_000);
  assert.equal(bad.extra.error.reason, 'MEDIA_DOWNLOAD_FAILED');
  const after = await Scrape.of(apiMetrics, token);

  assert.equal(after.value('wan_media_download_bytes_total', { from: 'upload' }) - before.value('wan_media_download_bytes_total', { from: 'upload' }), photo.length);
  assert.equal(after.value('wan_media_downloads_total', { from: 'upload' }) - before.value('wan_media_downloads_total', { from: 'upload' }), 1);
  const refusal = { reason: 'MEDIA_DOWNLOAD_FAILED' };
  assert.equal(after.value('wan_media_refusals_total', refusal) - before.value('wan_media_refusals_total', refusal), 1);
  const failed = { model: 'wan2.7-i2v', engine: 'none', reason: 'MEDIA_DOWNLOAD_FAILED' };
  assert.equal(after.value('wan_tasks_failed_total', failed) - before.value('wan_tasks_failed_total', failed), 1, 'failed before any engine took it');
});

test('the API port answers /metrics only to the bearer of the metrics token, never to an API key, in the documented error body', async () => {
  for (const [authorization, reason] of [
    [undefined, 'MISSING_METRICS_TOKEN'],
    ['Bearer wrong-token', 'INVALID_METRICS_TOKEN'],
    [`Bearer ${client.apiKey}`, 'INVALID_METRICS_TOKEN'],
    [`Bearer ${token}x`, 'INVALID_METRICS_TOKEN'],
  ] as const) {
    const response = await fetch(apiMetrics, { headers: authorization ? { authorization } : {} });
    assert.equal(response.status, 401, String(authorization));
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    const body = await response.json();
    assertErrorBody(body, 401, reason);
    assert.match(body.message, /metrics_token/);
  }
  const scrape = await Scrape.of(apiMetrics, token);
  assert.ok(scrape.count('wan_http_request_duration_seconds', { route: '/metrics', status_code: '401' }) >= 4, 'refusals are counted too');
});

test('metrics_port serves /metrics on a listener of its own, asking for the token there as well, and nothing else', async () => {
  assert.ok(server.metricsUrl, 'the metrics listener is up');
  assert.notEqual(new URL(server.metricsUrl).port, new URL(server.url).port);
  await Scrape.of(`${server.metricsUrl}/metrics`, token);
  assertErrorBody(await (await fetch(`${server.metricsUrl}/metrics`)).json(), 401, 'MISSING_METRICS_TOKEN');
  const elsewhere = await fetch(`${server.metricsUrl}/v3/async/task-result?task_id=x`, { headers: { authorization: `Bearer ${client.apiKey}` } });
  assert.equal(elsewhere.status, 404);
  assertErrorBody(await elsewhere.json(), 404, 'API_NOT_FOUND');
});

test('with metrics_port alone, the API port has no /metrics; the queue gauges show waiting tasks and their age', async () => {
  // Runs no task: what is submitted stays queued.
  const { server: queueing, client: submitter } = await startInProcessServer([new FakeEngine()], { metrics_port: '0', worker_concurrency: '0' });
  const closed = await fetch(`${queueing.url}/metrics`, { headers: { authorization: `Bearer ${submitter.apiKey}` } });
  assert.equal(closed.status, 404);
  assertErrorBody(await closed.json(), 404, 'API_NOT_FOUND');
  for (let index = 0; index < 3; index++) assert.equal((await submitter.submit('wan2.7-t2v', t2v)).status, 200);
  await sleep(300);
  const scrape = await Scrape.of(`${queueing.metricsUrl}/metrics`);
  assert.equal(scrape.value('wan_queue_depth'), 3);
  const age = scrape.value('wan_queue_oldest_age_seconds');
  assert.ok(age >= 0.3 && age < 30, `the oldest has waited since its submission: ${age} s`);
  assert.equal(scrape.value('wan_tasks_submitted_total', { model: 'wan2.7-t2v' }), 3);
});

test('with neither metrics_port nor metrics_token, no /metrics anywhere', async () => {
  const { server: plain, client: someone } = await startInProcessServer([new FakeEngine()]);
  assert.equal(plain.metricsUrl, undefined);
  const response = await fetch(`${plain.url}/metrics`, { headers: { authorization: `Bearer ${someone.apiKey}` } });
  assert.equal(response.status, 404);
});

test('a worker-only process serves /metrics on its health port behind the token, and counts the tasks it runs', async () => {
  const worker = new FakeEngine({ renderMs: 20, name: 'worker-fake' });
  // A worker of its own data directory: the task is put in its store directly.
  const { server: workerOnly } = await startInProcessServer([worker], { worker_only: 'true', metrics_token: token });
  assert.equal((await fetch(`${workerOnly.url}/metrics`)).status, 401);
  const health = await fetch(`${workerOnly.url}/healthz`);
  assert.equal(health.status, 200);
  await workerOnly.store.tasks.insert({
    id: '0190aaaa-0000-7000-8000-000000000001',
    keyId: 'key',
    model: 'wan2.7-t2v',
    request: { prompt: 'p', size: '1280*720', duration: 2 } as never,
    seed: 1,
    webhookUrl: null,
    createdAt: Date.now(),
    billableSeconds: 2,
  });
  workerOnly.worker.notify();
  await until(
    async () => (await Scrape.of(`${workerOnly.url}/metrics`, token)).value('wan_tasks_succeeded_total', { engine: 'worker-fake' }) === 1,
    'the worker-only process counting its task',
  );
  const scrape = await Scrape.of(`${workerOnly.url}/metrics`, token);
  assert.ok(scrape.count('wan_http_request_duration_seconds', { route: '/healthz', status_code: '200' }) >= 1);
});

test('every metric served is documented in docs/metrics.md, and the Grafana dashboard queries only metrics that are served', async () => {
  const scrape = await Scrape.of(apiMetrics, token);
  const docs = await readFile(path.resolve(import.meta.dirname, '../../docs/metrics.md'), 'utf8');
  const served = scrape.names();
  // A histogram's _bucket, _sum and _count series are documented as the histogram.
  const ours = served.filter((name) => name.startsWith('wan_') && scrape.family(name).type !== 'UNTYPED');
  assert.ok(ours.length >= 18, ours.join(', '));
  for (const name of ours) assert.match(docs, new RegExp(`\\| \`${name}\` \\|`), `docs/metrics.md has a row for ${name}`);

  const dashboard = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../docs/grafana-dashboard.json'), 'utf8'));
  const queries: string[] = dashboard.panels.flatMap((panel: { targets?: { expr: string }[] }) => (panel.targets ?? []).map((target) => target.expr));
  queries.push(...dashboard.templating.list.map((variable: { definition?: string }) => variable.definition ?? ''));
  assert.ok(queries.length >= 30, `${queries.length} queries`);
  for (const query of queries) {
    for (const [name] of query.matchAll(/\b(?:wan|process|nodejs)_[a-z0-9_]+/g)) {
      // A histogram's series appear once it has observed something: its family is what is served.
      const histogram = name.replace(/_(bucket|sum|count)$/, '');
      const known = served.includes(name) || (histogram !== name && served.includes(histogram) && scrape.family(histogram).type === 'HISTOGRAM');
      assert.ok(known, `the dashboard's ${name} (in ${query}) is served`);
    }
  }
  const ids = dashboard.panels.map((panel: { id: number }) => panel.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
});

test('a short metrics_token, or a metrics_port that is the API port, is refused at start with what to do', async () => {
  const start = (flags: Record<string, string>) =>
    startServer(loadConfig({ flags: { data_dir: tempDir(), log_level: 'silent', ...flags } }), pino({ level: 'silent' }), { engines: [new FakeEngine()] });
  await assert.rejects(start({ port: '0', metrics_token: 'short' }), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, 'metrics_token is 5 characters long: use at least 16 (e.g. openssl rand -hex 32)');
    return true;
  });
  await assert.rejects(start({ port: '9464', metrics_port: '9464' }), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^metrics_port 9464 is the API port: give it another port, or leave it out and set metrics_token/);
    return true;
  });
});
