import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DashScopeEngine, type DashScopeEngineOptions } from '../../src/engines/dashscope/dashscope-engine.js';
import { translateRequest } from '../../src/engines/dashscope/translate-request.js';
import { ApiError } from '../../src/spec/api-error.js';
import { EngineUnavailable, type EngineStatus } from '../../src/spec/engine.js';
import { dashScopeError, startDashScopeStub, type DashScopeStub } from '../support/dashscope-stub.js';
import { runEngineConformance, waitForEnd } from '../support/engine-conformance.js';
import { closedPort } from '../support/stub-api-server.js';
import { tempDir } from '../support/temp-dir.js';
import { failureOf, jobIn, jobMaker, quickEngineOptions, stubResultVideo } from '../support/upstream-engine-test-kit.js';

const root = tempDir('wan-dashscope-');
const video = await stubResultVideo(root);
// Started at the top level: the stub closes itself when this file's tests are over.
const stub = await startDashScopeStub({ video });
const jobOf = jobMaker(root, 77);

function engineFor(overrides: Partial<DashScopeEngineOptions> = {}): DashScopeEngine {
  return new DashScopeEngine({ ...quickEngineOptions(stub), ...overrides });
}

const t2vBody = { prompt: 'a lighthouse at dusk', size: '1280*720', duration: 5 };

