import assert from 'node:assert/strict';
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestApiClient } from '../support/api-client.js';
import { allowLoopbackMedia } from '../support/e2e-environment.js';
import { serveDirectory } from '../support/file-server.js';
import { makeImage, makeVideo, testToolchain } from '../support/media-fixtures.js';
import { startOpenAiVideosStub, type OpenAiVideosStub } from '../support/openai-videos-stub.js';
import { runCli, startServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * What the worker does with engines whose work lives on GPU hosts: it holds each engine's
 * capacity on every engine of a route and across the processes of a cluster, so a full GPU is
 * skipped for the next engine and never overfilled; and it resumes an accepted task from its
 * operation alone, without fetching the request's media again.
 */
const toolchain = await testToolchain();
const fixtures = tempDir('wan-gpu-worker-e2e-');
const video = await readFile(await makeVideo(toolchain, path.join(fixtures, 'result.mp4'), { width: 320, height: 240, seconds: 1, audio: false }));
await makeImage(toolchain, path.join(fixtures, 'first.png'), { width: 640, height: 480 });
const media = await serveDirectory(fixtures);

const t2vEngine = (stub: OpenAiVideosStub) => ({
  kind: 'openai-videos',
  base_url: stub.baseUrl,
  api_key: stub.apiKey,
  model: 'Wan-AI/Wan2.2-TI2V-5B-Diffusers',
  capacity: 1,
});
const common = ['--lease-seconds', '2', '--shutdown-timeout-seconds', '0', '--worker-concurrency', '4', ...allowLoopbackMedia];

async function newKey(dataDir: string) {
  return (await runCli(['keys', 'create', '--data-dir', dataDir])).stdout.trim();
}

/** Jobs a stub has accepted and not yet finished (a check that ended them is counted once). */
function activeJobs(stub: OpenAiVideosStub, ended: Set<string>): number {
  return stub.creates.filter((create) => create.id !== undefined && !ended.has(create.id)).length;
}

test('failover from a full GPU engine: the second task goes to the next engine of the route while the first runs', async () => {
  const gpuA = await startOpenAiVideosStub({ video });
  const gpuB = await startOpenAiVideosStub({ video });
  gpuA.scriptNextJobs({ queuedPolls: 12, progress: [50] });
  const dataDir = tempDir();
  const key = await newKey(dataDir);
  const server = await startServerProcess(dataDir, [
    ...['--engines', JSON.stringify({ 'gpu-a': t2vEngine(gpuA), 'gpu-b': t2vEngine(gpuB) })],
    ...['--routes', 'wan2.7-t2v=gpu-a,gpu-b'],
    ...common,
  ]);
  const client = new TestApiClient(server.url, key);
  const first = (await client.submit('wan2.7-t2v', { prompt: 'long', size: '1280*720' })).body.task_id;
  while (gpuA.creates.length === 0) await sleep(20);
  const second = (await client.submit('wan2.7-t2v', { prompt: 'short', size: '1280*720' })).body.task_id;
  const secondResult = await client.waitForEnd(second, 60_000);
  assert.equal(secondResult.task.status, 'TASK_STATUS_SUCCEED', secondResult.task.reason);
  assert.equal(secondResult.extra.engine, 'gpu-b', 'the full engine was skipped');
  assert.equal(gpuA.creates.length, 1, 'gpu-a was never given a second task');
  const firstNow = await client.result(first);
  assert.notEqual(firstNow.body.task.status, 'TASK_STATUS_SUCCEED', 'the second task ended while the first still ran');
  assert.equal((await client.waitForEnd(first, 90_000)).extra.engine, 'gpu-a');
  assert.equal(await server.stop(), 0);
});

test('capacity is held across processes: two servers on one database never hand one GPU more than its capacity', async () => {
  const gpu = await startOpenAiVideosStub({ video, defaultScript: { queuedPolls: 2, progress: [50] } });
  const dataDir = tempDir();
  const key = await newKey(dataDir);
  const args = [...['--engines', JSON.stringify({ gpu: t2vEngine(gpu) })], ...['--routes', 'wan2.7-t2v=gpu'], ...common];
  const one = await startServerProcess(dataDir, args);
  const two = await startServerProcess(dataDir, args);
  const client = new TestApiClient(one.url, key);
  const ids: string[] = [];
  for (let index = 0; index < 4; index++) ids.push((await client.submit('wan2.7-t2v', { prompt: `task ${index}`, size: '1280*720' })).body.task_id);
  // A job is over once its content was fetched.
  const ended = new Set<string>();
  let most = 0;
  const watching = (async () => {
    while (ended.size < ids.length) {
      for (const create of gpu.creates) {
        if (create.id && gpu.server.requestsTo(`GET /v1/videos/${create.id}/content`).length > 0) ended.add(create.id);
      }
      most = Math.max(most, activeJobs(gpu, ended));
      await sleep(10);
    }
  })();
  for (const id of ids) assert.equal((await client.waitForEnd(id, 120_000)).task.status, 'TASK_STATUS_SUCCEED');
  await watching;
  assert.equal(most, 1, `jobs at the GPU at once: ${most}`);
  assert.equal(await one.stop(), 0);
  assert.equal(await two.stop(), 0);
});

test('resume without the inputs: after kill -9, a task the engine accepted ends though its input URL is gone, with one submission', async () => {
  const gpu = await startOpenAiVideosStub({ video });
  gpu.scriptNextJobs({ queuedPolls: 6, progress: [50] });
  const dataDir = tempDir();
  const key = await newKey(dataDir);
  const args = [
    ...['--engines', JSON.stringify({ 'gpu-i2v': { ...t2vEngine(gpu), model: 'Wan-AI/Wan2.2-I2V-A14B-Diffusers' } })],
    ...['--routes', 'wan2.7-i2v=gpu-i2v'],
    ...common,
  ];
  const first = await startServerProcess(dataDir, args);
  const taskId = (await new TestApiClient(first.url, key).submit('wan2.7-i2v', { image_url: media.url('first.png'), resolution: '720P' })).body.task_id;
  while (gpu.creates.length === 0 || gpu.polls(gpu.creates[0].id ?? '').length === 0) await sleep(20);
  await first.kill9();
  // The input URL expires: fetching it again would fail the task the GPU is already running.
  await rename(path.join(fixtures, 'first.png'), path.join(fixtures, 'gone.png'));
  const second = await startServerProcess(dataDir, args);
  const result = await new TestApiClient(second.url, key).waitForEnd(taskId, 90_000);
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
  assert.equal(gpu.creates.length, 1, 'never submitted twice');
  assert.equal(await second.stop(), 0);
});
