import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestApiClient } from '../support/api-client.js';
import { startComfyStub } from '../support/comfyui-stub.js';
import { allowLoopbackMedia } from '../support/e2e-environment.js';
import { serveDirectory } from '../support/file-server.js';
import { makeImage, makeVideo, testToolchain } from '../support/media-fixtures.js';
import { startOpenAiVideosStub } from '../support/openai-videos-stub.js';
import { runCli, startServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Self-hosted GPU engines inside the real `wan serve` process, defined by `--engines`: a
 * `/v1/videos` server (vLLM-Omni's protocol) for t2v and a ComfyUI host (HTTP and websocket)
 * for the other models, both local stubs on loopback. Loopback is allowed to each engine for
 * its own host only: user media on loopback are refused unless the test allows them.
 */
const toolchain = await testToolchain();
const fixtures = tempDir('wan-gpu-e2e-');
const video = await readFile(await makeVideo(toolchain, path.join(fixtures, 'result.mp4'), { width: 320, height: 240, seconds: 1, audio: false }));
await makeImage(toolchain, path.join(fixtures, 'first.png'), { width: 640, height: 480 });
await makeVideo(toolchain, path.join(fixtures, 'input.mp4'), { width: 640, height: 360, seconds: 3, audio: true });
const media = await serveDirectory(fixtures);
const gpu = await startOpenAiVideosStub({ video });
const comfy = await startComfyStub({ video });

const engines = {
  'gpu-t2v': { kind: 'openai-videos', base_url: gpu.baseUrl, api_key: gpu.apiKey, model: 'Wan-AI/Wan2.2-T2V-A14B-Diffusers', capacity: 2 },
  comfy: { kind: 'comfyui', base_url: comfy.url, capacity: 2 },
};
const engineArgs = [
  ...['--engines', JSON.stringify(engines)],
  ...['--routes', 'wan2.7-t2v=gpu-t2v;wan2.7-i2v=comfy;wan2.7-r2v=comfy;wan2.7-videoedit=comfy'],
  ...['--lease-seconds', '2', '--shutdown-timeout-seconds', '0'],
];

async function startServer(extraArgs: string[] = allowLoopbackMedia, dataDir = tempDir()) {
  const key = (await runCli(['keys', 'create', '--data-dir', dataDir])).stdout.trim();
  const server = await startServerProcess(dataDir, [...engineArgs, ...extraArgs]);
  return { dataDir, key, server, client: new TestApiClient(server.url, key) };
}

const { server, client } = await startServer();

describe('GPU engines in the server', () => {
  test('t2v on a /v1/videos server: translated form, the server\'s progress, the video from our store, the warnings in extra', async () => {
    gpu.scriptNextJobs({ queuedPolls: 1, progress: [30, 70] });
    const submitted = await client.submit('wan2.7-t2v', { prompt: 'a paper boat', size: '1920*1080', duration: 5, seed: 12 });
    const seen = new Set<number>();
    const result = await client.waitForEnd(submitted.body.task_id, 60_000, (body) => seen.add(body.task?.progress_percent));
    assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
    assert.ok(seen.has(30) && seen.has(70), `the server's progress was reported: ${[...seen].join(', ')}`);
    const sent = gpu.creates.at(-1)!.fields;
    assert.deepEqual([sent.width, sent.height, sent.num_frames, sent.fps, sent.seed], ['1280', '720', '81', '16', '12']);
    assert.equal(result.extra.engine, 'gpu-t2v');
    assert.ok(result.extra.warnings.some((warning: string) => /size 1920\*1080: gpu-t2v does not render it; the video was made at 1280\*720/.test(warning)));
    const served = await fetch(result.videos[0].video_url);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), video);
    assert.ok(!JSON.stringify(server.logs).includes(gpu.apiKey), 'the key is in no log');
  });

  test('i2v on ComfyUI: the first frame uploaded, the Wan 2.2 I2V workflow queued and followed over the websocket', async () => {
    const submitted = await client.submit('wan2.7-i2v', { image_url: media.url('first.png'), prompt: 'waves', resolution: '720P', duration: 3 });
    const result = await client.waitForEnd(submitted.body.task_id, 60_000);
    assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
    const prompt = comfy.prompts.at(-1)!.prompt;
    const image = Object.values(prompt).find((node) => node.class_type === 'LoadImage')!.inputs.image as string;
    assert.deepEqual(comfy.uploads.get(image)?.bytes, await readFile(path.join(fixtures, 'first.png')));
    const i2v = Object.values(prompt).find((node) => node.class_type === 'WanImageToVideo')!;
    assert.deepEqual([i2v.inputs.width, i2v.inputs.height, i2v.inputs.length], [1088, 832, 49]);
    assert.equal(result.extra.engine, 'comfy');
  });

  test('videoedit on ComfyUI: the input clip loaded by VACE, keeping its length', async () => {
    const submitted = await client.submit('wan2.7-videoedit', { video_url: media.url('input.mp4'), prompt: 'clay style', resolution: '720P' });
    const result = await client.waitForEnd(submitted.body.task_id, 60_000);
    assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
    const prompt = comfy.prompts.at(-1)!.prompt;
    assert.ok(Object.values(prompt).some((node) => node.class_type === 'LoadVideo' && /\.mp4$/.test(String(node.inputs.file))));
    assert.equal(Object.values(prompt).find((node) => node.class_type === 'WanVaceToVideo')!.inputs.length, 49);
  });

  test('a failed node fails the task with the node and ComfyUI\'s exception', async () => {
    comfy.scriptNextPrompts({ fail: { type: 'RuntimeError', message: 'mat1 and mat2 shapes cannot be multiplied' } });
    const submitted = await client.submit('wan2.7-r2v', { prompt: 'character1 waves', media: [{ type: 'reference_image', url: media.url('first.png') }], size: '1280*720' });
    const result = await client.waitForEnd(submitted.body.task_id, 60_000);
    assert.equal(result.task.status, 'TASK_STATUS_FAILED');
    assert.equal(result.extra.error.reason, 'TASK_FAILED');
    assert.match(result.task.reason, /at node \d+ \(KSampler\): RuntimeError: mat1 and mat2/);
  });
});

