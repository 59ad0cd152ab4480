import assert from 'node:assert/strict';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, { AuthenticationError, BadRequestError, ConflictError, InternalServerError, NotFoundError, UnprocessableEntityError } from 'openai';
import type { Video } from 'openai/resources/videos';
import { probeMedia } from '../../src/media/probe.js';
import { startE2eEnvironment } from '../support/e2e-environment.js';
import { runCli, startServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The official `openai` SDK, unchanged but for `baseURL`, against the real `wan serve` process and
 * its preview renderer: videos created, followed, downloaded and checked with ffprobe, listed and
 * deleted, and the SDK's error classes.
 */
const { toolchain, dataDir, mediaDir, key, server, outDir } = await startE2eEnvironment();
const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
const model = (id: string) => id as OpenAI.Videos.VideoModel;

/** Polls as an SDK user would, recording each status and progress seen. */
async function untilEnded(id: string, seen: Video[] = []): Promise<Video> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const video = await openai.videos.retrieve(id);
    seen.push(video);
    if (video.status === 'completed' || video.status === 'failed') return video;
    await sleep(200);
  }
  throw new Error(`video ${id} did not end in 120 s`);
}

async function download(id: string, file: string, variant?: 'thumbnail'): Promise<Buffer> {
  const response = await openai.videos.downloadContent(id, variant ? { variant } : {});
  const bytes = Buffer.from(await response.arrayBuffer());
  await writeFile(file, bytes);
  return bytes;
}

const created: string[] = [];

test('t2v: created with the SDK, followed to completed, downloaded as an MP4 of the size and length asked for', async () => {
  const video = await openai.videos.create({ model: model('wan2.7-t2v'), prompt: 'a paper boat on a rainy street', seconds: '4', size: '1280x720' });
  created.push(video.id);
  const seen: Video[] = [];
  const done = await untilEnded(video.id, seen);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  const progress = seen.map((each) => each.progress);
  assert.deepEqual([...progress].sort((a, b) => a - b), progress, `progress never goes back: ${progress}`);
  assert.deepEqual([done.seconds, done.size, done.progress], ['4', '1280x720', 100]);

  const file = path.join(outDir, 't2v.mp4');
  const bytes = await download(video.id, file);
  const info = await probeMedia(toolchain, file);
  assert.deepEqual([info.video?.codec, info.video?.width, info.video?.height, info.audio?.codec], ['h264', 1280, 720, 'aac']);
  assert.ok(Math.abs(info.durationSeconds - 4) < 0.15, `duration ${info.durationSeconds}`);

  const head = await openai.videos.downloadContent(video.id, { headers: { Range: 'bytes=0-99' } });
  assert.equal(head.status, 206);
  assert.deepEqual(Buffer.from(await head.arrayBuffer()), bytes.subarray(0, 100));
});

