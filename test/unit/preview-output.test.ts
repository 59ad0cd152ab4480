import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { PreviewEngine } from '../../src/engines/preview/preview-engine.js';
import { resolveFfmpeg, type FfmpegToolchain } from '../../src/media/ffmpeg-binaries.js';
import { probeMedia, type MediaInfo } from '../../src/media/probe.js';
import type { ModelId } from '../../src/models/model.js';
import { engineJob, waitForEnd } from '../support/engine-conformance.js';
import { decodedHashes, makeAudio, makeImage, makeVideo, regionPixels } from '../support/media-fixtures.js';
import { tempDir } from '../support/temp-dir.js';

/** The files the preview engine writes, checked with ffprobe and by decoding them. */
describe('preview engine output', () => {
  const dir = tempDir('wan-preview-output-');
  const frame = 1 / 24;
  let toolchain: FfmpegToolchain;
  let engine: PreviewEngine;
  const inputs: Record<string, string> = {};

  before(async () => {
    toolchain = await resolveFfmpeg();
    // No font: the watermark is then the same pixels on every machine.
    engine = new PreviewEngine({ toolchain, watermarkFontFile: null });
    inputs.wide = await makeImage(toolchain, path.join(dir, 'wide.png'), { width: 1000, height: 500 });
    inputs.portrait = await makeImage(toolchain, path.join(dir, 'portrait.jpg'), { width: 300, height: 400 });
    inputs.clip = await makeVideo(toolchain, path.join(dir, 'clip.mp4'), { width: 480, height: 360, seconds: 3, audio: true });
    inputs.sideways = await makeVideo(toolchain, path.join(dir, 'sideways.mp4'), { width: 320, height: 240, seconds: 2, audio: false, rotate: 90 });
    inputs.voice = await makeAudio(toolchain, path.join(dir, 'voice.wav'), { seconds: 3 });
  });

  async function render(model: ModelId, body: Record<string, unknown>, files: Record<string, string> = {}, seed = 1) {
    const workDir = await mkdtemp(path.join(dir, 'job-'));
    const job = engineJob(model, body, { workDir, files, seed });
    const operation = await engine.start(job);
    const status = await waitForEnd(engine, operation, job, 60_000);
    assert.equal(status.state, 'succeeded', status.state === 'failed' ? status.error.message : status.state);
    const file = status.state === 'succeeded' ? status.videos[0].path : '';
    return { file, info: await probeMedia(toolchain, file), status };
  }

  function assertVideo(info: MediaInfo, width: number, height: number, seconds: number) {
    assert.equal(info.video?.codec, 'h264');
    assert.equal(info.video?.pixelFormat, 'yuv420p');
    assert.deepEqual([info.video?.width, info.video?.height], [width, height]);
    assert.equal(info.video?.frameRate, 24);
    assert.equal(info.video?.frames, Math.round(seconds * 24));
    assert.ok(Math.abs(info.durationSeconds - seconds) <= frame, `duration ${info.durationSeconds}, wanted ${seconds}`);
  }

  function assertAudio(info: MediaInfo, seconds: number) {
    assert.equal(info.audio?.codec, 'aac', 'an AAC stream');
    assert.ok(Math.abs(info.audio!.durationSeconds - seconds) <= frame, `audio ${info.audio!.durationSeconds}, wanted ${seconds}`);
  }

  test('t2v: the exact size and length, H.264 yuv420p with an AAC soundtrack', async () => {
    const { info, status } = await render('wan2.7-t2v', { prompt: 'dusk', size: '1280*720', duration: 2 });
    assertVideo(info, 1280, 720, 2);
    assertAudio(info, 2);
    assert.match(info.formatName, /mp4/);
    assert.equal(status.state === 'succeeded' && status.extra.engine, 'preview');
  });

  test('t2v at 1080P: exact size', async () => {
    const { info } = await render('wan2.7-t2v', { prompt: 'dusk', size: '1080*1920', duration: 2 });
    assertVideo(info, 1080, 1920, 2);
  });

  test('t2v with audio_url longer than the video: the audio is cut at the end', async () => {
    const { info } = await render('wan2.7-t2v', { prompt: 'dusk', size: '960*960', duration: 2, audio_url: 'https://m.test/v.wav' }, { audio_url: inputs.voice });
    assertVideo(info, 960, 960, 2);
    assertAudio(info, 2);
  });

  test('t2v with audio_url shorter than the video: silence after it, the stream lasts the whole video', async () => {
    const { info } = await render('wan2.7-t2v', { prompt: 'dusk', size: '832*1088', duration: 4, audio_url: 'https://m.test/v.wav' }, { audio_url: inputs.voice });
    assertVideo(info, 832, 1088, 4);
    assertAudio(info, 4);
  });

  test('i2v at 720P from a 1000×500 image: the pixel budget at 2:1, even sides', async () => {
    const { info } = await render('wan2.7-i2v', { image_url: 'https://m.test/wide.png', resolution: '720P', duration: 2 }, { image_url: inputs.wide });
    assertVideo(info, 1358, 678, 2);
    assertAudio(info, 2);
  });

  test('i2v continuation with driving audio: the clip’s aspect, the driving audio as soundtrack', async () => {
    const { info } = await render(
      'wan2.7-i2v',
      { first_clip_url: 'https://m.test/clip.mp4', driving_audio_url: 'https://m.test/v.wav', resolution: '720P', duration: 2 },
      { first_clip_url: inputs.clip, driving_audio_url: inputs.voice },
    );
    assertVideo(info, 1108, 832, 2);
    assertAudio(info, 2);
  });

  test('r2v with audio false: no audio stream at all', async () => {
    const { info } = await render(
      'wan2.7-r2v',
      { prompt: 'character1 waves', media: [{ type: 'reference_image', url: 'https://m.test/p.jpg' }], size: '720*1280', duration: 2, audio: false },
      { 'media[0].url': inputs.portrait },
    );
    assertVideo(info, 720, 1280, 2);
    assert.equal(info.audio, undefined);
  });

  test('r2v from a reference video, with sound by default', async () => {
    const { info } = await render(
      'wan2.7-r2v',
      { prompt: 'character1 runs', media: [{ type: 'reference_video', url: 'https://m.test/clip.mp4' }], size: '1280*720', duration: 2 },
      { 'media[0].url': inputs.clip },
    );
    assertVideo(info, 1280, 720, 2);
    assertAudio(info, 2);
  });

  test('videoedit with ratio: the table size, cut to the duration, the input’s audio kept', async () => {
    const { info } = await render(
      'wan2.7-videoedit',
      { video_url: 'https://m.test/clip.mp4', resolution: '720P', ratio: '1:1', duration: 2 },
      { video_url: inputs.clip },
    );
    assertVideo(info, 960, 960, 2);
    assertAudio(info, 2);
  });

  test('videoedit without ratio: the input’s displayed aspect and, with duration 0, its length', async () => {
    const { info } = await render('wan2.7-videoedit', { video_url: 'https://m.test/s.mp4', resolution: '720P' }, { video_url: inputs.sideways });
    assertVideo(info, 832, 1108, 2);
    assertAudio(info, 2);
  });

  test('videoedit longer than its input: the last frame is held to the length asked for', async () => {
    const { info } = await render('wan2.7-videoedit', { video_url: 'https://m.test/clip.mp4', resolution: '720P', duration: 4 }, { video_url: inputs.clip });
    assertVideo(info, 1108, 832, 4);
    assertAudio(info, 4);
  });

  test('the same job and seed give the same frames and samples; another seed other frames', async () => {
    const body = { prompt: 'dusk', size: '1280*720', duration: 2 };
    const hashes = async (seed: number) => decodedHashes(toolchain, (await render('wan2.7-t2v', { ...body, seed }, {}, seed)).file);
    const first = await hashes(5);
    assert.deepEqual(await hashes(5), first);
    const videoOf = (lines: string[]) => lines.filter((line) => line.startsWith('0,'));
    const other = videoOf(await hashes(6));
    assert.equal(other.length, 48);
    assert.equal(other.filter((line, index) => line === videoOf(first)[index]).length, 0, 'no frame in common');
  });

  test('watermark: the bottom-right corner changes, the top-left does not', async () => {
    const body = { prompt: 'dusk', size: '1280*720', duration: 2, seed: 3 };
    const plain = (await render('wan2.7-t2v', body, {}, 3)).file;
    const marked = (await render('wan2.7-t2v', { ...body, watermark: true }, {}, 3)).file;
    for (const frame of [0, 24, 47]) {
      const corner = (file: string, x: number, y: number) => regionPixels(toolchain, file, frame, { x, y, width: 160, height: 80 });
      assert.notDeepEqual(await corner(marked, 1120, 640), await corner(plain, 1120, 640), `frame ${frame} bottom-right`);
      assert.deepEqual(await corner(marked, 0, 0), await corner(plain, 0, 0), `frame ${frame} top-left`);
    }
  });
});