describe('resume after kill -9, with no second submission', () => {
  test('openai-videos: the restarted server follows the saved job id', async () => {
    const restartable = await startServer();
    const creates = gpu.creates.length;
    gpu.scriptNextJobs({ queuedPolls: 3, progress: [50] });
    const submitted = await restartable.client.submit('wan2.7-t2v', { prompt: 'a slow sunrise', size: '1280*720', duration: 5 });
    const taskId = submitted.body.task_id;
    while (gpu.creates.length === creates || gpu.polls(gpu.creates.at(-1)!.id ?? '').length === 0) await sleep(20);
    await restartable.server.kill9();
    const second = await startServerProcess(restartable.dataDir, [...engineArgs, ...allowLoopbackMedia]);
    const result = await new TestApiClient(second.url, restartable.key).waitForEnd(taskId, 90_000);
    assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
    assert.equal(gpu.creates.length - creates, 1, 'never submitted twice');
    assert.equal(await second.stop(), 0);
  });

  test('comfyui: the restarted server follows the saved prompt over HTTP', async () => {
    const restartable = await startServer();
    const prompts = comfy.prompts.length;
    comfy.scriptNextPrompts({ hold: true });
    const submitted = await restartable.client.submit('wan2.7-i2v', { image_url: media.url('first.png'), resolution: '720P', duration: 2 });
    const taskId = submitted.body.task_id;
    while (comfy.prompts.length === prompts) await sleep(20);
    await sleep(300);
    await restartable.server.kill9();
    const second = await startServerProcess(restartable.dataDir, [...engineArgs, ...allowLoopbackMedia]);
    comfy.release(comfy.prompts.at(-1)!.promptId);
    const result = await new TestApiClient(second.url, restartable.key).waitForEnd(taskId, 90_000);
    assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
    assert.equal(comfy.prompts.length - prompts, 1, 'never queued twice');
    assert.equal(await second.stop(), 0);
  });
});

describe('a network policy per engine', () => {
  test('each engine reaches its own loopback host; a user\'s media URL on loopback is still refused', async () => {
    const strict = await startServer([]);
    const t2v = await strict.client.submit('wan2.7-t2v', { prompt: 'a kite', size: '1280*720', duration: 5 });
    const done = await strict.client.waitForEnd(t2v.body.task_id, 60_000);
    assert.equal(done.task.status, 'TASK_STATUS_SUCCEED', done.task.reason);
    const prompts = comfy.prompts.length;
    const i2v = await strict.client.submit('wan2.7-i2v', { image_url: media.url('first.png'), resolution: '720P' });
    const refused = await strict.client.waitForEnd(i2v.body.task_id, 30_000);
    assert.equal(refused.task.status, 'TASK_STATUS_FAILED');
    assert.match(refused.task.reason, /loopback/);
    assert.equal(comfy.prompts.length, prompts, 'nothing reached the GPU');
    assert.equal(await strict.server.stop(), 0);
  });
});

describe('bad set-ups stop the server at start, saying where', () => {
  const refusedStart = async (args: string[]) => {
    const error = await startServerProcess(tempDir(), args).then(
      () => assert.fail('the server started'),
      (caught: Error) => caught,
    );
    return error.message;
  };

  test('a bad engine field names the engine and the field', async () => {
    const bad = { ...engines, 'gpu-t2v': { ...engines['gpu-t2v'], capacity: -1 } };
    assert.match(await refusedStart(['--engines', JSON.stringify(bad)]), /engines\.gpu-t2v\.capacity: use a whole number from 1 to 10000, got -1/);
  });

  test('a route to an engine that cannot carry the model out', async () => {
    assert.match(
      await refusedStart(['--engines', JSON.stringify(engines), '--routes', 'wan2.7-r2v=gpu-t2v']),
      /routes: wan2\.7-r2v goes to gpu-t2v, which cannot carry it out: that openai-videos engine serves wan2\.7-t2v/,
    );
  });
});
