import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { NovitaEngine, type NovitaEngineOptions } from '../../src/engines/novita/novita-engine.js';
import { createRejection, describeNovitaError, taskFailure } from '../../src/engines/novita/novita-errors.js';
import { forwardedBody } from '../../src/engines/novita/novita-protocol.js';
import { UpstreamHttp } from '../../src/engines/upstream/upstream-http.js';
import { ApiError } from '../../src/spec/api-error.js';
import { EngineUnavailable } from '../../src/spec/engine.js';
import { runEngineConformance, waitForEnd } from '../support/engine-conformance.js';
import { novitaError, startNovitaStub } from '../support/novita-stub.js';
import { closedPort, taskResult } from '../support/stub-api-server.js';
import { tempDir } from '../support/temp-dir.js';
import { failureOf, jobIn, jobMaker, quickEngineOptions, stubResultVideo } from '../support/upstream-engine-test-kit.js';

const root = tempDir('wan-novita-');
const video = await stubResultVideo(root);
// Started at the top level: the stub closes itself when this file's tests are over.
const stub = await startNovitaStub({ video });
const jobOf = jobMaker(root, 31);

function engineFor(overrides: Partial<NovitaEngineOptions> = {}): NovitaEngine {
  return new NovitaEngine({ ...quickEngineOptions(stub), ...overrides });
}

const i2vBody = { image_url: 'https://public.example/first.png', prompt: 'she smiles', resolution: '720P' };

const http = new UpstreamHttp({
  engine: 'novita',
  baseUrl: 'https://api.novita.ai',
  apiKey: 'sk-novita-secret-xyz',
  timeoutMs: 1000,
  maxConcurrentRequests: 1,
  describeError: describeNovitaError,
});

describe('novita create errors', () => {
  const table: { status: number; reason: string; expect: string }[] = [
    { status: 400, reason: 'INVALID_REQUEST_BODY', expect: 'ApiError 400 INVALID_REQUEST_BODY' },
    { status: 400, reason: 'ILLEGAL_PROMPT', expect: 'ApiError 400 ILLEGAL_PROMPT' },
    { status: 400, reason: 'INVALID_IMAGE_FORMAT', expect: 'ApiError 400 INVALID_IMAGE_FORMAT' },
    { status: 400, reason: 'SOMETHING_NEW', expect: 'ApiError 400 INVALID_REQUEST_BODY' },
    { status: 400, reason: 'BILLING_BALANCE_NOT_ENOUGH', expect: 'EngineUnavailable' },
    { status: 400, reason: 'MISSING_API_KEY', expect: 'EngineUnavailable' },
    { status: 404, reason: 'API_NOT_FOUND', expect: 'EngineUnavailable' },
    { status: 400, reason: 'RATE_LIMIT_EXCEEDED', expect: 'EngineUnavailable' },
    { status: 409, reason: 'CONFLICT', expect: 'ApiError 500 TASK_FAILED' },
  ];
  for (const row of table) {
    test(`HTTP ${row.status} ${row.reason} → ${row.expect}`, () => {
      const error = createRejection(http, { status: row.status, body: { code: row.status, reason: row.reason, message: 'why', metadata: { field: 'image_url' } } });
      assert.equal(error instanceof ApiError ? `ApiError ${error.status} ${error.reason}` : error.constructor.name, row.expect);
    });
  }

  test('a kept reason keeps the upstream\'s message and metadata (the field)', () => {
    const error = createRejection(http, { status: 400, body: { code: 400, reason: 'INVALID_REQUEST_BODY', message: 'duration must be at most 15', metadata: { field: 'duration' } } });
    assert.ok(error instanceof ApiError);
    assert.equal(error.message, 'duration must be at most 15');
    assert.deepEqual(error.metadata, { field: 'duration', engine: 'novita' });
  });

  test('account problems say the server is misconfigured', () => {
    const error = createRejection(http, { status: 400, body: { code: 400, reason: 'BILLING_BALANCE_NOT_ENOUGH', message: 'top up' } });
    assert.match(error.message, /^server configuration problem/);
  });
});

