import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, rename } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CheckedMediaFetcher } from '../../src/media/checked-media-fetcher.js';
import { runFfmpeg } from '../../src/media/run-ffmpeg.js';
import { megabyte } from '../../src/models/media-limits.js';
import { modelById } from '../../src/models/registry.js';
import type { ModelId } from '../../src/models/model.js';
import { AddressPolicy } from '../../src/net/address-policy.js';
import { GuardedDownloader, type LookupAll } from '../../src/net/guarded-downloader.js';
import { ApiError } from '../../src/spec/api-error.js';
import {
  makeAudio,
  makeImage,
  makeTransparentPng,
  makeVideo,
  padToSize,
  testToolchain,
  truncatedCopy,
} from '../support/media-fixtures.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The media check as a task meets it: files made with ffmpeg, served over HTTP by a local server
 * (often under a misleading name and Content-Type), fetched through the address guard and held
 * against each field's limits. The fixture server is on loopback, which the default policy
 * refuses; these fetchers allow it by its test host name, explicitly.
 */
const toolchain = await testToolchain();
const files = tempDir('wan-media-');
const at = (name: string) => path.join(files, name);
const ffmpeg = (...args: string[]) => runFfmpeg(toolchain.ffmpegPath, ['-y', ...args]);

await Promise.all([
  makeImage(toolchain, at('ok.png'), { width: 640, height: 360 }),
  makeImage(toolchain, at('corner.png'), { width: 8000, height: 1000, colour: 'navy' }),
  makeImage(toolchain, at('too-large.png'), { width: 8002, height: 1002, colour: 'navy' }),
  makeImage(toolchain, at('narrow.png'), { width: 239, height: 400, colour: 'gray' }),
  makeImage(toolchain, at('wide.png'), { width: 1944, height: 240, colour: 'gray' }),
  makeImage(toolchain, at('picture.gif'), { width: 400, height: 400, colour: 'teal' }),
  makeImage(toolchain, at('picture.webp'), { width: 400, height: 400 }),
  makeImage(toolchain, at('picture.bmp'), { width: 400, height: 400, colour: 'olive' }),
  makeImage(toolchain, at('detailed.png'), { width: 1280, height: 720 }),
  makeTransparentPng(toolchain, at('transparent.png'), { width: 400, height: 400 }),
  makeImage(toolchain, at('limit.png'), { width: 320, height: 320, colour: 'maroon' }),
  makeImage(toolchain, at('over-limit.png'), { width: 320, height: 320, colour: 'maroon' }),
  makeImage(toolchain, at('over-r2v-limit.png'), { width: 320, height: 320, colour: 'maroon' }),
  makeVideo(toolchain, at('two-seconds.mp4'), { width: 320, height: 240, seconds: 2, audio: false }),
  makeVideo(toolchain, at('under-two.mp4'), { width: 320, height: 240, seconds: 1.9, audio: false }),
  makeVideo(toolchain, at('ten-seconds.mov'), { width: 320, height: 240, seconds: 10, audio: false }),
  makeVideo(toolchain, at('over-ten.mp4'), { width: 320, height: 240, seconds: 10.1, audio: false }),
  makeVideo(toolchain, at('clip.mkv'), { width: 320, height: 240, seconds: 3, audio: false }),
  makeVideo(toolchain, at('whole.mp4'), { width: 640, height: 480, seconds: 3, audio: true }),
  makeVideo(toolchain, at('video-limit.mp4'), { width: 320, height: 240, seconds: 3, audio: false }),
  makeVideo(toolchain, at('video-over-limit.mp4'), { width: 320, height: 240, seconds: 3, audio: false }),
  makeAudio(toolchain, at('three-seconds.wav'), { seconds: 3 }),
  makeAudio(toolchain, at('under-three.wav'), { seconds: 2.9 }),
  makeAudio(toolchain, at('over-thirty.wav'), { seconds: 30.1 }),
  makeAudio(toolchain, at('voice.flac'), { seconds: 4 }),
  makeAudio(toolchain, at('voice.mp3'), { seconds: 4 }),
  ffmpeg('-f', 'lavfi', '-i', 'sine=f=220:r=48000:d=30', '-ac', '4', '-c:a', 'pcm_f32le', at('large.wav')),
]);
await Promise.all([
  padToSize(at('limit.png'), 20 * megabyte),
  padToSize(at('over-limit.png'), 20 * megabyte + 1),
  padToSize(at('over-r2v-limit.png'), 10 * megabyte + 1),
  padToSize(at('video-limit.mp4'), 100 * megabyte),
  padToSize(at('video-over-limit.mp4'), 100 * megabyte + 1),
  truncatedCopy(at('detailed.png'), at('cut.png'), 0.6),
  truncatedCopy(at('whole.mp4'), at('cut.mp4'), 0.7),
]);
// A GIF behind a PNG name; an MKV behind an MP4 name: names and types must not decide.
await rename(at('picture.gif'), at('gif-named.png'));
await rename(at('clip.mkv'), at('mkv-named.mp4'));