describe('dashscope engine against its stub', () => {
  test('start sends the translated request with the key and async header, and answers a plain JSON operation', async () => {
    const engine = engineFor();
    const job = await jobOf('wan2.7-t2v', t2vBody);
    const before = Date.now();
    const operation = await engine.start(job);
    assert.deepEqual(Object.keys(operation).sort(), ['acceptedAt', 'engine', 'expectedRunMs', 'upstreamTaskId', 'warnings']);
    assert.equal(operation.engine, 'dashscope');
    assert.ok((operation.acceptedAt as number) >= before && (operation.acceptedAt as number) <= Date.now());
    assert.deepEqual(JSON.parse(JSON.stringify(operation)), operation);
    const create = stub.creates().at(-1)!;
    assert.equal(create.headers.authorization, `Bearer ${stub.apiKey}`);
    assert.equal(create.headers['x-dashscope-async'], 'enable');
    assert.equal(create.headers['content-type'], 'application/json');
    assert.deepEqual(create.json, translateRequest('wan2.7-t2v', job.request, 77).body);
    assert.equal((create.json.parameters as { seed: number }).seed, 77);
  });

  test('status runs PENDING → RUNNING → SUCCEEDED; the video is copied into workDir with usage in extra', async () => {
    stub.scriptNextTasks({
      pendingPolls: 2,
      runningPolls: 2,
      ending: { status: 'SUCCEEDED', actualPrompt: 'a lighthouse at dusk, warm light', usage: { duration: 5, video_count: 1, SR: 720, ratio: '16:9', output_video_duration: 5, input_video_duration: 0 } },
    });
    const engine = engineFor();
    const job = await jobOf('wan2.7-t2v', t2vBody);
    const operation = await engine.start(job);
    const first = await engine.status(operation, job);
    assert.equal(first.state, 'running');
    if (first.state !== 'running') return;
    assert.ok(first.progressPercent <= 5, `queued reads at most 5 %, got ${first.progressPercent}`);
    assert.ok(first.nextCheckMs! >= 8 && first.nextCheckMs! <= 12, `next check ${first.nextCheckMs}`);
    const last = await waitForEnd(engine, operation, job, 10_000);
    assert.equal(last.state, 'succeeded', JSON.stringify(last));
    if (last.state !== 'succeeded') return;
    assert.deepEqual(last.videos, [{ path: path.join(job.workDir, 'result-0.mp4'), type: 'mp4' }]);
    assert.deepEqual(await readFile(last.videos[0].path), video);
    assert.deepEqual(last.extra, {
      usage: { duration: 5, video_count: 1, SR: 720, ratio: '16:9', output_video_duration: 5, input_video_duration: 0 },
      actual_prompt: 'a lighthouse at dusk, warm light',
      upstream_task_id: operation.upstreamTaskId,
      warnings: [],
    });
    assert.equal(stub.polls(operation.upstreamTaskId as string).length, 5);
  });

  test('asking again after success downloads nothing twice', async () => {
    const engine = engineFor();
    const job = await jobOf('wan2.7-t2v', t2vBody);
    const operation = await engine.start(job);
    const done = await waitForEnd(engine, operation, job, 10_000);
    const again = await engine.status(operation, job);
    assert.deepEqual(again, done);
    const downloads = stub.server.requestsTo(`GET /results/${operation.upstreamTaskId}.mp4`);
    assert.equal(downloads.length, 1);
  });

  test('after a restart, a new engine given the saved operation follows the task without creating it again', async () => {
    const job = await jobOf('wan2.7-i2v', { image_url: 'https://public.example/first.png', resolution: '720P' });
    const creates = stub.creates().length;
    const saved = JSON.stringify(await engineFor().start(job));
    const restarted = engineFor();
    const last = await waitForEnd(restarted, JSON.parse(saved), job, 10_000);
    assert.equal(last.state, 'succeeded');
    assert.equal(stub.creates().length, creates + 1, 'exactly one create call');
  });

  test('progress resumes from acceptedAt: a task accepted long ago reads far along and is checked at the longest interval', async () => {
    stub.scriptNextTasks({ pendingPolls: 0, runningPolls: 5 });
    const job = await jobOf('wan2.7-t2v', t2vBody);
    const operation = await engineFor().start(job);
    const later = engineFor({ clock: () => (operation.acceptedAt as number) + 10 * 60_000, poll: { initialMs: 2000, maxMs: 15_000 } });
    const status = await later.status(operation, job);
    assert.equal(status.state, 'running');
    if (status.state !== 'running') return;
    assert.ok(status.progressPercent >= 90 && status.progressPercent <= 95, `${status.progressPercent}`);
    assert.ok(status.nextCheckMs! >= 12_000 && status.nextCheckMs! <= 18_000, `${status.nextCheckMs}`);
    assert.equal(status.etaSeconds, 0);
  });

  test('503 and 429 while polling do not fail the task: it stays running, and Retry-After sets the next check', async () => {
    stub.scriptNextTasks({
      troubledPolls: [dashScopeError(503, 'ServiceUnavailable', 'busy'), dashScopeError(429, 'Throttling.RateQuota', 'slow down', { 'retry-after': '3' }), { action: 'reset' }],
    });
    const engine = engineFor({ poll: { initialMs: 10, maxMs: 40 } });
    const job = await jobOf('wan2.7-t2v', t2vBody);
    const operation = await engine.start(job);
    const unavailable = await engine.status(operation, job);
    assert.equal(unavailable.state, 'running');
    assert.ok(unavailable.state === 'running' && unavailable.nextCheckMs! >= 32 && unavailable.nextCheckMs! <= 48, JSON.stringify(unavailable));
    const throttled = await engine.status(operation, job);
    assert.deepEqual(throttled.state === 'running' && throttled.nextCheckMs, 3000);
    const reset = await engine.status(operation, job);
    assert.equal(reset.state, 'running');
    assert.equal((await waitForEnd(engine, operation, job, 10_000)).state, 'succeeded');
  });

  test('a malformed answer while polling (not JSON, or JSON without a status) keeps the task running', async () => {
    stub.scriptNextTasks({ troubledPolls: [{ status: 200, body: '{"output": {"task_status": ' }, { json: { request_id: 'r' } }] });
    const engine = engineFor({ poll: { initialMs: 10, maxMs: 40 } });
    const job = await jobOf('wan2.7-t2v', t2vBody);
    const operation = await engine.start(job);
    assert.equal((await engine.status(operation, job)).state, 'running');
    assert.equal((await engine.status(operation, job)).state, 'running');
    assert.equal((await waitForEnd(engine, operation, job, 10_000)).state, 'succeeded');
  });

  test('FAILED, CANCELED and UNKNOWN end the task with a mapped error, never a new create', async () => {
    const cases: [Parameters<DashScopeStub['scriptNextTasks']>[0]['ending'], string, RegExp][] = [
      [{ status: 'FAILED', code: 'DataInspectionFailed', message: 'Output data may contain inappropriate content.' }, 'ILLEGAL_PROMPT', /inappropriate/],
      [{ status: 'FAILED', code: 'InvalidParameter', message: 'first_frame is too small' }, 'INVALID_REQUEST_BODY', /first_frame is too small/],
      [{ status: 'FAILED', code: 'InternalError.Algo', message: 'algorithm error' }, 'TASK_FAILED', /InternalError\.Algo: algorithm error/],
      [{ status: 'CANCELED' }, 'TASK_FAILED', /cancelled at the dashscope upstream/],
      [{ status: 'UNKNOWN' }, 'TASK_FAILED', /has lost task .* not sent again/],
    ];
    for (const [ending, reason, message] of cases) {
      stub.scriptNextTasks({ pendingPolls: 0, runningPolls: 1, ending });
      const engine = engineFor();
      const job = await jobOf('wan2.7-t2v', t2vBody);
      const creates = stub.creates().length;
      const last = await waitForEnd(engine, await engine.start(job), job, 10_000);
      assert.equal(last.state, 'failed');
      if (last.state !== 'failed') continue;
      assert.equal(last.error.reason, reason);
      assert.match(last.error.message, message);
      assert.equal(stub.creates().length, creates + 1);
    }
  });

  test('a result that cannot be downloaded fails the task with TASK_FAILED saying why', async () => {
    stub.scriptNextTasks({ pendingPolls: 0, runningPolls: 0, videoAnswer: { status: 404 } });
    const engine = engineFor();
    const job = await jobOf('wan2.7-t2v', t2vBody);
    const last = await waitForEnd(engine, await engine.start(job), job, 10_000);
    assert.equal(last.state, 'failed');
    assert.ok(last.state === 'failed' && /finished the video, but it could not be downloaded.*HTTP 404/.test(last.error.message));
  });

  test('the upstream refusing the key while polling fails the task as a server configuration problem', async () => {
    const job = await jobOf('wan2.7-t2v', t2vBody);
    const operation = await engineFor().start(job);
    const status = await engineFor({ apiKey: 'sk-rotated-wrong' }).status(operation, job);
    assert.equal(status.state, 'failed');
    if (status.state !== 'failed') return;
    assert.equal(status.error.reason, 'TASK_FAILED');
    assert.match(status.error.message, /server configuration problem/);
  });

  test('garbage operations are lost and nothing is asked of the upstream', async () => {
    const requests = stub.server.requests.length;
    const job = await jobOf('wan2.7-t2v', t2vBody);
    const engine = engineFor();
    for (const operation of [{}, { engine: 'novita', upstreamTaskId: 'x', acceptedAt: 1 }, { engine: 'dashscope', upstreamTaskId: 7, acceptedAt: 1 }]) {
      assert.deepEqual(await engine.status(operation, job), { state: 'lost' });
      await engine.cancel(operation);
    }
    assert.equal(stub.server.requests.length, requests);
  });

  test('cancel asks DashScope to cancel and never throws, even when the upstream refuses or is gone', async () => {
    const engine = engineFor();
    const job = await jobOf('wan2.7-t2v', t2vBody);
    const operation = await engine.start(job);
    await engine.cancel(operation);
    assert.equal(stub.cancels(operation.upstreamTaskId as string).length, 1);
    await engineFor({ baseUrl: `http://127.0.0.1:${await closedPort()}` }).cancel(operation);
  });

  test('media URLs go through the mediaUrl hook; a hook refusal fails the start before any create', async () => {
    const fields: string[] = [];
    const engine = engineFor({
      mediaUrl: (field, url) => {
        fields.push(field);
        return url.replace('https://ours.example/', 'https://reachable.example/');
      },
    });
    const job = await jobOf('wan2.7-r2v', {
      prompt: 'character1 sings',
      media: [{ type: 'reference_image', url: 'https://ours.example/a.png', reference_voice: 'https://ours.example/a.mp3' }],
    });
    await engine.start(job);
    assert.deepEqual(fields, ['media[0].url', 'media[0].reference_voice']);
    assert.deepEqual((stub.creates().at(-1)!.json.input as { media: unknown }).media, [
      { type: 'reference_image', url: 'https://reachable.example/a.png', reference_voice: 'https://reachable.example/a.mp3' },
    ]);
    const creates = stub.creates().length;
    const refusal = new ApiError(400, 'INVALID_REQUEST_BODY', 'media[0].url cannot be handed to the upstream', { field: 'media[0].url' });
    const refusing = engineFor({
      mediaUrl: () => {
        throw refusal;
      },
    });
    assert.equal(await failureOf(refusing.start(job)), refusal);
    assert.equal(stub.creates().length, creates);
  });

  test('warnings of the translation are in extra when the task ends', async () => {
    const engine = engineFor();
    const job = await jobOf('wan2.7-r2v', { prompt: 'character1 waves', media: [{ type: 'reference_image', url: 'https://a.example/i.png' }], audio: false });
    const last = await waitForEnd(engine, await engine.start(job), job, 10_000);
    assert.ok(last.state === 'succeeded');
    assert.deepEqual(last.extra.warnings, translateRequest('wan2.7-r2v', job.request, job.seed).warnings);
    assert.equal((last.extra.warnings as string[]).length, 1);
  });

  test('capacity: 1000 by default, or as configured', () => {
    assert.equal(engineFor().capacity, 1000);
    assert.equal(engineFor({ capacity: 5000 }).capacity, 5000);
    assert.equal(engineFor({ name: 'dashscope-us' }).name, 'dashscope-us');
  });
});