describe('novita task failures', () => {
  test('a documented reason in extra.error is kept, with its message and metadata', () => {
    const error = taskFailure(http, 't1', taskResult('t1', 'TASK_STATUS_FAILED', {
      reason: 'media[0].url: cannot download',
      error: { code: 400, reason: 'MEDIA_DOWNLOAD_FAILED', message: 'media[0].url: cannot download', metadata: { field: 'media[0].url' } },
    }));
    assert.equal(`${error.status} ${error.reason}`, '400 MEDIA_DOWNLOAD_FAILED');
    assert.equal(error.message, 'media[0].url: cannot download');
    assert.deepEqual(error.metadata, { field: 'media[0].url', engine: 'novita' });
  });

  test('a reason text that is a documented reason is kept', () => {
    const error = taskFailure(http, 't1', taskResult('t1', 'TASK_STATUS_FAILED', { reason: 'ILLEGAL_PROMPT' }));
    assert.equal(`${error.status} ${error.reason}`, '400 ILLEGAL_PROMPT');
  });

  test('anything else is TASK_FAILED with the upstream\'s reason text as the message', () => {
    const error = taskFailure(http, 't1', taskResult('t1', 'TASK_STATUS_FAILED', { reason: 'GPU worker crashed', error: { code: 500, reason: 'WEIRD', message: 'x', metadata: {} } }));
    assert.equal(`${error.status} ${error.reason}`, '500 TASK_FAILED');
    assert.equal(error.message, 'GPU worker crashed');
    const silent = taskFailure(http, 't1', taskResult('t1', 'TASK_STATUS_FAILED'));
    assert.match(silent.message, /failed the task without saying why/);
  });
});

describe('novita engine against its stub', () => {
  test('start forwards the request unchanged but for the job\'s seed (and without the server\'s extra)', async () => {
    const engine = engineFor();
    const job = await jobOf('wan2.7-i2v', { ...i2vBody, seed: 5, extra: { webhook: { url: 'https://client.example/hook' } } }, 5);
    const operation = await engine.start(job);
    assert.deepEqual(Object.keys(operation).sort(), ['acceptedAt', 'engine', 'expectedRunMs', 'upstreamTaskId', 'warnings']);
    assert.equal(operation.engine, 'novita');
    const create = stub.creates().at(-1)!;
    assert.equal(create.url, '/v3/async/wan2.7-i2v');
    assert.equal(create.headers.authorization, `Bearer ${stub.apiKey}`);
    const { extra: _webhook, ...modelFields } = job.request;
    assert.deepEqual(create.json, { ...modelFields, seed: 5 });
    assert.deepEqual(forwardedBody(job.request, 5), create.json);
  });

  test('a request without a seed gets the job\'s seed', async () => {
    await engineFor().start(await jobOf('wan2.7-t2v', { prompt: 'p' }, 1234));
    assert.equal(stub.creates().at(-1)!.json.seed, 1234);
  });

  test('QUEUED → PROCESSING → SUCCEED: the upstream\'s progress and ETA are reported, every video is copied', async () => {
    stub.scriptNextTasks({ queuedPolls: 1, processingPolls: 3, ending: { status: 'TASK_STATUS_SUCCEED', videoCount: 2, usage: { seconds: 5 } } });
    const engine = engineFor();
    const job = await jobOf('wan2.7-i2v', i2vBody);
    const operation = await engine.start(job);
    const progress: number[] = [];
    const etas: number[] = [];
    let status = await engine.status(operation, job);
    while (status.state === 'running') {
      progress.push(status.progressPercent);
      etas.push(status.etaSeconds);
      status = await engine.status(operation, job);
    }
    assert.deepEqual(progress, [0, 25, 50, 75]);
    assert.deepEqual(etas, [60, 30, 20, 10]);
    assert.equal(status.state, 'succeeded');
    if (status.state !== 'succeeded') return;
    assert.deepEqual(status.videos.map((video) => path.basename(video.path)), ['result-0.mp4', 'result-1.mp4']);
    for (const file of status.videos) assert.deepEqual(await readFile(file.path), video);
    assert.deepEqual(status.extra, { usage: { seconds: 5, video_count: 2 }, upstream_task_id: operation.upstreamTaskId, warnings: [] });
  });

  test('after a restart, a new engine given the saved operation follows the task with one create only', async () => {
    const job = await jobOf('wan2.7-t2v', { prompt: 'a boat' });
    const creates = stub.creates().length;
    const saved = JSON.stringify(await engineFor().start(job));
    const last = await waitForEnd(engineFor(), JSON.parse(saved), job, 10_000);
    assert.equal(last.state, 'succeeded');
    assert.equal(stub.creates().length, creates + 1);
  });
});

