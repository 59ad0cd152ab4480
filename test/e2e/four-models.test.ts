import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { resolveFfmpeg } from '../../src/media/ffmpeg-binaries.js';
import { probeMedia } from '../../src/media/probe.js';
import { TestApiClient } from '../support/api-client.js';
import { allowLoopbackMedia } from '../support/e2e-environment.js';
import { serveDirectory } from '../support/file-server.js';
import { makeAudio, makeImage, makeVideo } from '../support/media-fixtures.js';
import { runCli, startServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The whole product, as a user meets it: the real `wan serve` process with the preview engine,
 * a key from `wan keys create`, input media served from loopback, each model submitted and
 * polled to success, and the video fetched through its signed URL and checked with ffprobe.
 */
const toolchain = await resolveFfmpeg();
const dataDir = tempDir();
const mediaDir = tempDir();
await makeImage(toolchain, path.join(mediaDir, 'wide.png'), { width: 640, height: 320 });
await makeImage(toolchain, path.join(mediaDir, 'square.jpg'), { width: 400, height: 400 });
await makeVideo(toolchain, path.join(mediaDir, 'clip.mp4'), { width: 480, height: 640, seconds: 3, audio: true });
await makeAudio(toolchain, path.join(mediaDir, 'voice.wav'), { seconds: 4 });
const media = await serveDirectory(mediaDir);
const { stdout: createdKey } = await runCli(['keys', 'create', '--name', 'e2e', '--data-dir', dataDir]);
const server = await startServerProcess(dataDir, allowLoopbackMedia);
const client = new TestApiClient(server.url, createdKey.trim());

test('wan keys create prints only the key', () => {
  assert.match(createdKey, /^wan_[A-Za-z0-9_-]+\n$/);
});

async function runAndDownload(model: string, body: Record<string, unknown>) {
  const submitted = await client.submit(model, body);
  assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
  const progress: number[] = [];
  const result = await client.waitForEnd(submitted.body.task_id, 120_000, (poll) => progress.push(poll.task.progress_percent));
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
  assert.deepEqual([...progress].sort((a, b) => a - b), progress, 'progress never goes back');
  const download = await fetch(result.videos[0].video_url);
  assert.equal(download.status, 200);
  const file = path.join(tempDir(), 'out.mp4');
  await writeFile(file, Buffer.from(await download.arrayBuffer()));
  return { result, info: await probeMedia(toolchain, file) };
}

function assertVideo(info: Awaited<ReturnType<typeof probeMedia>>, width: number, height: number, seconds: number, audio: boolean) {
  assert.equal(info.video?.codec, 'h264');
  assert.equal(info.video?.pixelFormat, 'yuv420p');
  assert.equal(info.video?.width, width);
  assert.equal(info.video?.height, height);
  assert.ok(Math.abs(info.durationSeconds - seconds) < 0.15, `duration ${info.durationSeconds}, wanted ${seconds}`);
  assert.equal(info.audio !== undefined, audio, audio ? 'an audio stream' : 'no audio stream');
  if (audio) assert.equal(info.audio?.codec, 'aac');
}

test('t2v: the size and duration asked for, with a soundtrack', async () => {
  const { result, info } = await runAndDownload('wan2.7-t2v', { prompt: 'a lighthouse at dusk', size: '1280*720', duration: 2, seed: 5 });
  assertVideo(info, 1280, 720, 2, true);
  assert.equal(result.extra.seed, '5');
});

test('i2v: the 720P pixel budget at the image aspect ratio, driving audio as the soundtrack', async () => {
  const { info } = await runAndDownload('wan2.7-i2v', {
    image_url: media.url('wide.png'),
    driving_audio_url: media.url('voice.wav'),
    resolution: '720P',
    duration: 2,
  });
  assertVideo(info, 1358, 678, 2, true);
});

test('r2v: reference media, no audio stream when audio is false', async () => {
  const { info } = await runAndDownload('wan2.7-r2v', {
    prompt: 'character1 waves',
    media: [{ type: 'reference_image', url: media.url('square.jpg') }],
    size: '960*960',
    duration: 2,
    audio: false,
  });
  assertVideo(info, 960, 960, 2, false);
});

test('videoedit: ratio sets the size, duration cuts the input, its audio is kept', async () => {
  const { info } = await runAndDownload('wan2.7-videoedit', {
    video_url: media.url('clip.mp4'),
    prompt: 'make it black and white',
    resolution: '720P',
    ratio: '1:1',
    duration: 2,
  });
  assertVideo(info, 960, 960, 2, true);
});

test('SIGTERM ends the server cleanly', async () => {
  assert.equal(await server.stop(), 0);
});