describe('dashscope engine: failover when the upstream did not accept the task', () => {
  const unavailable = async (engine: DashScopeEngine) => {
    const error = await failureOf(engine.start(await jobOf('wan2.7-t2v', t2vBody)));
    assert.ok(error instanceof EngineUnavailable, String(error));
    assert.equal(error.engine, 'dashscope');
    return error;
  };

  test('429 throttling, with Retry-After', async () => {
    stub.answerNextCreates(dashScopeError(429, 'Throttling.RateQuota', 'Requests rate limit exceeded', { 'retry-after': '5' }));
    assert.equal((await unavailable(engineFor())).retryAfterMs, 5000);
  });

  test('500', async () => {
    stub.answerNextCreates(dashScopeError(500, 'InternalServerError', 'oops'));
    await unavailable(engineFor());
  });

  test('a refused connection', async () => {
    await unavailable(engineFor({ baseUrl: `http://127.0.0.1:${await closedPort()}` }));
  });

  test('a bad key (401) or an account in arrears: a server configuration problem', async () => {
    assert.match((await unavailable(engineFor({ apiKey: 'sk-wrong' }))).message, /^server configuration problem/);
    stub.answerNextCreates(dashScopeError(400, 'Arrearage', 'Access denied, please make sure your account is in good standing.'));
    assert.match((await unavailable(engineFor())).message, /^server configuration problem.*Arrearage/);
  });

  test('no answer after the request was sent: the task fails (it may exist upstream), it is not offered elsewhere', async () => {
    stub.answerNextCreates({ action: 'hang' });
    const error = await failureOf(engineFor({ requestTimeoutMs: 200 }).start(await jobOf('wan2.7-t2v', t2vBody)));
    assert.ok(error instanceof ApiError);
    assert.equal(error.reason, 'TASK_FAILED');
    assert.equal(error.metadata.upstream_acceptance, 'unknown');
  });
});

