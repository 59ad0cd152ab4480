import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UrlSigner } from '../../src/blobs/url-signer.js';
import { FakeEngine } from '../support/fake-engine.js';
import { startInProcessServer } from '../support/in-process-server.js';

const signingSecret = 'test-signing-secret';
const { server, client, newClient } = await startInProcessServer([new FakeEngine({ renderMs: 50 })], {
  max_body_bytes: '4096',
  url_signing_secret: signingSecret,
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, body: await response.json() };
}

function assertErrorBody(body: any, code: number, reason: string) {
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'metadata', 'reason']);
  assert.equal(body.code, code);
  assert.equal(body.reason, reason);
  assert.equal(typeof body.message, 'string');
}

test('a valid submission answers only a task id, and the task result has the whole documented shape', async () => {
  const submitted = await client.submit('wan2.7-t2v', { prompt: 'a red fox', size: '1280*720', duration: 2, seed: 99 });
  assert.equal(submitted.status, 200);
  assert.deepEqual(Object.keys(submitted.body), ['task_id']);
  const result = await client.waitForEnd(submitted.body.task_id);
  assert.deepEqual(Object.keys(result).sort(), ['audios', 'extra', 'images', 'task', 'videos']);
  assert.deepEqual(result.task, {
    task_id: submitted.body.task_id,
    task_type: 'WAN_2_7_T2V',
    status: 'TASK_STATUS_SUCCEED',
    reason: '',
    eta: 0,
    progress_percent: 100,
  });
  assert.equal(result.videos.length, 1);
  assert.equal(result.videos[0].video_url_ttl, '3600');
  assert.equal(result.videos[0].video_type, 'mp4');
  assert.equal(result.extra.seed, '99');
  for (const name of ['submit_time_ms', 'execute_time_ms', 'complete_time_ms']) {
    assert.match(result.extra.debug_info[name], /^\d{13}$/, name);
  }
  assert.equal(result.extra.debug_info.request_info, '');
  const video = await fetch(result.videos[0].video_url);
  assert.equal(video.status, 200);
  assert.equal(video.headers.get('content-type'), 'video/mp4');
  assert.match(await video.text(), /seed 99/);
});

test('a seed is drawn and reported when the request has none', async () => {
  const { body } = await client.submit('wan2.7-t2v', { prompt: 'x', size: '1280*720', duration: 2 });
  const result = await client.waitForEnd(body.task_id);
  assert.match(result.extra.seed, /^\d+$/);
  assert.ok(Number(result.extra.seed) <= 2147483647);
});

test('every model has its endpoint', async () => {
  for (const model of ['wan2.7-t2v', 'wan2.7-i2v', 'wan2.7-r2v', 'wan2.7-videoedit']) {
    const { status, body } = await client.submit(model, {});
    assert.equal(status, 400, model);
    assertErrorBody(body, 400, 'INVALID_REQUEST_BODY');
  }
});

test('unknown endpoints and methods answer API_NOT_FOUND', async () => {
  const unknownModel = await post('/v3/async/wan2.7-nope', '{}');
  assert.equal(unknownModel.status, 404);
  assertErrorBody(unknownModel.body, 404, 'API_NOT_FOUND');
  const wrongMethod = await fetch(`${server.url}/v3/async/wan2.7-t2v`);
  assert.equal(wrongMethod.status, 404);
  assertErrorBody(await wrongMethod.json(), 404, 'API_NOT_FOUND');
});

test('malformed JSON, a wrong content type and an oversized body are refused with the error body', async () => {
  const malformed = await post('/v3/async/wan2.7-t2v', '{"prompt": ');
  assert.equal(malformed.status, 400);
  assertErrorBody(malformed.body, 400, 'INVALID_REQUEST_BODY');
  assert.match(malformed.body.message, /not valid JSON/);

  const text = await post('/v3/async/wan2.7-t2v', 'prompt', { 'content-type': 'text/plain' });
  assert.equal(text.status, 400);
  assert.match(text.body.message, /Content-Type must be application\/json/);

  const huge = await post('/v3/async/wan2.7-t2v', JSON.stringify({ prompt: 'x'.repeat(5000) }));
  assert.equal(huge.status, 400);
  assertErrorBody(huge.body, 400, 'INVALID_REQUEST_BODY');
  assert.match(huge.body.message, /exceeds the limit of 4096 bytes/);
  assert.equal(huge.body.metadata.limit_bytes, 4096);
});

