import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ComfyUiEngine, type ComfyUiEngineOptions } from '../../src/engines/comfyui/comfyui-engine.js';
import { defaultWorkflowDirectory, loadWorkflow, variants, type Variant } from '../../src/engines/comfyui/comfyui-workflow.js';
import { wan14bProfile } from '../../src/engines/open-wan/wan-profile.js';
import { PollScheduler } from '../../src/engines/upstream/poll-scheduler.js';
import { modelIds } from '../../src/models/registry.js';
import { ApiError } from '../../src/spec/api-error.js';
import { EngineUnavailable, type EngineJob, type EngineOperation } from '../../src/spec/engine.js';
import { startComfyStub } from '../support/comfyui-stub.js';
import { engineJob, runEngineConformance } from '../support/engine-conformance.js';
import { makeAudio, makeImage, testToolchain } from '../support/media-fixtures.js';
import { closedPort } from '../support/stub-api-server.js';
import { tempDir } from '../support/temp-dir.js';
import { downloadToFile, failureOf, jobIn, stubResultVideo } from '../support/upstream-engine-test-kit.js';

const root = tempDir('wan-comfyui-');
const toolchain = await testToolchain();
const video = await stubResultVideo(root);
const photo = await makeImage(toolchain, path.join(root, 'first.png'), { width: 640, height: 360 });
const voice = await makeAudio(toolchain, path.join(root, 'voice.wav'), { seconds: 3 });
const stub = await startComfyStub({ video });
const workflows = Object.fromEntries(
  (Object.keys(variants) as Variant[]).map((variant) => [variant, loadWorkflow(variant, path.join(defaultWorkflowDirectory, variants[variant].file))]),
);
const engines: ComfyUiEngine[] = [];

function engineFor(overrides: Partial<ComfyUiEngineOptions> = {}): ComfyUiEngine {
  const engine = new ComfyUiEngine({
    name: 'comfy',
    baseUrl: stub.url,
    capacity: 1,
    models: modelIds,
    workflows,
    profile: wan14bProfile,
    toolchain,
    downloadResult: downloadToFile,
    poll: { initialMs: 10, maxMs: 20 },
    scheduler: new PollScheduler(),
    requestTimeoutMs: 2000,
    ...overrides,
  });
  engines.push(engine);
  return engine;
}

// Sockets are closed when the file's tests are over.
after(() => Promise.all(engines.map((engine) => engine.close())));

async function t2vJob(seed = 21): Promise<EngineJob> {
  return jobIn(await mkdtemp(path.join(root, 'job-')), 'wan2.7-t2v', { prompt: 'a lighthouse at dusk', size: '1280*720', duration: 5 }, seed, `task-${seed}`);
}

async function i2vJob(body: Record<string, unknown> = {}): Promise<EngineJob> {
  const workDir = await mkdtemp(path.join(root, 'job-'));
  const copy = async (file: string) => {
    const target = path.join(workDir, `in-${path.basename(file)}`);
    await copyFile(file, target);
    return target;
  };
  return engineJob('wan2.7-i2v', { image_url: 'https://cdn.example/first.png', resolution: '720P', prompt: 'waves', ...body }, {
    workDir,
    files: { image_url: await copy(photo), first_clip_url: await copy(photo), driving_audio_url: await copy(voice) },
    seed: 9,
  });
}

/** Follows the task as the worker does: status, then wait on `changed` until the next check. */
async function follow(engine: ComfyUiEngine, operation: EngineOperation, workDir: string, onProgress: (percent: number) => void = () => {}) {
  for (;;) {
    const status = await engine.status(operation, { workDir });
    if (status.state !== 'running') return status;
    onProgress(status.progressPercent);
    await engine.changed(operation, Math.min(status.nextCheckMs ?? 1000, 2000));
  }
}

