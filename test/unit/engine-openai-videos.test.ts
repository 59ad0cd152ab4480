import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { wan14bProfile, wan5bProfile } from '../../src/engines/open-wan/wan-profile.js';
import { OpenAiVideosEngine, type OpenAiVideosEngineOptions } from '../../src/engines/openai-videos/openai-videos-engine.js';
import { PollScheduler } from '../../src/engines/upstream/poll-scheduler.js';
import { ApiError } from '../../src/spec/api-error.js';
import { EngineUnavailable, type EngineJob } from '../../src/spec/engine.js';
import { engineJob, runEngineConformance, waitForEnd } from '../support/engine-conformance.js';
import { makeImage, testToolchain } from '../support/media-fixtures.js';
import { startOpenAiVideosStub } from '../support/openai-videos-stub.js';
import { closedPort } from '../support/stub-api-server.js';
import { tempDir } from '../support/temp-dir.js';
import { downloadToFile, failureOf, jobIn, stubResultVideo } from '../support/upstream-engine-test-kit.js';

const root = tempDir('wan-openai-videos-');
const toolchain = await testToolchain();
const video = await stubResultVideo(root);
const photo = await makeImage(toolchain, path.join(root, 'first.png'), { width: 640, height: 480 });
const stub = await startOpenAiVideosStub({ video });

function engineFor(overrides: Partial<OpenAiVideosEngineOptions> = {}): OpenAiVideosEngine {
  return new OpenAiVideosEngine({
    name: 'gpu',
    baseUrl: stub.baseUrl,
    apiKey: stub.apiKey,
    models: ['wan2.7-t2v', 'wan2.7-i2v'],
    target: { model: 'Wan-AI/Wan2.2-TI2V-5B-Diffusers', profile: wan5bProfile },
    toolchain,
    downloadResult: downloadToFile,
    poll: { initialMs: 10, maxMs: 20 },
    scheduler: new PollScheduler(),
    requestTimeoutMs: 2000,
    ...overrides,
  });
}

async function t2vJob(body: Record<string, unknown> = { prompt: 'a boat', size: '1280*720', duration: 5 }, seed = 11): Promise<EngineJob> {
  return jobIn(await mkdtemp(path.join(root, 'job-')), 'wan2.7-t2v', body, seed);
}

async function i2vJob(body: Record<string, unknown> = {}): Promise<EngineJob> {
  return engineJob('wan2.7-i2v', { image_url: 'https://cdn.example/first.png', resolution: '720P', prompt: 'she smiles', ...body }, {
    workDir: await mkdtemp(path.join(root, 'job-')),
    files: { image_url: photo, first_clip_url: photo },
    seed: 4,
  });
}