const requests: string[] = [];
const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://fixture');
  requests.push(url.pathname);
  const contentType = url.searchParams.get('as') ?? 'application/octet-stream';
  if (url.pathname === '/endless') {
    response.writeHead(200, { 'content-type': 'image/png' });
    const chunk = Buffer.alloc(256 * 1024);
    const pump = () => {
      while (!response.destroyed && response.write(chunk));
    };
    response.on('drain', pump);
    return pump();
  }
  if (url.pathname === '/stall') return void response.writeHead(200).write('a first byte, then nothing');
  if (url.pathname === '/to-loopback') return void response.writeHead(302, { location: `http://127.0.0.1:${port}/ok.png` }).end();
  if (url.pathname === '/to-private') return void response.writeHead(302, { location: 'http://private.test/ok.png' }).end();
  const file = at(path.basename(url.pathname));
  if (!existsSync(file)) return void response.writeHead(404).end();
  response.writeHead(200, { 'content-type': contentType });
  createReadStream(file).pipe(response);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
after(() => {
  server.closeAllConnections();
  server.close();
});

const lookup: LookupAll = async (hostname) => {
  const table: Record<string, string> = { 'fixture.test': '127.0.0.1', 'private.test': '192.168.0.10', 'internal.test': '10.0.0.5' };
  if (!table[hostname]) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return [{ address: table[hostname], family: 4 }];
};
const fixturePolicy = new AddressPolicy({ allowHosts: ['fixture.test'] });
const fetcher = new CheckedMediaFetcher({ source: new GuardedDownloader({ policy: fixturePolicy, lookup, totalTimeoutMs: 3000 }), toolchain });
const url = (name: string, contentType?: string) => `http://fixture.test:${port}/${name}${contentType ? `?as=${encodeURIComponent(contentType)}` : ''}`;

/** Runs the check of `model` on a request body: the files by field, or the task's one error. */
async function check(model: ModelId, body: Record<string, unknown>, using = fetcher) {
  const directory = await mkdtemp(path.join(files, 'task-'));
  const references = modelById(model).mediaReferences(body);
  try {
    return { media: await using.fetchAll(references, directory, new AbortController().signal), directory };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { error, directory };
  }
}

async function refusal(model: ModelId, body: Record<string, unknown>, using = fetcher): Promise<ApiError> {
  const outcome = await check(model, body, using);
  assert.ok(outcome.error, `expected a refusal, got ${JSON.stringify(outcome.media)}`);
  return outcome.error;
}

async function accepted(model: ModelId, body: Record<string, unknown>) {
  const outcome = await check(model, body);
  assert.equal(outcome.error, undefined, outcome.error?.message);
  return outcome.media!;
}

