import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendCreate, sendPoll } from '../../src/engines/upstream/upstream-calls.js';
import { UpstreamConnectionError, UpstreamHttp } from '../../src/engines/upstream/upstream-http.js';
import { ApiError } from '../../src/spec/api-error.js';
import { EngineUnavailable } from '../../src/spec/engine.js';
import { closedPort, startStubServer } from '../support/stub-api-server.js';

const apiKey = 'sk-upstream-secret-0123456789';

function http(baseUrl: string, overrides: { timeoutMs?: number; maxConcurrentRequests?: number } = {}) {
  return new UpstreamHttp({
    engine: 'up',
    baseUrl,
    apiKey,
    timeoutMs: overrides.timeoutMs ?? 2000,
    maxConcurrentRequests: overrides.maxConcurrentRequests ?? 4,
    describeError: (body) => {
      const { code, message } = (body ?? {}) as { code?: string; message?: string };
      return { code, message };
    },
  });
}

describe('upstream HTTP', () => {
  test('the key goes in the Authorization header; JSON goes both ways; Retry-After is read', async () => {
    const server = await startStubServer();
    server.script('POST /create', { status: 202, headers: { 'retry-after': '4' }, json: { ok: true } });
    const response = await http(server.url).send('POST', '/create', { a: 1 }, { 'x-extra': 'yes' });
    assert.deepEqual(response, { status: 202, body: { ok: true }, retryAfterMs: 4000 });
    const [request] = server.requestsTo('POST /create');
    assert.equal(request.headers.authorization, `Bearer ${apiKey}`);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['x-extra'], 'yes');
    assert.deepEqual(JSON.parse(request.body.toString()), { a: 1 });
  });

  test('a body that is not JSON is kept as (cut) text for messages', async () => {
    const server = await startStubServer();
    server.script('GET /html', { status: 502, body: `<html>${'x'.repeat(1000)}</html>` });
    const response = await http(server.url).send('GET', '/html');
    assert.equal(response.status, 502);
    assert.ok(typeof response.body === 'string' && response.body.length <= 301);
  });

  test('a refused connection never arrived; no answer in time, or a reset, may have', async () => {
    const refused = await http(`http://127.0.0.1:${await closedPort()}`).send('GET', '/').catch((error: unknown) => error);
    assert.ok(refused instanceof UpstreamConnectionError);
    assert.equal(refused.mayHaveArrived, false);
    assert.match(refused.message, /cannot reach the up upstream .*ECONNREFUSED/);

    const server = await startStubServer();
    server.script('POST /hang', { action: 'hang' });
    server.script('POST /reset', { action: 'reset' });
    const hung = await http(server.url, { timeoutMs: 150 }).send('POST', '/hang', {}).catch((error: unknown) => error);
    assert.ok(hung instanceof UpstreamConnectionError);
    assert.equal(hung.mayHaveArrived, true);
    assert.match(hung.message, /did not answer within 150 ms/);
    const reset = await http(server.url).send('POST', '/reset', {}).catch((error: unknown) => error);
    assert.ok(reset instanceof UpstreamConnectionError);
    assert.equal(reset.mayHaveArrived, true);
  });

  test('no more requests in flight than the limit; the timeout starts once a request has its place', async () => {
    const server = await startStubServer();
    let inFlight = 0;
    let most = 0;
    server.script('GET /slow', async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(60);
      inFlight--;
      return { json: {} };
    });
    // 12 requests of 60 ms, 2 at a time, take 360 ms: far beyond the 200 ms timeout of each.
    const client = http(server.url, { maxConcurrentRequests: 2, timeoutMs: 200 });
    const answers = await Promise.all(Array.from({ length: 12 }, () => client.send('GET', '/slow')));
    assert.equal(answers.length, 12);
    assert.equal(most, 2);
    assert.deepEqual(client.load, { active: 0, queued: 0 });
  });

  test('an upstream that quotes the key does not get it into messages', () => {
    const client = http('http://127.0.0.1:1');
    const response = { status: 401, body: { code: 'InvalidApiKey', message: `Invalid API-key provided: ${apiKey}` } };
    assert.equal(client.describe(response), 'HTTP 401 InvalidApiKey: Invalid API-key provided: [redacted]');
  });

  test('without a key no Authorization is sent (a GPU server started without one); with one, result URLs get it on its origin only', async () => {
    const server = await startStubServer();
    server.script('GET /open', { json: {} });
    const keyless = new UpstreamHttp({ engine: 'gpu', baseUrl: server.url, timeoutMs: 2000, maxConcurrentRequests: 1, describeError: () => ({}) });
    await keyless.send('GET', '/open');
    assert.equal(server.requestsTo('GET /open')[0].headers.authorization, undefined);
    assert.deepEqual(keyless.credentialsFor(`${server.url}/v1/videos/1/content`), {});
    const keyed = http('http://gpu.example:8091/v1');
    assert.deepEqual(keyed.credentialsFor('http://gpu.example:8091/v1/videos/1/content'), { authorization: `Bearer ${apiKey}` });
    assert.deepEqual(keyed.credentialsFor('http://gpu.example:9999/elsewhere.mp4'), {}, 'another port is another origin');
    assert.deepEqual(keyed.credentialsFor('https://cdn.example/video.mp4'), {});
    assert.deepEqual(keyed.credentialsFor('not a url'), {});
  });

  test('a FormData body goes as multipart, and DELETE is sent', async () => {
    const server = await startStubServer();
    server.script('POST /videos', { json: { id: 'v1' } });
    server.script('DELETE /videos/v1', { json: { deleted: true } });
    const form = new FormData();
    form.set('prompt', 'a boat');
    form.set('input_reference', new Blob([Buffer.from('PNGDATA')], { type: 'image/png' }), 'first.png');
    await http(server.url).send('POST', '/videos', form);
    const [request] = server.requestsTo('POST /videos');
    assert.match(String(request.headers['content-type']), /^multipart\/form-data; boundary=/);
    const parsed = await new Response(new Uint8Array(request.body), { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
    assert.equal(parsed.get('prompt'), 'a boat');
    assert.equal((parsed.get('input_reference') as File).name, 'first.png');
    assert.equal((await http(server.url).send('DELETE', '/videos/v1')).status, 200);
  });
});