describe('openai-videos engine against a /v1/videos server', () => {
  test('start sends a multipart create with the key; the operation holds what status needs', async () => {
    const engine = engineFor();
    const job = await t2vJob();
    const operation = await engine.start(job);
    assert.deepEqual(Object.keys(operation).sort(), ['acceptedAt', 'engine', 'expectedRunMs', 'upstreamTaskId', 'warnings']);
    const create = stub.creates.at(-1)!;
    assert.equal(create.headers.authorization, `Bearer ${stub.apiKey}`);
    assert.match(String(create.headers['content-type']), /^multipart\/form-data/);
    assert.deepEqual(create.fields, {
      model: 'Wan-AI/Wan2.2-TI2V-5B-Diffusers',
      prompt: 'a boat',
      width: '1280',
      height: '704',
      num_frames: '121',
      fps: '24',
      seed: '11',
    });
    assert.equal(create.file, undefined);
    assert.equal(operation.upstreamTaskId, create.id);
    assert.ok((operation.warnings as string[]).some((warning) => warning.startsWith('size 1280*720')));
  });

  test('i2v uploads the first frame as input_reference, with its type and a name that says it', async () => {
    const engine = engineFor();
    await engine.start(await i2vJob());
    const create = stub.creates.at(-1)!;
    assert.equal(create.file?.name, 'image_url.png');
    assert.equal(create.file?.type, 'image/png');
    assert.deepEqual(create.file?.bytes, await readFile(photo));
    assert.deepEqual([create.fields.width, create.fields.height], ['1280', '704'], 'the 4:3 frame at 720P, fitted to what TI2V-5B renders');
  });

  test('progress and ETA come from the server; the video is fetched with the key; warnings and run time in extra', async () => {
    stub.scriptNextJobs({ queuedPolls: 1, progress: [25, 50, 75] });
    const engine = engineFor();
    const job = await t2vJob();
    const operation = await engine.start(job);
    const seen: { progress: number; eta: number }[] = [];
    let status = await engine.status(operation, { workDir: job.workDir });
    while (status.state === 'running') {
      seen.push({ progress: status.progressPercent, eta: status.etaSeconds });
      status = await engine.status(operation, { workDir: job.workDir });
    }
    assert.ok(seen[0].progress <= 5, `queued reads at most 5 %: ${seen[0].progress}`);
    assert.deepEqual(seen.slice(1).map((entry) => entry.progress), [25, 50, 75]);
    assert.ok(seen.every((entry) => Number.isFinite(entry.eta) && entry.eta >= 0));
    assert.equal(status.state, 'succeeded');
    if (status.state !== 'succeeded') return;
    assert.deepEqual(await readFile(status.videos[0].path), video);
    const download = stub.server.requestsTo(`GET /v1/videos/${operation.upstreamTaskId}/content`)[0];
    assert.equal(download.headers.authorization, `Bearer ${stub.apiKey}`);
    assert.deepEqual(status.extra.usage, { inference_seconds: 42.5 });
    assert.deepEqual(status.extra.warnings, operation.warnings);
    assert.equal(status.extra.upstream_task_id, operation.upstreamTaskId);
  });

  test('a failed job fails the task with the server\'s message; never created again', async () => {
    stub.scriptNextJobs({ queuedPolls: 0, progress: [10], ending: { status: 'failed', error: { code: 'generation_failed', message: 'CUDA out of memory' } } });
    const engine = engineFor();
    const job = await t2vJob();
    const creates = stub.creates.length;
    const last = await waitForEnd(engine, await engine.start(job), job, 10_000);
    assert.ok(last.state === 'failed');
    if (last.state !== 'failed') return;
    assert.equal(last.error.reason, 'TASK_FAILED');
    assert.match(last.error.message, /CUDA out of memory/);
    assert.equal(last.error.metadata.upstream_code, 'generation_failed');
    assert.equal(stub.creates.length, creates + 1);
  });

  test('results missing: a completed job whose content answers 404 fails the task, saying the video could not be fetched', async () => {
    stub.scriptNextJobs({ queuedPolls: 0, progress: [], ending: { status: 'completed', content: { status: 404, json: { detail: 'Video not found' } } } });
    const engine = engineFor();
    const job = await t2vJob();
    const last = await waitForEnd(engine, await engine.start(job), job, 10_000);
    assert.ok(last.state === 'failed' && /finished the video, but it could not be downloaded/.test(last.error.message), JSON.stringify(last));
  });

  test('trouble while polling (503, reset) keeps the task running', async () => {
    stub.scriptNextJobs({ troubledPolls: [{ status: 503, json: { detail: 'busy' } }, { action: 'reset' }] });
    const engine = engineFor();
    const job = await t2vJob();
    const operation = await engine.start(job);
    assert.equal((await engine.status(operation, job)).state, 'running');
    assert.equal((await engine.status(operation, job)).state, 'running');
    assert.equal((await waitForEnd(engine, operation, job, 10_000)).state, 'succeeded');
  });

  test('cancel deletes the job and never throws', async () => {
    stub.scriptNextJobs({ queuedPolls: 50 });
    const engine = engineFor();
    const operation = await engine.start(await t2vJob());
    await engine.cancel(operation);
    assert.equal(stub.deletes(operation.upstreamTaskId as string).length, 1);
    await engine.cancel({});
    await engineFor({ baseUrl: `http://127.0.0.1:${await closedPort()}/v1` }).cancel(operation);
  });

  test('after a restart, a new engine given only the saved operation follows the job: one create', async () => {
    const job = await t2vJob();
    const creates = stub.creates.length;
    const saved = JSON.stringify(await engineFor().start(job));
    const last = await waitForEnd(engineFor(), JSON.parse(saved), { workDir: await mkdtemp(path.join(root, 'resumed-')) }, 10_000);
    assert.equal(last.state, 'succeeded');
    assert.equal(stub.creates.length, creates + 1);
  });

  test('an SGLang server that uploaded the video to object storage: it is fetched from there, without the key', async () => {
    const elsewhere = await startOpenAiVideosStub({ video, apiKey: 'other' });
    stub.scriptNextJobs({ queuedPolls: 0, progress: [] });
    const engine = engineFor();
    const job = await t2vJob();
    const operation = await engine.start(job);
    const id = operation.upstreamTaskId as string;
    const storage = `${elsewhere.url}/bucket/${id}.mp4`;
    elsewhere.server.script(`GET /bucket/${id}.mp4`, { headers: { 'content-type': 'video/mp4' }, body: video });
    stub.server.script(`GET /v1/videos/${id}`, { json: { id, object: 'video', status: 'completed', progress: 100, url: storage } });
    const last = await waitForEnd(engine, operation, job, 10_000);
    assert.equal(last.state, 'succeeded');
    assert.equal(elsewhere.server.requestsTo(`GET /bucket/${id}.mp4`)[0].headers.authorization, undefined);
  });
});