describe('novita engine: polling trouble', () => {
  test('503 and 429 in the middle of a task keep it running; progress does not go back meanwhile', async () => {
    // A stub of its own: its task-result route is replaced for the trouble.
    const fresh = await startNovitaStub({ video, defaultScript: { queuedPolls: 0, processingPolls: 3 } });
    const engine = engineFor({ baseUrl: fresh.url, apiKey: fresh.apiKey });
    const job = await jobOf('wan2.7-t2v', { prompt: 'p' });
    const operation = await engine.start(job);
    const first = await engine.status(operation, job);
    assert.ok(first.state === 'running' && first.progressPercent === 25);
    fresh.server.script('GET /v3/async/task-result', novitaError(503, 'GET_RESULT_FAILED', 'busy'));
    const during = await engine.status(operation, job);
    assert.ok(during.state === 'running' && during.progressPercent === 25, JSON.stringify(during));
    assert.ok(during.state === 'running' && during.nextCheckMs! >= 16 && during.nextCheckMs! <= 24, 'the longest interval after a failed check');
    fresh.server.script('GET /v3/async/task-result', novitaError(429, 'RATE_LIMIT_EXCEEDED', 'slow', { 'retry-after': '2' }));
    const throttled = await engine.status(operation, job);
    assert.ok(throttled.state === 'running' && throttled.nextCheckMs === 2000, JSON.stringify(throttled));
  });

  test('troubled checks first, then the task ends normally', async () => {
    const fresh = await startNovitaStub({ video });
    fresh.scriptNextTasks({ troubledPolls: [novitaError(503, 'GET_RESULT_FAILED', 'busy'), { action: 'reset' }] });
    const engine = engineFor({ baseUrl: fresh.url, apiKey: fresh.apiKey });
    const job = await jobOf('wan2.7-t2v', { prompt: 'p' });
    const operation = await engine.start(job);
    assert.equal((await engine.status(operation, job)).state, 'running');
    assert.equal((await engine.status(operation, job)).state, 'running');
    assert.equal((await waitForEnd(engine, operation, job, 10_000)).state, 'succeeded');
  });

  test('a FAILED task keeps a documented reason; a task the upstream does not know fails, never resubmitted', async () => {
    const fresh = await startNovitaStub({ video });
    fresh.scriptNextTasks({ queuedPolls: 0, processingPolls: 0, ending: { status: 'TASK_STATUS_FAILED', reason: 'ILLEGAL_PROMPT' } });
    const engine = engineFor({ baseUrl: fresh.url, apiKey: fresh.apiKey });
    const job = await jobOf('wan2.7-t2v', { prompt: 'p' });
    const failed = await engine.status(await engine.start(job), job);
    assert.ok(failed.state === 'failed' && failed.error.reason === 'ILLEGAL_PROMPT');
    const unknown = await engine.status({ engine: 'novita', upstreamTaskId: 'no-such-task', acceptedAt: Date.now() }, job);
    assert.equal(unknown.state, 'failed');
    assert.ok(unknown.state === 'failed' && /cannot report task no-such-task.*TASK_NOT_FOUND/.test(unknown.error.message));
    assert.equal(fresh.creates().length, 1);
  });
});

