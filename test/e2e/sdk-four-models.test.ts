import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { WanApiError, type TaskInfo } from '../../src/client/index.js';
import { NodeWanClient } from '../../src/client/node.js';
import { probeMedia } from '../../src/media/probe.js';
import { closedPort } from '../support/stub-api-server.js';
import { startE2eEnvironment } from '../support/e2e-environment.js';

/** The SDK against the real `wan serve` process: each model run to a downloaded MP4, progress, abort, errors. */
const { toolchain, mediaDir, media, key, server, outDir } = await startE2eEnvironment();
const client = new NodeWanClient({ baseUrl: server.url, apiKey: key, pollIntervalMs: 100, maxPollIntervalMs: 300 });

async function assertMp4(file: string, width: number, height: number, seconds: number) {
  const info = await probeMedia(toolchain, file);
  assert.equal(info.video?.codec, 'h264');
  assert.equal(info.video?.width, width);
  assert.equal(info.video?.height, height);
  assert.ok(Math.abs(info.durationSeconds - seconds) < 0.15, `duration ${info.durationSeconds}`);
}

test('t2v: run reports monotonic progress and ends with a video that download saves', async () => {
  const seen: TaskInfo[] = [];
  const result = await client.run('wan2.7-t2v', { prompt: 'a lighthouse at dusk', size: '1280*720', duration: 2, seed: 3 }, {
    onProgress: (task) => seen.push(task),
  });
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED');
  assert.equal(result.extra.seed, '3');
  assert.ok(seen.length >= 1 && seen.at(-1)!.status === 'TASK_STATUS_SUCCEED');
  const percents = seen.map((task) => task.progress_percent);
  assert.deepEqual([...percents].sort((a, b) => a - b), percents, `progress never goes back: ${percents}`);
  const file = path.join(outDir, 't2v.mp4');
  assert.ok((await client.download(result, file)) > 1000);
  await assertMp4(file, 1280, 720, 2);
});

test('i2v, r2v and videoedit run to their videos', async () => {
  const [i2v, r2v, videoedit] = await Promise.all([
    client.run('wan2.7-i2v', { image_url: media.url('square.png'), resolution: '720P', duration: 2 }),
    client.run('wan2.7-r2v', {
      prompt: 'character1 waves',
      media: [{ type: 'reference_image', url: media.url('square.png'), reference_voice: media.url('voice.wav') }],
      size: '960*960',
      duration: 2,
    }),
    client.run('wan2.7-videoedit', { video_url: media.url('clip.mp4'), prompt: 'clay style', resolution: '720P', ratio: '16:9', duration: 2 }),
  ]);
  await client.download(i2v, path.join(outDir, 'i2v.mp4'));
  await client.download(r2v, path.join(outDir, 'r2v.mp4'));
  await client.download(videoedit, path.join(outDir, 'videoedit.mp4'));
  await assertMp4(path.join(outDir, 'i2v.mp4'), 960, 960, 2);
  await assertMp4(path.join(outDir, 'r2v.mp4'), 960, 960, 2);
  await assertMp4(path.join(outDir, 'videoedit.mp4'), 1280, 720, 2);
});

test('an AbortSignal stops waitFor at once; the task goes on and can be waited for again', async () => {
  const taskId = await client.submit('wan2.7-t2v', { prompt: 'slow storm', size: '1280*720', duration: 4 });
  const controller = new AbortController();
  let polls = 0;
  const waiting = client.waitFor(taskId, {
    signal: controller.signal,
    onProgress: () => {
      if (++polls === 1) controller.abort();
    },
  });
  await assert.rejects(waiting, (error: WanApiError) => error instanceof WanApiError && error.kind === 'aborted');
  assert.equal(polls, 1);
  const result = await client.waitFor(taskId, { timeout: 30_000 });
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED');
});

test('errors of the real server: invalid request, unknown task, bad key, failed task, unreachable', async () => {
  const invalid = await client.submit('wan2.7-t2v', { prompt: 'x', duration: 20 }).catch((error: unknown) => error);
  assert.ok(invalid instanceof WanApiError);
  assert.equal(invalid.status, 400);
  assert.equal(invalid.reason, 'INVALID_REQUEST_BODY');
  assert.equal(invalid.metadata.field, 'duration');

  await assert.rejects(client.getResult('no-such-task'), (error: WanApiError) => error.status === 404 && error.reason === 'TASK_NOT_FOUND');

  const stranger = new NodeWanClient({ baseUrl: server.url, apiKey: 'wan_not_a_key' });
  await assert.rejects(stranger.getResult('x'), (error: WanApiError) => error.status === 403 && error.reason === 'INVALID_API_KEY');

  const failed = await client
    .run('wan2.7-i2v', { image_url: media.url('missing.png'), resolution: '720P', duration: 2 })
    .catch((error: unknown) => error);
  assert.ok(failed instanceof WanApiError);
  assert.equal(failed.kind, 'task_failed');
  assert.equal(failed.reason, 'MEDIA_DOWNLOAD_FAILED');
  assert.equal(failed.metadata.field, 'image_url');

  const nowhere = new NodeWanClient({ baseUrl: `http://127.0.0.1:${await closedPort()}`, apiKey: key, retry: { maxRetries: 0 } });
  await assert.rejects(nowhere.getResult('x'), (error: WanApiError) => error.kind === 'network' && !error.mayHaveReachedServer);
});

test('uploadFile answers a URL of this server that a request can use', async () => {
  const imageUrl = await client.uploadFile(path.join(mediaDir, 'square.png'));
  assert.ok(imageUrl.startsWith(`${server.url}/v3/files/uploads/`), imageUrl);
  const result = await client.run('wan2.7-i2v', { image_url: imageUrl, resolution: '720P', duration: 2 });
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED');
  assert.equal(result.videos.length, 1);
});