describe('openai-videos engine: did the server take the task?', () => {
  const unavailable = async (engine: OpenAiVideosEngine, job?: EngineJob) => {
    const error = await failureOf(engine.start(job ?? (await t2vJob())));
    assert.ok(error instanceof EngineUnavailable, String(error));
    return error;
  };

  test('503, 429 with Retry-After, a refused connection, a wrong key, a form it refuses, no /videos: not accepted', async () => {
    stub.answerNextCreates(
      { status: 503, json: { detail: 'Service Unavailable' } },
      { status: 429, headers: { 'retry-after': '7' }, json: { error: { message: 'queue full' } } },
      { status: 422, json: { detail: [{ loc: ['body', 'num_frames'], msg: 'must be 4k+1' }] } },
    );
    await unavailable(engineFor());
    assert.equal((await unavailable(engineFor())).retryAfterMs, 7000);
    assert.match((await unavailable(engineFor())).message, /num_frames: must be 4k\+1/);
    await unavailable(engineFor({ baseUrl: `http://127.0.0.1:${await closedPort()}/v1` }));
    assert.match((await unavailable(engineFor({ apiKey: 'sk-wrong' }))).message, /^server configuration problem/);
    assert.match((await unavailable(engineFor({ baseUrl: stub.url }))).message, /no \/videos endpoint at its base_url/);
  });

  test('slow acceptance: an answer later than the request timeout fails the task (it may run there), never sent twice', async () => {
    stub.answerNextCreates({ delayMs: 600 });
    const error = await failureOf(engineFor({ requestTimeoutMs: 200 }).start(await t2vJob()));
    assert.ok(error instanceof ApiError && error.reason === 'TASK_FAILED', String(error));
    assert.equal((error as ApiError).metadata.upstream_acceptance, 'unknown');
  });

  test('a clip to continue (first_clip_url) is refused before anything is sent, for the next engine of the route', async () => {
    const creates = stub.creates.length;
    const job = await i2vJob({ image_url: undefined, first_clip_url: 'https://cdn.example/clip.mp4' });
    assert.match((await unavailable(engineFor(), job)).message, /cannot continue a clip/);
    assert.equal(stub.creates.length, creates);
  });

  test('the key never leaks into errors or operations, even when the server quotes it', async () => {
    stub.answerNextCreates({ status: 400, json: { error: { message: `bad request from ${stub.apiKey}` } } });
    const error = await failureOf(engineFor().start(await t2vJob()));
    assert.ok(!String((error as Error).message).includes(stub.apiKey));
    assert.match((error as Error).message, /\[redacted\]/);
  });
});

runEngineConformance(
  'openai-videos (vLLM-Omni protocol stub)',
  () => engineFor({ target: { model: 'Wan-AI/Wan2.2-I2V-A14B-Diffusers', profile: wan14bProfile }, models: ['wan2.7-i2v'] }),
  async (workDir) =>
    engineJob('wan2.7-i2v', { image_url: 'https://cdn.example/first.png', resolution: '720P' }, { workDir, files: { image_url: await copyOf(photo, workDir) }, seed: 2 }),
  { timeoutMs: 20_000, resumable: true },
);

/** The job's own copy of an input, which a test may delete. */
async function copyOf(file: string, workDir: string): Promise<string> {
  const copy = path.join(workDir, `input-${path.basename(file)}`);
  await copyFile(file, copy);
  return copy;
}