describe('ComfyUI engine against a ComfyUI host', () => {
  test('t2v: the bound workflow is queued under our prompt and client ids; followed by events over one socket; the MP4 is fetched with /view', async () => {
    const engine = engineFor();
    const job = await t2vJob();
    const operation = await engine.start(job);
    const submitted = stub.prompts.at(-1)!;
    assert.equal(submitted.promptId, operation.upstreamTaskId);
    assert.equal(submitted.clientId.length > 0, true);
    const text = Object.values(submitted.prompt).filter((node) => node.class_type === 'CLIPTextEncode').map((node) => node.inputs.text);
    assert.deepEqual(text, ['a lighthouse at dusk', '']);
    const latent = Object.values(submitted.prompt).find((node) => node.class_type === 'EmptyHunyuanLatentVideo')!;
    assert.deepEqual(latent.inputs, { width: 1280, height: 720, length: 81, batch_size: 1 });
    const samplers = Object.values(submitted.prompt).filter((node) => node.class_type === 'KSamplerAdvanced');
    assert.deepEqual(samplers.map((node) => node.inputs.noise_seed), [21, 21]);
    const progress: number[] = [];
    const historyBefore = stub.requests.filter((route) => route.startsWith('GET /history')).length;
    const last = await follow(engine, operation, job.workDir, (percent) => progress.push(percent));
    assert.equal(last.state, 'succeeded', JSON.stringify(last));
    if (last.state !== 'succeeded') return;
    assert.deepEqual(await readFile(last.videos[0].path), video);
    assert.deepEqual([...progress].sort((a, b) => a - b), progress, 'never goes back');
    assert.ok(progress.some((percent) => percent > 5 && percent < 95), `sampler steps show: ${progress.join(', ')}`);
    // The history is written just after the success event: at most one look at the queue then.
    assert.ok(stub.requests.filter((route) => route === 'GET /queue').length <= 1, 'no queue polling while events come');
    assert.ok(stub.requests.filter((route) => route.startsWith('GET /history')).length - historyBefore <= 3, 'the history is read once it ended');
    assert.ok(engine.following.events >= 6, `events read: ${engine.following.events}`);
    assert.deepEqual(last.extra.warnings, operation.warnings);
  });

  test('i2v with a driving audio: both files uploaded under the task\'s names, S2V queued with them', async () => {
    const engine = engineFor();
    const job = await i2vJob({ driving_audio_url: 'https://cdn.example/voice.wav' });
    const operation = await engine.start(job);
    const submitted = stub.prompts.at(-1)!.prompt;
    const image = Object.values(submitted).find((node) => node.class_type === 'LoadImage')!.inputs.image as string;
    const audio = Object.values(submitted).find((node) => node.class_type === 'LoadAudio')!.inputs.audio as string;
    assert.equal(image, `wan-api/${job.taskId}-first_frame.png`);
    assert.equal(audio, `wan-api/${job.taskId}-driving_audio.wav`);
    assert.deepEqual(stub.uploads.get(image)?.bytes, await readFile(photo));
    assert.equal(stub.uploads.get(image)?.type, 'image/png');
    assert.ok(Object.values(submitted).some((node) => node.class_type === 'WanSoundImageToVideo'));
    assert.equal((await follow(engine, operation, job.workDir)).state, 'succeeded');
  });

  test('a node that fails ends the task with the node, its type and ComfyUI\'s exception', async () => {
    stub.scriptNextPrompts({ fail: { type: 'torch.OutOfMemoryError', message: 'CUDA out of memory. Tried to allocate 2.00 GiB' } });
    const engine = engineFor();
    const job = await t2vJob();
    const last = await follow(engine, await engine.start(job), job.workDir);
    assert.ok(last.state === 'failed');
    if (last.state !== 'failed') return;
    assert.equal(last.error.reason, 'TASK_FAILED');
    assert.match(last.error.message, /at node \d+ \(KSamplerAdvanced\): torch\.OutOfMemoryError: CUDA out of memory/);
    assert.equal(last.error.metadata.node_type, 'KSamplerAdvanced');
  });

  test('results missing: a workflow that saved no MP4 fails the task saying so', async () => {
    stub.scriptNextPrompts({ noOutputs: true });
    const engine = engineFor();
    const job = await t2vJob();
    const last = await follow(engine, await engine.start(job), job.workDir);
    assert.ok(last.state === 'failed' && /finished without an MP4 output/.test(last.error.message), JSON.stringify(last));
  });

  test('cancel takes the prompt off the queue and interrupts it where it runs; the prompt ends interrupted', async () => {
    stub.scriptNextPrompts({ hold: true });
    const engine = engineFor();
    const job = await t2vJob();
    const operation = await engine.start(job);
    const id = operation.upstreamTaskId as string;
    // Held after its first sampler step: running at the host.
    for (const deadline = Date.now() + 5000; !stub.held().includes(id); await sleep(10)) assert.ok(Date.now() < deadline, 'the prompt runs');
    await engine.cancel(operation);
    assert.deepEqual(stub.deletes().at(-1), id);
    assert.equal(stub.interrupts().at(-1), id);
    const after = await engineFor().status(operation, { workDir: job.workDir });
    assert.ok(after.state === 'failed' && /interrupted/.test(after.error.message), JSON.stringify(after));
    await engine.cancel({ engine: 'comfy' });
  });

  test('another process resumes from the operation alone: followed over HTTP (its events go to the first socket), one prompt', async () => {
    stub.scriptNextPrompts({ stepMs: 30 });
    const first = engineFor();
    const job = await t2vJob();
    const prompts = stub.prompts.length;
    const operation = JSON.parse(JSON.stringify(await first.start(job)));
    const second = engineFor();
    const last = await follow(second, operation, await mkdtemp(path.join(root, 'resumed-')));
    assert.equal(last.state, 'succeeded', JSON.stringify(last));
    assert.equal(stub.prompts.length, prompts + 1);
    assert.equal(second.following.events, 0, 'the second process heard no event of it');
  });

  test('a dropped socket: the engine reconnects, verifies over HTTP, and the task still ends', async () => {
    stub.scriptNextPrompts({ stepMs: 40 });
    const engine = engineFor();
    const job = await t2vJob();
    const operation = await engine.start(job);
    await sleep(60);
    stub.dropSockets();
    const last = await follow(engine, operation, job.workDir);
    assert.equal(last.state, 'succeeded', JSON.stringify(last));
  });

  test('a host that forgot the prompt (restarted) fails the task, which is never queued again', async () => {
    stub.scriptNextPrompts({ hold: true });
    const engine = engineFor();
    const job = await t2vJob();
    const operation = await engine.start(job);
    const prompts = stub.prompts.length;
    stub.forgetEverything();
    stub.dropSockets();
    const last = await follow(engine, operation, job.workDir);
    assert.ok(last.state === 'failed' && /no longer knows prompt/.test(last.error.message), JSON.stringify(last));
    assert.equal(stub.prompts.length, prompts);
  });
});