test('validation errors name the field, the value and the rule', async () => {
  const { status, body } = await client.submit('wan2.7-t2v', { prompt: 'x', duration: 16 });
  assert.equal(status, 400);
  assert.equal(body.metadata.field, 'duration');
  assert.match(body.message, /16/);
  assert.match(body.message, /15/);
  const typo = await client.submit('wan2.7-t2v', { prompt: 'x', durration: 5 });
  assert.match(typo.body.message, /durration/);
  assert.equal(typo.body.metadata.suggestion, 'duration');
});

test('a missing key is MISSING_API_KEY (400) and a wrong one INVALID_API_KEY (403)', async () => {
  const missing = await fetch(`${server.url}/v3/async/task-result?task_id=x`);
  assert.equal(missing.status, 400);
  assertErrorBody(await missing.json(), 400, 'MISSING_API_KEY');
  const wrong = await post('/v3/async/wan2.7-t2v', '{}', { authorization: 'Bearer wan_wrong' });
  assert.equal(wrong.status, 403);
  assertErrorBody(wrong.body, 403, 'INVALID_API_KEY');
  const bare = await post('/v3/async/wan2.7-t2v', JSON.stringify({ prompt: 'x', size: '1280*720', duration: 2 }), { authorization: client.apiKey });
  assert.equal(bare.status, 200, 'a bare key (as the official SDK sends it) is accepted');
});

test('a task is visible only to the key that created it', async () => {
  const { body } = await client.submit('wan2.7-t2v', { prompt: 'mine', size: '1280*720', duration: 2 });
  const other = await newClient();
  const foreign = await other.result(body.task_id);
  assert.equal(foreign.status, 404);
  assertErrorBody(foreign.body, 404, 'TASK_NOT_FOUND');
  const unknown = await client.result('00000000-0000-0000-0000-000000000000');
  assert.equal(unknown.status, 404);
  assertErrorBody(unknown.body, 404, 'TASK_NOT_FOUND');
  const missingId = await fetch(`${server.url}/v3/async/task-result`, { headers: { authorization: client.apiKey } });
  assert.equal(missingId.status, 400);
  assert.equal((await missingId.json()).metadata.field, 'task_id');
});

test('result URLs: ranges are served; a tampered or expired URL gets 403; nothing outside the store is readable', async () => {
  const { body } = await client.submit('wan2.7-t2v', { prompt: 'range', size: '1280*720', duration: 2 });
  const result = await client.waitForEnd(body.task_id);
  const url = new URL(result.videos[0].video_url);
  const whole = await (await fetch(url)).text();
  const part = await fetch(url, { headers: { range: 'bytes=2-5' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 2-5/${whole.length}`);
  assert.equal(await part.text(), whole.slice(2, 6));

  const tampered = new URL(url);
  tampered.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 1));
  const tamperedResponse = await fetch(tampered);
  assert.equal(tamperedResponse.status, 403);
  assertErrorBody(await tamperedResponse.json(), 403, 'INVALID_SIGNATURE');

  const otherFile = new URL(url.href.replace('/0.mp4', '/1.mp4'));
  assert.equal((await fetch(otherFile)).status, 403);
  for (const escape of ['/v3/files/../wan.db', '/v3/files/..%2Fwan.db', '/v3/files/%2e%2e/secrets.json']) {
    const response = await fetch(`${server.url}${escape}?expires=9999999999&signature=x`);
    assert.ok([403, 404].includes(response.status), `${escape} answered ${response.status}`);
    assert.doesNotMatch(await response.text(), /url_signing_secret|SQLite/);
  }
});

test('an expired URL is told apart from a forged one', async () => {
  const expires = Math.floor(Date.now() / 1000) - 10;
  const key = 'videos/x/0.mp4';
  const response = await fetch(`${server.url}/v3/files/${key}?expires=${expires}&signature=${new UrlSigner(signingSecret).sign(key, expires)}`);
  assert.equal(response.status, 403);
  assert.equal((await response.json()).reason, 'URL_EXPIRED');
});

test('health, readiness and the OpenAPI document', async () => {
  assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok' });
  const ready = await fetch(`${server.url}/readyz`);
  assert.equal(ready.status, 200);
  const openapi = await (await fetch(`${server.url}/openapi.json`)).json();
  for (const path of ['/v3/async/wan2.7-t2v', '/v3/async/wan2.7-i2v', '/v3/async/wan2.7-r2v', '/v3/async/wan2.7-videoedit', '/v3/async/task-result']) {
    assert.ok(openapi.paths[path], path);
  }
});