describe('dashscope engine: requests the upstream refused', () => {
  test('400 InvalidParameter → INVALID_REQUEST_BODY with the upstream\'s message', async () => {
    stub.answerNextCreates(dashScopeError(400, 'InvalidParameter', 'The audio is longer than 30 s'));
    const error = await failureOf(engineFor().start(await jobOf('wan2.7-t2v', t2vBody)));
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 400);
    assert.equal(error.reason, 'INVALID_REQUEST_BODY');
    assert.match(error.message, /The audio is longer than 30 s/);
  });

  test('DataInspectionFailed → ILLEGAL_PROMPT', async () => {
    stub.answerNextCreates(dashScopeError(400, 'DataInspectionFailed', 'Input data may contain inappropriate content.'));
    const error = await failureOf(engineFor().start(await jobOf('wan2.7-t2v', t2vBody)));
    assert.ok(error instanceof ApiError);
    assert.equal(error.reason, 'ILLEGAL_PROMPT');
  });
});

describe('dashscope engine: the API key never leaks', () => {
  test('no error, status, operation or extra contains the key, even when the upstream quotes it', async () => {
    const shown: string[] = [];
    const record = (value: unknown) => shown.push(value instanceof Error ? `${value.name} ${value.message} ${JSON.stringify(value)}` : JSON.stringify(value));
    const job = await jobOf('wan2.7-t2v', t2vBody);
    stub.answerNextCreates(
      dashScopeError(400, 'InvalidParameter', `header Bearer ${stub.apiKey} is odd`),
      dashScopeError(429, 'Throttling', `key ${stub.apiKey} throttled`),
      dashScopeError(403, 'AccessDenied', `key ${stub.apiKey} denied`),
    );
    for (let attempt = 0; attempt < 3; attempt++) record(await failureOf(engineFor().start(job)));
    stub.scriptNextTasks({ troubledPolls: [dashScopeError(503, 'Busy', `busy for ${stub.apiKey}`)], ending: { status: 'FAILED', code: 'InternalError', message: `failed for ${stub.apiKey}` } });
    const engine = engineFor();
    const operation = await engine.start(job);
    record(operation);
    const statuses: EngineStatus[] = [];
    await waitForEnd(engine, operation, job, 10_000).then((status) => statuses.push(status));
    const succeeded = await waitForEnd(engine, await engine.start(job), job, 10_000);
    for (const status of [...statuses, succeeded]) record(status.state === 'failed' ? status.error.toBody() : status);
    assert.equal(shown.length, 6);
    for (const text of shown) assert.ok(!text.includes(stub.apiKey), `the key leaked: ${text}`);
    assert.ok(shown.some((text) => text.includes('[redacted]')));
  });
});

runEngineConformance(
  'dashscope (stub)',
  () => engineFor(),
  (workDir) => jobIn(workDir, 'wan2.7-t2v', t2vBody, 5, 'conformance'),
  { timeoutMs: 20_000, resumable: true },
);