describe('images', () => {
  it('detects the format from the bytes: a PNG named .jpg and served as image/jpeg is a PNG, and passes', async () => {
    const media = await accepted('wan2.7-i2v', { image_url: url('ok.png', 'image/jpeg') });
    assert.ok(existsSync(media.image_url.path));
  });

  it('a GIF named .png and served as image/png is INVALID_IMAGE_FORMAT, named as GIF', async () => {
    const error = await refusal('wan2.7-i2v', { image_url: url('gif-named.png', 'image/png') });
    assert.equal(error.reason, 'INVALID_IMAGE_FORMAT');
    assert.equal(error.message, 'image_url: the file is GIF; accepted: JPEG, PNG, BMP, WEBP');
    assert.equal(error.status, 400);
    assert.equal(error.metadata.field, 'image_url');
  });

  it('WEBP and BMP are accepted', async () => {
    await accepted('wan2.7-i2v', { image_url: url('picture.webp'), last_frame_url: url('picture.bmp') });
  });

  it('a video given as an image is INVALID_IMAGE_FORMAT', async () => {
    assert.equal((await refusal('wan2.7-i2v', { image_url: url('two-seconds.mp4', 'image/png') })).message, 'image_url: the file is MP4; accepted: JPEG, PNG, BMP, WEBP');
  });

  it('8000x1000 (sides at the limit, ratio exactly 8:1) passes; 8002x1002 is IMAGE_EXCEEDS_MAX_RESOLUTION', async () => {
    await accepted('wan2.7-i2v', { image_url: url('corner.png') });
    const error = await refusal('wan2.7-i2v', { image_url: url('too-large.png') });
    assert.equal(error.reason, 'IMAGE_EXCEEDS_MAX_RESOLUTION');
    assert.match(error.message, /8002x1002 pixels: a side exceeds the largest allowed, 8000/);
  });

  it('a side of 239 and a ratio of 8.1:1 are INVALID_IMAGE_SIZE', async () => {
    assert.equal((await refusal('wan2.7-i2v', { image_url: url('narrow.png') })).reason, 'INVALID_IMAGE_SIZE');
    const wide = await refusal('wan2.7-videoedit', { prompt: 'x', video_url: url('two-seconds.mp4'), reference_image_url: url('wide.png') });
    assert.equal(wide.reason, 'INVALID_IMAGE_SIZE');
    assert.match(wide.message, /reference_image_url: 1944x240 pixels: an aspect ratio of 8\.10:1 is beyond 1:8~8:1/);
  });

  it('20 MB exactly passes for i2v; one byte more is IMAGE_FILE_EXCEEDS_MAX_SIZE; r2v stops at 10 MB', async () => {
    await accepted('wan2.7-i2v', { image_url: url('limit.png') });
    const over = await refusal('wan2.7-i2v', { image_url: url('over-limit.png') });
    assert.equal(over.reason, 'IMAGE_FILE_EXCEEDS_MAX_SIZE');
    assert.match(over.message, /^image_url: the file is larger than the limit of 20 MB \(20971520 bytes\)/);
    const r2v = await refusal('wan2.7-r2v', { prompt: 'character1', media: [{ type: 'reference_image', url: url('over-r2v-limit.png') }] });
    assert.equal(r2v.reason, 'IMAGE_FILE_EXCEEDS_MAX_SIZE');
    assert.equal(r2v.metadata.field, 'media[0].url');
  });

  it('a transparent PNG is refused where the page says "no transparency", accepted by r2v', async () => {
    const error = await refusal('wan2.7-i2v', { image_url: url('transparent.png') });
    assert.equal(error.reason, 'INVALID_IMAGE_FORMAT');
    assert.match(error.message, /transparency/);
    await accepted('wan2.7-r2v', { prompt: 'character1', media: [{ type: 'reference_image', url: url('transparent.png') }] });
  });

  it('a PNG cut short is INVALID_IMAGE_FORMAT saying so', async () => {
    const error = await refusal('wan2.7-i2v', { image_url: url('cut.png') });
    assert.equal(error.reason, 'INVALID_IMAGE_FORMAT');
    assert.match(error.message, /cut short/);
  });
});

