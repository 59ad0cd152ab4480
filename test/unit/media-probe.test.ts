import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import type { FfmpegToolchain } from '../../src/media/ffmpeg-binaries.js';
import { probeMedia } from '../../src/media/probe.js';
import { makeAudio, makeImage, makeVideo, testToolchain } from '../support/media-fixtures.js';
import { tempDir } from '../support/temp-dir.js';

describe('probeMedia', () => {
  const dir = tempDir();
  let toolchain: FfmpegToolchain;
  before(async () => {
    toolchain = await testToolchain();
  });

  test('a video with sound: size, codecs, frame rate, frames, durations', async () => {
    const file = await makeVideo(toolchain, path.join(dir, 'clip.mp4'), { width: 320, height: 240, seconds: 2, audio: true, frameRate: 25 });
    const info = await probeMedia(toolchain, file);
    assert.match(info.formatName, /mp4/);
    assert.ok(Math.abs(info.durationSeconds - 2) < 0.1, String(info.durationSeconds));
    assert.ok(info.sizeBytes > 0);
    assert.deepEqual(info.video, { width: 320, height: 240, codec: 'h264', pixelFormat: 'yuv420p', frameRate: 25, frames: 50 });
    assert.equal(info.audio?.codec, 'aac');
    assert.equal(info.audio?.sampleRate, 44100);
    assert.equal(info.audio?.channels, 1);
    assert.ok(Math.abs(info.audio!.durationSeconds - 2) < 0.1);
  });

  test('a video without sound has no audio', async () => {
    const file = await makeVideo(toolchain, path.join(dir, 'silent.mov'), { width: 320, height: 240, seconds: 1, audio: false });
    const info = await probeMedia(toolchain, file);
    assert.equal(info.audio, undefined);
    assert.equal(info.video?.width, 320);
  });

  test('a video shot sideways reports its displayed size', async () => {
    const file = await makeVideo(toolchain, path.join(dir, 'rotated.mp4'), { width: 320, height: 240, seconds: 1, audio: false, rotate: 90 });
    const info = await probeMedia(toolchain, file);
    assert.deepEqual([info.video?.width, info.video?.height], [240, 320]);
  });

  for (const extension of ['png', 'jpg', 'webp', 'bmp']) {
    test(`a ${extension} image is one picture without duration`, async () => {
      const file = await makeImage(toolchain, path.join(dir, `image.${extension}`), { width: 300, height: 260 });
      const info = await probeMedia(toolchain, file);
      assert.equal(info.video?.width, 300);
      assert.equal(info.video?.height, 260);
      assert.equal(info.audio, undefined);
    });
  }

  for (const extension of ['wav', 'mp3']) {
    test(`a ${extension} file is audio only`, async () => {
      const file = await makeAudio(toolchain, path.join(dir, `tone.${extension}`), { seconds: 3 });
      const info = await probeMedia(toolchain, file);
      assert.equal(info.video, undefined);
      assert.ok(Math.abs(info.audio!.durationSeconds - 3) < 0.1, String(info.audio?.durationSeconds));
    });
  }

  test('a file that is not media is an error', async () => {
    await assert.rejects(probeMedia(toolchain, path.join(dir, 'nothing-here.mp4')));
  });
});