describe('novita engine: failover when the upstream did not accept the task', () => {
  const unavailable = async (engine: NovitaEngine) => {
    const error = await failureOf(engine.start(await jobOf('wan2.7-t2v', { prompt: 'p' })));
    assert.ok(error instanceof EngineUnavailable, String(error));
    return error;
  };

  test('429 RATE_LIMIT_EXCEEDED with Retry-After, 500, a refused connection, a bad key', async () => {
    stub.answerNextCreates(novitaError(429, 'RATE_LIMIT_EXCEEDED', 'slow down', { 'retry-after': '6' }), novitaError(500, 'CREATE_TASK_FAILED', 'oops'));
    assert.equal((await unavailable(engineFor())).retryAfterMs, 6000);
    await unavailable(engineFor());
    await unavailable(engineFor({ baseUrl: `http://127.0.0.1:${await closedPort()}` }));
    assert.match((await unavailable(engineFor({ apiKey: 'sk-wrong' }))).message, /^server configuration problem/);
  });

  test('a refusal of the request fails the task with the upstream\'s reason', async () => {
    stub.answerNextCreates(novitaError(400, 'ILLEGAL_PROMPT', 'the prompt was refused'));
    const error = await failureOf(engineFor().start(await jobOf('wan2.7-t2v', { prompt: 'p' })));
    assert.ok(error instanceof ApiError && error.reason === 'ILLEGAL_PROMPT' && error.message === 'the prompt was refused');
  });

  test('cancel does nothing and never throws', async () => {
    const engine = engineFor();
    const job = await jobOf('wan2.7-t2v', { prompt: 'p' });
    const operation = await engine.start(job);
    const requests = stub.server.requests.length;
    await engine.cancel(operation);
    await engine.cancel({});
    assert.equal(stub.server.requests.length, requests);
  });
});

describe('novita engine: the API key never leaks', () => {
  test('no error, status, operation or extra contains the key, even when the upstream quotes it', async () => {
    const fresh = await startNovitaStub({ video, apiKey: 'sk-novita-very-secret-42' });
    const engine = engineFor({ baseUrl: fresh.url, apiKey: fresh.apiKey });
    const key = fresh.apiKey;
    const shown: string[] = [];
    const record = (value: unknown) => shown.push(value instanceof Error ? `${value.message} ${JSON.stringify(value)}` : JSON.stringify(value));
    const job = await jobOf('wan2.7-t2v', { prompt: 'p' });
    fresh.answerNextCreates(
      novitaError(400, 'INVALID_REQUEST_BODY', `bad ${key}`, {}, { header: `Bearer ${key}` }),
      novitaError(429, 'RATE_LIMIT_EXCEEDED', `slow ${key}`),
      novitaError(403, 'INVALID_API_KEY', `refused ${key}`),
    );
    for (let attempt = 0; attempt < 3; attempt++) record(await failureOf(engine.start(job)));
    fresh.scriptNextTasks({ ending: { status: 'TASK_STATUS_FAILED', reason: `failed for ${key}` } });
    const operation = await engine.start(job);
    record(operation);
    const failed = await waitForEnd(engine, operation, job, 10_000);
    record(failed.state === 'failed' ? failed.error.toBody() : failed);
    record(await waitForEnd(engine, await engine.start(job), job, 10_000));
    for (const text of shown) assert.ok(!text.includes(key), `the key leaked: ${text}`);
    assert.ok(shown.filter((text) => text.includes('[redacted]')).length >= 3);
  });
});

runEngineConformance(
  'novita (stub)',
  () => engineFor(),
  (workDir) => jobIn(workDir, 'wan2.7-t2v', { prompt: 'p', size: '1280*720' }, 5, 'conformance'),
  { timeoutMs: 20_000, resumable: true },
);