describe('videos', () => {
  it('2 s and 10 s pass (MP4 and MOV); 1.9 s and 10.1 s are INVALID_VIDEO_DURATION', async () => {
    await accepted('wan2.7-i2v', { first_clip_url: url('two-seconds.mp4') });
    await accepted('wan2.7-videoedit', { prompt: 'x', video_url: url('ten-seconds.mov') });
    const short = await refusal('wan2.7-i2v', { first_clip_url: url('under-two.mp4') });
    assert.equal(short.reason, 'INVALID_VIDEO_DURATION');
    assert.match(short.message, /^first_clip_url: the video lasts 1\.9\d* s; it must last 2 to 10 s$/);
    assert.equal((await refusal('wan2.7-videoedit', { prompt: 'x', video_url: url('over-ten.mp4') })).reason, 'INVALID_VIDEO_DURATION');
  });

  it('r2v takes reference videos of 1 to 30 s', async () => {
    await accepted('wan2.7-r2v', { prompt: 'character1', media: [{ type: 'reference_video', url: url('over-ten.mp4') }] });
  });

  it('an MKV named .mp4 and served as video/mp4 is INVALID_VIDEO_FORMAT', async () => {
    const error = await refusal('wan2.7-videoedit', { prompt: 'x', video_url: url('mkv-named.mp4', 'video/mp4') });
    assert.equal(error.reason, 'INVALID_VIDEO_FORMAT');
    assert.match(error.message, /the file is MKV; accepted: MP4, MOV/);
  });

  it('an MP4 cut short is INVALID_VIDEO_FORMAT', async () => {
    const error = await refusal('wan2.7-videoedit', { prompt: 'x', video_url: url('cut.mp4') });
    assert.equal(error.reason, 'INVALID_VIDEO_FORMAT');
    assert.match(error.message, /cut short|no moov/);
  });

  it('100 MB exactly passes; one byte more stops the download: VIDEO_FILE_EXCEEDS_MAX_SIZE', async () => {
    await accepted('wan2.7-videoedit', { prompt: 'x', video_url: url('video-limit.mp4') });
    const error = await refusal('wan2.7-videoedit', { prompt: 'x', video_url: url('video-over-limit.mp4') });
    assert.equal(error.reason, 'VIDEO_FILE_EXCEEDS_MAX_SIZE');
  });
});

describe('audio', () => {
  it('3 s passes for t2v; 2.9 s and 30.1 s are INVALID_AUDIO_DURATION', async () => {
    await accepted('wan2.7-t2v', { prompt: 'x', audio_url: url('three-seconds.wav') });
    assert.equal((await refusal('wan2.7-t2v', { prompt: 'x', audio_url: url('under-three.wav') })).reason, 'INVALID_AUDIO_DURATION');
    assert.equal((await refusal('wan2.7-t2v', { prompt: 'x', audio_url: url('over-thirty.wav') })).reason, 'INVALID_AUDIO_DURATION');
  });

  it('FLAC is a voice format only: refused as t2v audio (INVALID_AUDIO_FILE), accepted as an r2v voice; MP3 passes', async () => {
    const error = await refusal('wan2.7-t2v', { prompt: 'x', audio_url: url('voice.flac', 'audio/mpeg') });
    assert.equal(error.reason, 'INVALID_AUDIO_FILE');
    assert.match(error.message, /the file is FLAC; accepted: WAV, MP3/);
    await accepted('wan2.7-r2v', { prompt: 'character1', media: [{ type: 'reference_image', url: url('ok.png'), reference_voice: url('voice.flac') }] });
    await accepted('wan2.7-i2v', { image_url: url('ok.png'), driving_audio_url: url('voice.mp3') });
  });

  it('a 23 MB WAV of 30 s is AUDIO_FILE_EXCEEDS_MAX_SIZE (the download stops at 15 MB)', async () => {
    assert.equal((await refusal('wan2.7-t2v', { prompt: 'x', audio_url: url('large.wav') })).reason, 'AUDIO_FILE_EXCEEDS_MAX_SIZE');
  });
});