describe('create calls: accepted or not', () => {
  test('a connection never made: EngineUnavailable, nothing created', async () => {
    const error = await sendCreate(http(`http://127.0.0.1:${await closedPort()}`), '/create', {}).catch((caught: unknown) => caught);
    assert.ok(error instanceof EngineUnavailable);
    assert.equal(error.engine, 'up');
    assert.match(error.message, /nothing was created there/);
  });

  test('no answer after the request was sent: the task fails, it is not offered to another engine', async () => {
    const server = await startStubServer();
    server.script('POST /create', { action: 'hang' });
    const error = await sendCreate(http(server.url, { timeoutMs: 150 }), '/create', {}).catch((caught: unknown) => caught);
    assert.ok(error instanceof ApiError);
    assert.equal(error.reason, 'TASK_FAILED');
    assert.equal(error.metadata.upstream_acceptance, 'unknown');
    assert.match(error.message, /may have accepted the task, so the task is not sent again/);
  });

  test('429 and 5xx: EngineUnavailable carrying Retry-After', async () => {
    const server = await startStubServer();
    server.script('POST /create', { status: 429, headers: { 'retry-after': '7' }, json: { code: 'Throttling', message: 'slow down' } }, { status: 503, json: {} });
    const throttled = await sendCreate(http(server.url), '/create', {}).catch((caught: unknown) => caught);
    assert.ok(throttled instanceof EngineUnavailable);
    assert.equal(throttled.retryAfterMs, 7000);
    assert.match(throttled.message, /HTTP 429 Throttling: slow down/);
    const down = await sendCreate(http(server.url), '/create', {}).catch((caught: unknown) => caught);
    assert.ok(down instanceof EngineUnavailable);
    assert.equal(down.retryAfterMs, undefined);
  });

  test('401 and 403: EngineUnavailable that says the server is misconfigured', async () => {
    const server = await startStubServer();
    server.script('POST /create', { status: 401, json: { code: 'InvalidApiKey', message: `bad key ${apiKey}` } }, { status: 403, json: {} });
    for (const status of [401, 403]) {
      const error = await sendCreate(http(server.url), '/create', {}).catch((caught: unknown) => caught);
      assert.ok(error instanceof EngineUnavailable, `${status}`);
      assert.match(error.message, /^server configuration problem: the up upstream refused the server's API key/);
      assert.ok(!error.message.includes(apiKey));
    }
  });

  test('other answers are for the protocol to read', async () => {
    const server = await startStubServer();
    server.script('POST /create', { status: 400, json: { code: 'InvalidParameter', message: 'no' } });
    assert.equal((await sendCreate(http(server.url), '/create', {})).status, 400);
  });
});

describe('checks (polls): trouble only postpones', () => {
  test('network trouble, 429 and 5xx are "unreachable", with Retry-After when given', async () => {
    const server = await startStubServer();
    server.script('GET /task', { action: 'reset' }, { status: 429, headers: { 'retry-after': '3' }, json: {} }, { status: 500, json: {} });
    const reset = await sendPoll(http(server.url), '/task');
    assert.equal(reset.kind, 'unreachable');
    assert.deepEqual(await sendPoll(http(server.url), '/task'), { kind: 'unreachable', why: 'the up upstream answered HTTP 429', retryAfterMs: 3000 });
    assert.equal((await sendPoll(http(server.url), '/task')).kind, 'unreachable');
  });

  test('401 and 403 fail the task: the server\'s key is misconfigured (not INVALID_API_KEY, which is the client\'s)', async () => {
    const server = await startStubServer();
    server.script('GET /task', { status: 403, json: { code: 'AccessDenied', message: 'denied' } });
    const answer = await sendPoll(http(server.url), '/task');
    assert.equal(answer.kind, 'failed');
    if (answer.kind !== 'failed') return;
    assert.equal(answer.error.reason, 'TASK_FAILED');
    assert.equal(answer.error.status, 500);
    assert.match(answer.error.message, /server configuration problem.*refused the server's API key.*AccessDenied/);
  });
});
