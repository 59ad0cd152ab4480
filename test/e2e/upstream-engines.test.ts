import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestApiClient } from '../support/api-client.js';
import { dashScopeError, startDashScopeStub } from '../support/dashscope-stub.js';
import { allowLoopbackMedia } from '../support/e2e-environment.js';
import { makeImage, makeVideo, testToolchain } from '../support/media-fixtures.js';
import { startNovitaStub } from '../support/novita-stub.js';
import { runCli, startServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The upstream engines inside the real `wan serve` process, against local servers that speak
 * DashScope's and the provider's protocols: routing and failover, no failover once accepted,
 * resume after kill -9 without a second submission, results served from our own store, and
 * uploads the cloud could not reach refused at once. The stubs live on loopback, which the
 * server is told to allow.
 */
const toolchain = await testToolchain();
const fixtures = tempDir('wan-upstream-e2e-');
const video = await readFile(await makeVideo(toolchain, path.join(fixtures, 'result.mp4'), { width: 320, height: 240, seconds: 1, audio: false }));
const photo = await makeImage(toolchain, path.join(fixtures, 'photo.png'), { width: 480, height: 320 });
const dashscope = await startDashScopeStub({ video });
const novita = await startNovitaStub({ video });
const upstreamArgs = [
  ...allowLoopbackMedia,
  ...['--routes', 'wan2.7-t2v=dashscope,novita;wan2.7-i2v=dashscope'],
  ...['--dashscope-api-key', dashscope.apiKey, '--dashscope-base-url', dashscope.url],
  ...['--novita-api-key', novita.apiKey, '--novita-base-url', novita.url],
  ...['--lease-seconds', '2', '--shutdown-timeout-seconds', '0'],
];

async function startServer(dataDir = tempDir()) {
  const key = (await runCli(['keys', 'create', '--data-dir', dataDir])).stdout.trim();
  const server = await startServerProcess(dataDir, upstreamArgs);
  return { dataDir, key, server, client: new TestApiClient(server.url, key) };
}

const { server, client } = await startServer();

test('a cloud that does not accept (429) hands the task to the next engine; the video is served from our store with the usage', async () => {
  const creates = { dashscope: dashscope.creates().length, novita: novita.creates().length };
  dashscope.answerNextCreates(dashScopeError(429, 'Throttling.RateQuota', 'Requests rate limit exceeded.', { 'retry-after': '1' }));
  const submitted = await client.submit('wan2.7-t2v', { prompt: 'a lighthouse at dusk', size: '1280*720', duration: 5, seed: 11 });
  const result = await client.waitForEnd(submitted.body.task_id, 60_000);
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
  assert.equal(dashscope.creates().length - creates.dashscope, 1, 'DashScope was asked once');
  assert.equal(novita.creates().length - creates.novita, 1, 'then the provider, once');
  assert.equal(result.extra.engine, 'novita');
  assert.equal(result.extra.seed, '11');
  assert.ok(result.extra.upstream_task_id, 'the upstream task id is recorded');
  assert.ok(result.videos[0].video_url.startsWith(`${server.url}/v3/files/videos/`), result.videos[0].video_url);
  const served = await fetch(result.videos[0].video_url);
  assert.deepEqual(Buffer.from(await served.arrayBuffer()), video);
});

test('when every engine of the route answers 5xx, the route is tried again after a wait, and the task then succeeds', async () => {
  const creates = { dashscope: dashscope.creates().length, novita: novita.creates().length };
  dashscope.answerNextCreates(dashScopeError(500, 'InternalServerError', 'An internal error has occured.'));
  novita.answerNextCreates({ status: 503, json: { code: 503, reason: 'SERVICE_UNAVAILABLE', message: 'busy', metadata: {} } });
  const submitted = await client.submit('wan2.7-t2v', { prompt: 'a second chance', duration: 5 });
  const result = await client.waitForEnd(submitted.body.task_id, 60_000);
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
  assert.equal(result.extra.engine, 'dashscope', 'the first engine, on the second round');
  assert.deepEqual([dashscope.creates().length - creates.dashscope, novita.creates().length - creates.novita], [2, 1]);
});

test('once a cloud accepted a task, its failure is the task\'s: nothing is sent elsewhere, and a refusal maps to ILLEGAL_PROMPT', async () => {
  const before = novita.creates().length;
  dashscope.scriptNextTasks({ ending: { status: 'FAILED', code: 'DataInspectionFailed', message: 'Input data may contain inappropriate content.' } });
  const submitted = await client.submit('wan2.7-t2v', { prompt: 'something refused', duration: 5 });
  const result = await client.waitForEnd(submitted.body.task_id, 60_000);
  assert.equal(result.task.status, 'TASK_STATUS_FAILED');
  assert.equal(result.extra.error.reason, 'ILLEGAL_PROMPT');
  assert.match(result.task.reason, /inappropriate content/);
  assert.equal(novita.creates().length, before, 'no second submission');
});

test('the request reaches DashScope translated, with the key only in the Authorization header, never in logs or results', async () => {
  const submitted = await client.submit('wan2.7-t2v', { prompt: 'a red kite', size: '1080*1920', duration: 5, seed: 3 });
  const result = await client.waitForEnd(submitted.body.task_id, 60_000);
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
  const sent = dashscope.creates().at(-1)!;
  assert.equal(sent.headers.authorization, `Bearer ${dashscope.apiKey}`);
  assert.equal(sent.headers['x-dashscope-async'], 'enable');
  assert.deepEqual(sent.json.parameters, { resolution: '1080P', ratio: '9:16', duration: 5, prompt_extend: true, watermark: false, seed: 3 });
  assert.ok(result.extra.usage, 'usage recorded');
  for (const secret of [dashscope.apiKey, novita.apiKey]) {
    assert.ok(!JSON.stringify(server.logs).includes(secret), 'not in the logs');
    assert.ok(!server.stderr().includes(secret), 'not on stderr');
    assert.ok(!JSON.stringify(result).includes(secret), 'not in the task result');
  }
});

test('an upload the cloud cannot reach (this server is on loopback) fails at once with MEDIA_NOT_REACHABLE, before any submission', async () => {
  const before = dashscope.creates().length;
  const upload = await fetch(`${server.url}/v3/uploads`, { method: 'POST', headers: { authorization: `Bearer ${client.apiKey}` }, body: await readFile(photo) });
  const { url } = await upload.json();
  const submitted = await client.submit('wan2.7-i2v', { image_url: url, prompt: 'waves', resolution: '720P', duration: 2 });
  const result = await client.waitForEnd(submitted.body.task_id, 30_000);
  assert.equal(result.task.status, 'TASK_STATUS_FAILED');
  assert.equal(result.extra.error.reason, 'MEDIA_NOT_REACHABLE');
  assert.match(result.task.reason, /^image_url: this file was uploaded to this server/);
  assert.equal(dashscope.creates().length, before);
});

test('after kill -9 mid-poll, the restarted server resumes the saved upstream task: one submission, one completion', async () => {
  const restartable = await startServer();
  const before = dashscope.creates().length;
  dashscope.scriptNextTasks({ pendingPolls: 2, runningPolls: 2 });
  const submitted = await restartable.client.submit('wan2.7-t2v', { prompt: 'a slow sunrise', duration: 5 });
  const taskId = submitted.body.task_id;
  // The upstream has the task, and its id is on our row once it is polled.
  const polled = () => dashscope.server.requests.filter((request) => request.at > startedAt && request.url.startsWith('/api/v1/tasks/'));
  const startedAt = Date.now();
  while (dashscope.creates().length === before || polled().length === 0) await sleep(20);
  await restartable.server.kill9();

  const second = await startServerProcess(restartable.dataDir, upstreamArgs);
  const result = await new TestApiClient(second.url, restartable.key).waitForEnd(taskId, 90_000);
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
  assert.equal(dashscope.creates().length - before, 1, 'never submitted twice');
  assert.ok(second.logs.some((entry) => entry.task_id === taskId && entry.msg === 'task succeeded'));
  assert.equal(await second.stop(), 0);
});