describe('ComfyUI engine: did the host take the prompt?', () => {
  const unavailable = async (engine: ComfyUiEngine, job?: EngineJob) => {
    const error = await failureOf(engine.start(job ?? (await t2vJob())));
    assert.ok(error instanceof EngineUnavailable, String(error));
    return error;
  };

  test('5xx, a refused connection, a workflow it refuses (node errors), a failed upload: not accepted, nothing queued', async () => {
    const prompts = stub.prompts.length;
    stub.answerNextPrompts({ status: 500, json: { error: 'boom' } });
    await unavailable(engineFor());
    stub.answerNextPrompts({
      status: 400,
      json: {
        error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '' },
        node_errors: { '1': { class_type: 'UNETLoader', errors: [{ message: 'Value not in list', details: "unet_name: 'wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors' not in []" }] } },
      },
    });
    const refused = await unavailable(engineFor());
    assert.match(refused.message, /^server configuration problem: .*refused the workflow: .*node 1 \(UNETLoader\): Value not in list/);
    await unavailable(engineFor({ baseUrl: `http://127.0.0.1:${await closedPort()}` }));
    stub.answerNextUploads({ status: 503, json: { error: 'disk full' } });
    assert.match((await unavailable(engineFor(), await i2vJob())).message, /did not take the upload of image_url/);
    assert.equal(stub.prompts.length, prompts);
  });

  test('slow acceptance: an answer that comes too late is settled by finding our prompt id at the host, with no second prompt', async () => {
    stub.answerNextPrompts('slow');
    const engine = engineFor({ requestTimeoutMs: 300 });
    const job = await t2vJob();
    const prompts = stub.prompts.length;
    const operation = await engine.start(job);
    assert.equal(stub.prompts.length, prompts + 1);
    assert.equal(stub.prompts.at(-1)!.promptId, operation.upstreamTaskId);
    assert.equal((await follow(engine, operation, job.workDir)).state, 'succeeded');
  });

  test('an answer lost for a prompt the host never queued stays unknown: the task fails, it is not sent again', async () => {
    stub.answerNextPrompts({ action: 'hang' });
    const error = await failureOf(engineFor({ requestTimeoutMs: 300 }).start(await t2vJob()));
    assert.ok(error instanceof ApiError && error.metadata.upstream_acceptance === 'unknown', String(error));
  });

  test('a clip to continue is refused before anything is uploaded or queued', async () => {
    const uploads = stub.uploads.size;
    const job = await i2vJob({ image_url: undefined, first_clip_url: 'https://cdn.example/clip.mp4' });
    assert.match((await unavailable(engineFor(), job)).message, /cannot continue a clip/);
    assert.equal(stub.uploads.size, uploads);
  });
});

describe('ComfyUI engine behind a proxy that wants a key', () => {
  test('the key goes with every request, the upload, the websocket and /view', async () => {
    const guarded = await startComfyStub({ video, apiKey: 'sk-proxy-key' });
    const engine = engineFor({ baseUrl: guarded.url, apiKey: 'sk-proxy-key' });
    const job = await i2vJob();
    const last = await follow(engine, await engine.start(job), job.workDir);
    assert.equal(last.state, 'succeeded', JSON.stringify(last));
    assert.ok(engine.following.events > 0, 'the websocket was let in');
    const refused = await failureOf(engineFor({ baseUrl: guarded.url }).start(await t2vJob()));
    assert.ok(refused instanceof EngineUnavailable);
  });
});

runEngineConformance(
  'comfyui (ComfyUI protocol stub)',
  () => engineFor(),
  async (workDir) => {
    const input = path.join(workDir, 'first.png');
    await copyFile(photo, input);
    return engineJob('wan2.7-i2v', { image_url: 'https://cdn.example/first.png', resolution: '720P' }, { workDir, files: { image_url: input }, seed: 2 });
  },
  { timeoutMs: 20_000, resumable: true },
);

test('the conformance job and every shipped variant ran on the stub with bound placeholders only', () => {
  for (const { prompt } of stub.prompts) assert.ok(!JSON.stringify(prompt).includes('{{'), 'no placeholder left');
});