test('variant=thumbnail: a JPEG frame of the video, made once and kept beside it', async () => {
  const [id] = created;
  const file = path.join(outDir, 'thumbnail.jpg');
  const first = await download(id, file, 'thumbnail');
  assert.deepEqual([...first.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG starts with FF D8 FF');
  const info = await probeMedia(toolchain, file);
  assert.deepEqual([info.video?.codec, info.video?.width, info.video?.height], ['mjpeg', 1280, 720]);
  const kept = path.join(dataDir, 'blobs', 'videos', id, 'thumbnail.jpg');
  const made = statSync(kept);
  assert.deepEqual(await download(id, path.join(outDir, 'again.jpg'), 'thumbnail'), first);
  const after = statSync(kept);
  assert.deepEqual([after.ino, after.mtimeMs], [made.ino, made.mtimeMs], 'the second request is served the kept file, not a new one');
});

test('i2v: input_reference as a file is the first frame; the picture keeps its aspect ratio at the tier of size', async () => {
  const video = await openai.videos.create({
    model: model('wan2.7-i2v'),
    prompt: 'the square turns',
    seconds: '4',
    size: '720x1280',
    input_reference: createReadStream(path.join(mediaDir, 'square.png')),
  });
  created.push(video.id);
  const done = await untilEnded(video.id);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.size, '960x960');
  const file = path.join(outDir, 'i2v.mp4');
  await download(video.id, file);
  const info = await probeMedia(toolchain, file);
  assert.deepEqual([info.video?.codec, info.video?.width, info.video?.height], ['h264', 960, 960]);
  assert.ok(Math.abs(info.durationSeconds - 4) < 0.15, `duration ${info.durationSeconds}`);
});

test('downloads left the server nothing to complain about: no error logged', () => {
  const errors = server.logs.filter((entry) => Number(entry.level) >= 50);
  assert.deepEqual(errors, []);
});

test('list shows both videos, newest first; delete removes each with its files, from both APIs', async () => {
  const page = await openai.videos.list({ limit: 10 });
  assert.deepEqual(page.data.map((video) => video.id), [...created].reverse());
  for (const id of created) {
    assert.deepEqual(await openai.videos.delete(id), { id, object: 'video.deleted', deleted: true });
    assert.equal(existsSync(path.join(dataDir, 'blobs', 'videos', id)), false, 'its files are gone');
    await assert.rejects(openai.videos.retrieve(id), NotFoundError);
    const native = await fetch(`${server.url}/v3/async/task-result?task_id=${id}`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(native.status, 404);
  }
  assert.deepEqual((await openai.videos.list()).data, []);
});

test('the SDK raises its error classes: bad request, authentication, not found, conflict, unprocessable, server error', async () => {
  const bad = await openai.videos.create({ model: model('wan2.7-t2v'), prompt: 'p', seconds: '12', size: '1792x1024' }).catch((error) => error);
  assert.ok(bad instanceof BadRequestError);
  assert.deepEqual([bad.status, bad.param, bad.code], [400, 'size', 'invalid_request_body']);

  const stranger = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wan_not_a_key', maxRetries: 0 });
  const unauthenticated = await stranger.videos.list().catch((error) => error);
  assert.ok(unauthenticated instanceof AuthenticationError);
  assert.equal(unauthenticated.code, 'invalid_api_key');

  await assert.rejects(openai.videos.downloadContent('01900000-0000-7000-8000-000000000000'), NotFoundError);

  const running = await openai.videos.create({ model: model('wan2.7-t2v'), prompt: 'still rendering', seconds: '4' }, { headers: { 'Idempotency-Key': 'e2e-1' } });
  const conflict = await openai.videos.delete(running.id).catch((error) => error);
  assert.ok(conflict instanceof ConflictError, String(conflict));
  assert.equal(conflict.code, 'task_not_finished');
  const reused = await openai.videos.create({ model: model('wan2.7-t2v'), prompt: 'something else' }, { headers: { 'Idempotency-Key': 'e2e-1' } }).catch((error) => error);
  assert.ok(reused instanceof UnprocessableEntityError, String(reused));
  assert.equal((await untilEnded(running.id)).status, 'completed');
  await openai.videos.delete(running.id);

  // A server whose disk is below its free-space floor refuses new work with 503.
  const fullDir = tempDir();
  const fullKey = (await runCli(['keys', 'create', '--data-dir', fullDir])).stdout.trim();
  const full = await startServerProcess(fullDir, ['--min-free-disk-bytes', '1099511627776']);
  const refused = await new OpenAI({ baseURL: `${full.url}/v1`, apiKey: fullKey, maxRetries: 0 }).videos.create({ model: model('wan2.7-t2v'), prompt: 'p' }).catch((error) => error);
  assert.ok(refused instanceof InternalServerError, String(refused));
  assert.deepEqual([refused.status, refused.code], [503, 'storage_full']);
  assert.equal(await full.stop(), 0);
});