describe('the network', () => {
  it('an endless body stops at the cap: IMAGE_FILE_EXCEEDS_MAX_SIZE', async () => {
    assert.equal((await refusal('wan2.7-i2v', { image_url: url('endless') })).reason, 'IMAGE_FILE_EXCEEDS_MAX_SIZE');
  });

  it('a response that stalls is MEDIA_DOWNLOAD_TIMEOUT', async () => {
    const quick = new CheckedMediaFetcher({ source: new GuardedDownloader({ policy: fixturePolicy, lookup, totalTimeoutMs: 300 }), toolchain });
    assert.equal((await refusal('wan2.7-i2v', { image_url: url('stall') }, quick)).reason, 'MEDIA_DOWNLOAD_TIMEOUT');
  });

  it('redirects to loopback and to a private address, and a host that resolves privately, are MEDIA_URL_NOT_ALLOWED', async () => {
    for (const target of [url('to-loopback'), url('to-private'), 'http://internal.test/ok.png']) {
      const error = await refusal('wan2.7-i2v', { image_url: target });
      assert.equal(error.reason, 'MEDIA_URL_NOT_ALLOWED', `${target}: ${error.message}`);
    }
  });

  it('the default policy refuses loopback', async () => {
    const strict = new CheckedMediaFetcher({ source: new GuardedDownloader({ policy: new AddressPolicy() }), toolchain });
    const error = await refusal('wan2.7-i2v', { image_url: `http://127.0.0.1:${port}/ok.png` }, strict);
    assert.equal(error.reason, 'MEDIA_URL_NOT_ALLOWED');
    assert.match(error.message, /^image_url: .*127\.0\.0\.1.*loopback/);
  });

  it('a 404 is MEDIA_DOWNLOAD_FAILED naming the status', async () => {
    const error = await refusal('wan2.7-i2v', { image_url: url('missing.png') });
    assert.equal(error.reason, 'MEDIA_DOWNLOAD_FAILED');
    assert.match(error.message, /404/);
  });
});

describe('one task', () => {
  it('reports every problem of every field together, in body order, under the first one\'s reason', async () => {
    const error = await refusal('wan2.7-i2v', {
      image_url: url('gif-named.png'),
      last_frame_url: url('narrow.png'),
      driving_audio_url: url('voice.flac'),
    });
    assert.equal(error.reason, 'INVALID_IMAGE_FORMAT');
    const violations = error.metadata.violations as { field: string; reason: string }[];
    assert.deepEqual(violations.map((violation) => `${violation.field} ${violation.reason}`), [
      'image_url INVALID_IMAGE_FORMAT',
      'last_frame_url INVALID_IMAGE_SIZE',
      'driving_audio_url INVALID_AUDIO_FILE',
    ]);
    assert.match(error.message, /^3 problems with the input media: image_url: .*; last_frame_url: .*; driving_audio_url: /);
  });

  it('fetches a URL used by two fields once, and hands both fields the same local file', async () => {
    const before = requests.filter((request) => request === '/picture.webp').length;
    const media = await accepted('wan2.7-videoedit', {
      prompt: 'x',
      video_url: url('two-seconds.mp4'),
      reference_image_url: url('picture.webp'),
      reference_image_url_2: url('picture.webp'),
    });
    assert.equal(requests.filter((request) => request === '/picture.webp').length - before, 1);
    assert.equal(media.reference_image_url.path, media.reference_image_url_2.path);
    assert.equal(media.video_url.kind, 'video');
  });

  it('leaves only whole downloads in the task directory', async () => {
    const { directory } = await check('wan2.7-i2v', { image_url: url('endless'), last_frame_url: url('ok.png') });
    assert.deepEqual(await readdir(directory), ['input-1']);
  });
});
