import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { PreviewEngine } from '../../src/engines/preview/preview-engine.js';
import type { FfmpegToolchain } from '../../src/media/ffmpeg-binaries.js';
import { probeMedia, type MediaInfo } from '../../src/media/probe.js';
import type { ModelId } from '../../src/models/model.js';
import { engineJob, waitForEnd } from '../support/engine-conformance.js';
import { findWatermarkFont } from '../../src/engines/preview/watermark.js';
import {
  audioSamples,
  coverCopy,
  decodedHashes,
  loudness,
  makeAudio,
  makeColourClip,
  makeImage,
  makeVideo,
  meanColour,
  pixelDifference,
  regionPixels,
  testToolchain,
  toneFrequency,
  type Region,
} from '../support/media-fixtures.js';
import { tempDir } from '../support/temp-dir.js';

/** The files the preview engine writes, checked with ffprobe and by decoding them. */
describe('preview engine output', () => {
  const dir = tempDir('wan-preview-output-');
  const frame = 1 / 24;
  let toolchain: FfmpegToolchain;
  let engine: PreviewEngine;
  const inputs: Record<string, string> = {};

  before(async () => {
    toolchain = await testToolchain();
    // No font: the watermark is then the same pixels on every machine.
    engine = new PreviewEngine({ toolchain, watermarkFontFile: null });
    inputs.wide = await makeImage(toolchain, path.join(dir, 'wide.png'), { width: 1000, height: 500 });
    inputs.portrait = await makeImage(toolchain, path.join(dir, 'portrait.jpg'), { width: 300, height: 400 });
    inputs.clip = await makeVideo(toolchain, path.join(dir, 'clip.mp4'), { width: 480, height: 360, seconds: 3, audio: true });
    inputs.sideways = await makeVideo(toolchain, path.join(dir, 'sideways.mp4'), { width: 320, height: 240, seconds: 2, audio: false, rotate: 90 });
    inputs.voice = await makeAudio(toolchain, path.join(dir, 'voice.wav'), { seconds: 3 });
    inputs.highVoice = await makeAudio(toolchain, path.join(dir, 'high.wav'), { seconds: 3, frequency: 660 });
    inputs.red = await makeImage(toolchain, path.join(dir, 'red.png'), { width: 400, height: 400, colour: 'red' });
    inputs.blue = await makeImage(toolchain, path.join(dir, 'blue.png'), { width: 400, height: 400, colour: 'blue' });
    inputs.wideScaled = await coverCopy(toolchain, inputs.wide, path.join(dir, 'wide-scaled.png'), 1358, 678);
    inputs.redThenBlue = await makeColourClip(toolchain, path.join(dir, 'red-blue.mp4'), { width: 480, height: 270, colours: ['red', 'blue'], secondsEach: 1.5 });
    inputs.redThenBlueWithTone = await makeColourClip(toolchain, path.join(dir, 'red-blue-tone.mp4'), { width: 480, height: 270, colours: ['red', 'blue'], secondsEach: 1.5, tone: 440 });
  });

  async function render(model: ModelId, body: Record<string, unknown>, files: Record<string, string> = {}, seed = 1, using = engine) {
    const workDir = await mkdtemp(path.join(dir, 'job-'));
    const job = engineJob(model, body, { workDir, files, seed });
    const operation = await using.start(job);
    const status = await waitForEnd(using, operation, job, 60_000);
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

  test('watermark: a visible mark in the bottom-right corner, nothing else changes', async () => {
    const body = { prompt: 'dusk', size: '1280*720', duration: 2, seed: 3 };
    const plain = (await render('wan2.7-t2v', body, {}, 3)).file;
    const marked = (await render('wan2.7-t2v', { ...body, watermark: true }, {}, 3)).file;
    const elsewhere: Region[] = [
      { x: 0, y: 0, width: 160, height: 80 },
      { x: 1120, y: 0, width: 160, height: 80 },
      { x: 0, y: 640, width: 160, height: 80 },
      { x: 560, y: 320, width: 160, height: 80 },
    ];
    for (const frame of [0, 24, 47]) {
      const region = (file: string, area: Region) => regionPixels(toolchain, file, frame, area);
      const corner: Region = { x: 1120, y: 640, width: 160, height: 80 };
      const cornerChange = pixelDifference(await region(marked, corner), await region(plain, corner));
      assert.ok(cornerChange > 15, `frame ${frame}: the bottom-right corner changed by only ${cornerChange}`);
      for (const area of elsewhere) {
        // Only the encoder's rounding may differ elsewhere (x264 decides per frame, not per region).
        const change = pixelDifference(await region(marked, area), await region(plain, area));
        assert.ok(change < 1.5, `frame ${frame}: ${JSON.stringify(area)} changed by ${change}`);
      }
    }
  });

  test('t2v: the prompt changes the picture; extra records the prompts and a deterministic extension', async () => {
    const body = { size: '1280*720', duration: 2, seed: 4, negative_prompt: 'no rain' };
    const fox = await render('wan2.7-t2v', { ...body, prompt: 'a red fox' }, {}, 4);
    const owl = await render('wan2.7-t2v', { ...body, prompt: 'a white owl', prompt_extend: false }, {}, 4);
    const again = await render('wan2.7-t2v', { ...body, prompt: 'a red fox' }, {}, 4);
    const video = (lines: string[]) => lines.filter((line) => line.startsWith('0,'));
    const foxFrames = video(await decodedHashes(toolchain, fox.file));
    const owlFrames = video(await decodedHashes(toolchain, owl.file));
    assert.equal(owlFrames.filter((line, index) => line === foxFrames[index]).length, 0, 'no frame in common');
    const extraOf = (result: typeof fox) => (result.status.state === 'succeeded' ? result.status.extra : {});
    assert.equal(extraOf(fox).engine, 'preview');
    assert.equal(extraOf(fox).orig_prompt, 'a red fox');
    assert.equal(extraOf(fox).negative_prompt, 'no rain');
    assert.match(String(extraOf(fox).actual_prompt), /^a red fox\. .+, .+, .+\.$/);
    assert.equal(extraOf(again).actual_prompt, extraOf(fox).actual_prompt);
    assert.equal(extraOf(owl).actual_prompt, 'a white owl', 'prompt_extend: false renders the prompt as sent');
  });

  test('t2v: the prompt is drawn as a caption when a font is installed, and only then', async () => {
    const font = await findWatermarkFont();
    const body = { prompt: 'a lighthouse at night', size: '1280*720', duration: 2, seed: 8 };
    const withFont = new PreviewEngine({ toolchain, watermarkFontFile: font ?? null });
    const captioned = (await render('wan2.7-t2v', body, {}, 8, withFont)).file;
    const bare = (await render('wan2.7-t2v', body, {}, 8)).file;
    const band: Region = { x: 320, y: 20, width: 640, height: 60 };
    const bottom: Region = { x: 0, y: 560, width: 1280, height: 160 };
    const change = pixelDifference(await regionPixels(toolchain, captioned, 12, band), await regionPixels(toolchain, bare, 12, band));
    if (font && toolchain.hasFilter('drawtext')) assert.ok(change > 10, `caption band changed by ${change}`);
    else assert.ok(change < 1.5, `no font, yet the caption band changed by ${change}`);
    const rest = pixelDifference(await regionPixels(toolchain, captioned, 12, bottom), await regionPixels(toolchain, bare, 12, bottom));
    assert.ok(rest < 1.5, `below the caption the picture changed by ${rest}`);
  });

  test('t2v audio_url: that audio is the soundtrack, then silence; without it a generated one', async () => {
    const { file } = await render('wan2.7-t2v', { prompt: 'dusk', size: '960*960', duration: 4, audio_url: 'https://m.test/v.wav' }, { audio_url: inputs.voice });
    const samples = await audioSamples(toolchain, file);
    assert.ok(Math.abs(toneFrequency(samples, 0.5, 2.5) - 330) < 10, `tone of ${toneFrequency(samples, 0.5, 2.5)} Hz`);
    assert.ok(loudness(samples, 0.5, 2.5) > 0.03, `loudness ${loudness(samples, 0.5, 2.5)}`);
    assert.ok(loudness(samples, 3.2, 3.9) < 0.001, 'silent after the 3 s audio');
    const generated = await audioSamples(toolchain, (await render('wan2.7-t2v', { prompt: 'dusk', size: '960*960', duration: 2 })).file);
    assert.ok(loudness(generated, 0.6, 1.4) > 0.02, 'a generated soundtrack is audible');
    assert.ok(Math.abs(toneFrequency(generated, 0.6, 1.4) - 330) > 20, 'and is not the file');
  });

  test('i2v first frame: the video starts on the image and moves', async () => {
    const { file } = await render('wan2.7-i2v', { image_url: 'https://m.test/wide.png', resolution: '720P', duration: 2 }, { image_url: inputs.wide });
    const whole: Region = { x: 0, y: 0, width: 1358, height: 678 };
    const start = await regionPixels(toolchain, file, 0, whole);
    const expected = await regionPixels(toolchain, inputs.wideScaled, 0, whole);
    assert.ok(pixelDifference(start, expected) < 6, `first frame differs from the image by ${pixelDifference(start, expected)}`);
    const end = await regionPixels(toolchain, file, 47, whole);
    assert.ok(pixelDifference(start, end) > 8, 'the picture moves');
  });

  test('i2v first + last frame: starts on the first image, ends on the last', async () => {
    const { file, info } = await render(
      'wan2.7-i2v',
      { image_url: 'https://m.test/red.png', last_frame_url: 'https://m.test/blue.png', resolution: '720P', duration: 2 },
      { image_url: inputs.red, last_frame_url: inputs.blue },
    );
    assertVideo(info, 960, 960, 2);
    const whole: Region = { x: 0, y: 0, width: 960, height: 960 };
    const [r0, , b0] = await meanColour(toolchain, file, 0, whole);
    const [rm, , bm] = await meanColour(toolchain, file, 24, whole);
    const [r1, , b1] = await meanColour(toolchain, file, 47, whole);
    assert.ok(r0 > 200 && b0 < 40, `first frame ${r0},${b0} is red`);
    assert.ok(r1 < 40 && b1 > 200, `last frame ${r1},${b1} is blue`);
    assert.ok(rm > 60 && bm > 60, `the middle ${rm},${bm} is a blend`);
  });

  test('i2v continuation: begins where the clip ends', async () => {
    const { file } = await render('wan2.7-i2v', { first_clip_url: 'https://m.test/c.mp4', resolution: '720P', duration: 2 }, { first_clip_url: inputs.redThenBlue });
    const [r, , b] = await meanColour(toolchain, file, 0, { x: 0, y: 0, width: 1280, height: 720 });
    assert.ok(r < 40 && b > 200, `first frame ${r},${b} is the clip's last (blue)`);
  });

  test('i2v driving_audio_url is the soundtrack', async () => {
    const { file } = await render(
      'wan2.7-i2v',
      { image_url: 'https://m.test/wide.png', driving_audio_url: 'https://m.test/v.wav', resolution: '720P', duration: 2 },
      { image_url: inputs.wide, driving_audio_url: inputs.voice },
    );
    assert.ok(Math.abs(toneFrequency(await audioSamples(toolchain, file), 0.2, 1.8) - 330) < 10);
  });

  const red = [{ type: 'reference_image', url: 'https://m.test/red.png' }];
  const redAndBlue = [...red, { type: 'reference_image', url: 'https://m.test/blue.png' }];
  const castFiles = () => ({ 'media[0].url': inputs.red, 'media[1].url': inputs.blue });
  const redness = async (file: string, frame: number, region: Region) => {
    const [r, , b] = await meanColour(toolchain, file, frame, region);
    return r - b;
  };

  test('r2v single shot: every character at once, left to right in media order, the whole time', async () => {
    const { file } = await render('wan2.7-r2v', { prompt: 'character1 and character2', media: redAndBlue, size: '1280*720', duration: 2 }, castFiles());
    for (const frame of [0, 47]) {
      assert.ok((await redness(file, frame, { x: 280, y: 330, width: 80, height: 60 })) > 150, `frame ${frame}: character1 (red) on the left`);
      assert.ok((await redness(file, frame, { x: 920, y: 330, width: 80, height: 60 })) < -150, `frame ${frame}: character2 (blue) on the right`);
    }
  });

  test('r2v multi shot: a cut from character1’s shot to character2’s; voices follow their characters', async () => {
    const { file, info, status } = await render(
      'wan2.7-r2v',
      {
        prompt: 'character1 then character2',
        media: [
          { ...redAndBlue[0], reference_voice: 'https://m.test/low.wav' },
          { ...redAndBlue[1], reference_voice: 'https://m.test/high.wav' },
        ],
        size: '1280*720',
        duration: 2,
        shot_type: 'multi',
      },
      { ...castFiles(), 'media[0].reference_voice': inputs.voice, 'media[1].reference_voice': inputs.highVoice },
    );
    const centre: Region = { x: 600, y: 330, width: 80, height: 60 };
    assert.ok((await redness(file, 5, centre)) > 150, 'first shot: character1');
    assert.ok((await redness(file, 40, centre)) < -150, 'second shot: character2');
    assertAudio(info, 2);
    const samples = await audioSamples(toolchain, file);
    assert.ok(Math.abs(toneFrequency(samples, 0.1, 0.9) - 330) < 10, 'character1’s voice in the first shot');
    assert.ok(Math.abs(toneFrequency(samples, 1.1, 1.9) - 660) < 15, 'character2’s voice in the second shot');
    const shots = status.state === 'succeeded' ? (status.extra.shots as { characters: string[] }[]) : [];
    assert.deepEqual(shots.map((shot) => shot.characters), [['character1'], ['character2']]);
  });

  test('r2v multi shot with one character: a wide shot then a close-up; the same seed gives the same frames', async () => {
    const body = { prompt: 'character1 alone', media: red, size: '1280*720', duration: 2, shot_type: 'multi', audio: false };
    const { file, info } = await render('wan2.7-r2v', body, { 'media[0].url': inputs.red }, 9);
    assert.equal(info.audio, undefined);
    // Above the wide shot's 432-pixel figure (top ≥ 130) but inside the close-up's 612-pixel one (top ≤ 68).
    const band: Region = { x: 620, y: 90, width: 40, height: 30 };
    const isRed = ([r, g, b]: number[]) => r > 200 && g < 50 && b < 50;
    assert.equal(isRed(await meanColour(toolchain, file, 5, band)), false, 'the wide shot leaves the band to the scene');
    assert.equal(isRed(await meanColour(toolchain, file, 40, band)), true, 'the close-up fills it');
    const again = await render('wan2.7-r2v', body, { 'media[0].url': inputs.red }, 9);
    assert.deepEqual(await decodedHashes(toolchain, again.file), await decodedHashes(toolchain, file));
  });

  test('videoedit: the prompt’s style is applied (black-and-white, sketch), else a colour grade', async () => {
    const edit = (prompt: string) =>
      render('wan2.7-videoedit', { video_url: 'https://m.test/clip.mp4', prompt, resolution: '720P', duration: 2 }, { video_url: inputs.clip });
    const whole: Region = { x: 0, y: 0, width: 1108, height: 832 };
    const grey = await edit('Make it black and white');
    const [r, g, b] = await meanColour(toolchain, grey.file, 10, whole);
    assert.ok(Math.abs(r - g) < 3 && Math.abs(g - b) < 3, `black-and-white frame ${r},${g},${b}`);
    assert.equal(grey.status.state === 'succeeded' && grey.status.extra.style, 'black-and-white');
    const sketch = await edit('A pencil sketch of the scene');
    const paper = await meanColour(toolchain, sketch.file, 10, whole);
    assert.ok(paper.every((channel) => channel > 170), `a sketch is mostly paper: ${paper}`);
    const plain = await edit('make it nicer');
    const [pr, pg, pb] = await meanColour(toolchain, plain.file, 10, whole);
    assert.ok(Math.max(Math.abs(pr - pg), Math.abs(pg - pb), Math.abs(pr - pb)) > 5, 'the grade keeps colour');
  });

  test('videoedit: reference images are inset, the cut is from the start, origin keeps the input audio', async () => {
    const { file, info } = await render(
      'wan2.7-videoedit',
      {
        video_url: 'https://m.test/c.mp4',
        reference_image_url: 'https://m.test/red.png',
        resolution: '720P',
        ratio: '16:9',
        duration: 2,
        audio_setting: 'origin',
      },
      { video_url: inputs.redThenBlueWithTone, reference_image_url: inputs.red },
    );
    assertVideo(info, 1280, 720, 2);
    const inset: Region = { x: 30, y: 30, width: 60, height: 60 };
    const middle: Region = { x: 600, y: 330, width: 80, height: 60 };
    assert.ok((await redness(file, 47, inset)) > 150, 'the red reference is inset top-left');
    // The seeded grade turns hues by up to 40°: red stays far redder than blue, and blue bluer.
    assert.ok((await redness(file, 47, middle)) < -80, 'the input’s second colour after 1.5 s');
    assert.ok((await redness(file, 5, middle)) > 80, 'the input from its start');
    assert.ok(Math.abs(toneFrequency(await audioSamples(toolchain, file), 0.2, 1.8) - 440) < 10, 'the input’s 440 Hz');
  });

  test('videoedit audio_setting auto: keeps the input audio unless the prompt asks for sound; origin without input audio is silence', async () => {
    const edit = (body: Record<string, unknown>, video = inputs.clip) =>
      render('wan2.7-videoedit', { video_url: 'https://m.test/c.mp4', resolution: '720P', duration: 2, ...body }, { video_url: video });
    const kept = await audioSamples(toolchain, (await edit({ prompt: 'clay style' })).file);
    assert.ok(Math.abs(toneFrequency(kept, 0.2, 1.8) - 440) < 10);
    const replaced = await edit({ prompt: 'clay style with upbeat music' });
    assert.equal(replaced.status.state === 'succeeded' && replaced.status.extra.audio_source, 'generated');
    assert.ok(Math.abs(toneFrequency(await audioSamples(toolchain, replaced.file), 0.6, 1.4) - 440) > 20);
    const silent = await edit({ audio_setting: 'origin' }, inputs.redThenBlue);
    assertAudio(silent.info, 2);
    assert.ok(loudness(await audioSamples(toolchain, silent.file), 0, 2) < 0.001);
  });
});
