import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { castShots, fieldsToProbe, planRender } from '../../src/engines/preview/render-plan.js';
import type { MediaInfo } from '../../src/media/probe.js';
import { engineJob } from '../support/engine-conformance.js';

const workDir = '/work/job';
const settings = { frameRate: 24 };

function picture(width: number, height: number, extra: Partial<MediaInfo> = {}): MediaInfo {
  return {
    formatName: 'png_pipe',
    durationSeconds: 0,
    sizeBytes: 1000,
    video: { width, height, codec: 'png', pixelFormat: 'rgb24', frameRate: 25 },
    ...extra,
  };
}

function clip(width: number, height: number, seconds: number, audio: boolean): MediaInfo {
  return picture(width, height, {
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    durationSeconds: seconds,
    ...(audio ? { audio: { codec: 'aac', sampleRate: 44100, channels: 2, durationSeconds: seconds } } : {}),
  });
}

describe('planRender: t2v', () => {
  test('the size asked for, the duration in frames, a generated soundtrack', () => {
    const job = engineJob('wan2.7-t2v', { prompt: 'a fox', size: '832*1088', duration: 7 }, { workDir, seed: 9 });
    assert.deepEqual(fieldsToProbe(job), []);
    const plan = planRender(job, {}, settings);
    assert.deepEqual(plan, {
      width: 832,
      height: 1088,
      frameRate: 24,
      frames: 168,
      durationSeconds: 7,
      seed: 9,
      prompt: 'a fox',
      actualPrompt: plan.actualPrompt,
      negativePrompt: '',
      caption: 'a fox',
      picture: { kind: 'procedural' },
      soundtrack: { kind: 'generated' },
      watermark: false,
    });
    assert.match(plan.actualPrompt, /^a fox\. /, 'prompt_extend is on by default');
  });

  test('prompt_extend off renders the prompt as sent; negative_prompt is carried; the caption is filtergraph-safe', () => {
    const job = engineJob(
      'wan2.7-t2v',
      { prompt: "it's 5:30, [dawn]; 100% calm", negative_prompt: 'blur', prompt_extend: false },
      { workDir },
    );
    const plan = planRender(job, {}, settings);
    assert.equal(plan.actualPrompt, "it's 5:30, [dawn]; 100% calm");
    assert.equal(plan.negativePrompt, 'blur');
    assert.equal(plan.caption, 'it s 5 30 dawn 100 calm');
  });

  test('defaults: 1920*1080, 5 s; audio_url becomes the soundtrack; watermark', () => {
    const job = engineJob(
      'wan2.7-t2v',
      { prompt: 'a fox', audio_url: 'https://media.test/a.mp3', watermark: true },
      { workDir, files: { audio_url: '/in/a.mp3' } },
    );
    const plan = planRender(job, {}, { frameRate: 30 });
    assert.deepEqual([plan.width, plan.height, plan.frames, plan.durationSeconds], [1920, 1080, 150, 5]);
    assert.deepEqual(plan.soundtrack, { kind: 'file', path: '/in/a.mp3' });
    assert.equal(plan.watermark, true);
  });
});

describe('planRender: i2v', () => {
  test('the tier at the image aspect ratio, a zoom into the image', () => {
    const job = engineJob(
      'wan2.7-i2v',
      { image_url: 'https://media.test/wide.png', resolution: '720P', duration: 3 },
      { workDir, files: { image_url: '/in/wide.png' } },
    );
    assert.deepEqual(fieldsToProbe(job), ['image_url']);
    const plan = planRender(job, { image_url: picture(1000, 500) }, settings);
    assert.deepEqual([plan.width, plan.height], [1358, 678]);
    assert.ok(Math.abs(plan.width / plan.height - 2) < 0.01);
    assert.ok(Math.abs(plan.width * plan.height - 1280 * 720) / (1280 * 720) < 0.01);
    assert.deepEqual(plan.picture, { kind: 'zoom', path: '/in/wide.png', frame: 'first' });
    assert.deepEqual(plan.soundtrack, { kind: 'generated' });
    assert.equal(plan.frames, 72);
  });

  test('a continuation holds the clip’s last frame; driving audio is the soundtrack', () => {
    const job = engineJob(
      'wan2.7-i2v',
      { first_clip_url: 'https://media.test/c.mp4', driving_audio_url: 'https://media.test/v.wav' },
      { workDir, files: { first_clip_url: '/in/c.mp4', driving_audio_url: '/in/v.wav' } },
    );
    assert.deepEqual(fieldsToProbe(job), ['first_clip_url']);
    const plan = planRender(job, { first_clip_url: clip(480, 640, 3, true) }, settings);
    assert.deepEqual([plan.width, plan.height], [1248, 1662], '1080P at 3:4');
    assert.deepEqual(plan.picture, { kind: 'zoom', path: '/in/c.mp4', frame: 'last' });
    assert.deepEqual(plan.soundtrack, { kind: 'file', path: '/in/v.wav' });
  });

  test('first + last frame: a transition from the first image to the last', () => {
    const job = engineJob(
      'wan2.7-i2v',
      { image_url: 'https://media.test/a.png', last_frame_url: 'https://media.test/b.png', resolution: '720P' },
      { workDir, files: { image_url: '/in/a.png', last_frame_url: '/in/b.png' } },
    );
    assert.deepEqual(fieldsToProbe(job), ['image_url']);
    const plan = planRender(job, { image_url: picture(800, 800) }, settings);
    assert.deepEqual([plan.width, plan.height], [960, 960]);
    assert.deepEqual(plan.picture, { kind: 'transition', first: '/in/a.png', last: '/in/b.png' });
  });

  test('an input whose size cannot be read is an error that names it', () => {
    const job = engineJob('wan2.7-i2v', { image_url: 'https://media.test/x.png' }, { workDir, files: { image_url: '/in/x.png' } });
    assert.throws(() => planRender(job, {}, settings), /image_url/);
  });
});

describe('planRender: r2v', () => {
  const media = [
    { type: 'reference_video', url: 'https://media.test/v.mp4' },
    { type: 'reference_image', url: 'https://media.test/a.png', reference_voice: 'https://media.test/voice.wav' },
    { type: 'reference_image', url: 'https://media.test/b.png' },
  ];
  const files = { 'media[0].url': '/in/v.mp4', 'media[1].url': '/in/a.png', 'media[1].reference_voice': '/in/voice.wav', 'media[2].url': '/in/b.png' };

  test('single (the default): one shot with every reference in media order; a voice plays the whole video', () => {
    const job = engineJob('wan2.7-r2v', { prompt: 'character2 waves', media, size: '1440*1440', duration: 10 }, { workDir, files });
    const plan = planRender(job, {}, settings);
    assert.deepEqual([plan.width, plan.height, plan.frames], [1440, 1440, 240]);
    assert.deepEqual(plan.picture, {
      kind: 'cast',
      references: ['/in/v.mp4', '/in/a.png', '/in/b.png'],
      shots: [{ startFrame: 0, endFrame: 240, show: [0, 1, 2], framing: 'wide' }],
    });
    assert.deepEqual(plan.soundtrack, { kind: 'voices', voices: [{ path: '/in/voice.wav', startSeconds: 0, seconds: 10 }] });
    assert.equal(plan.actualPrompt, 'character2 waves', 'r2v has no prompt_extend');
  });

  test('multi: one shot per reference in order; a voice plays during its character’s shot', () => {
    const job = engineJob('wan2.7-r2v', { prompt: 'x', media, size: '1280*720', duration: 3, shot_type: 'multi' }, { workDir, files });
    const plan = planRender(job, {}, settings);
    assert.equal(plan.picture.kind === 'cast' && plan.picture.shots.map((shot) => shot.show[0]).join(), '0,1,2');
    assert.deepEqual(plan.soundtrack, { kind: 'voices', voices: [{ path: '/in/voice.wav', startSeconds: 1, seconds: 1 }] });
  });

  test('no voices: a generated soundtrack; audio: false: no soundtrack at all', () => {
    const job = engineJob('wan2.7-r2v', { prompt: 'character1 runs', media: [media[0]], size: '1280*720' }, { workDir, files });
    assert.deepEqual(planRender(job, {}, settings).soundtrack, { kind: 'generated' });
    const silent = engineJob('wan2.7-r2v', { prompt: 'character1 runs', media, size: '1280*720', audio: false }, { workDir, files });
    const plan = planRender(silent, {}, settings);
    assert.equal('soundtrack' in plan, false);
  });
});

describe('castShots', () => {
  test('single: one shot of everything', () => {
    assert.deepEqual(castShots(2, 48, false), [{ startFrame: 0, endFrame: 48, show: [0, 1], framing: 'wide' }]);
  });

  test('multi: equal shots that tile the video, one per reference, alternating framing', () => {
    const shots = castShots(3, 100, true);
    assert.deepEqual(shots.map((shot) => [shot.startFrame, shot.endFrame]), [[0, 33], [33, 67], [67, 100]]);
    assert.deepEqual(shots.map((shot) => shot.show), [[0], [1], [2]]);
    assert.deepEqual(shots.map((shot) => shot.framing), ['wide', 'close', 'wide']);
  });

  test('multi with one reference: a wide shot and a close-up of it', () => {
    assert.deepEqual(castShots(1, 48, true).map((shot) => [shot.show, shot.framing]), [[[0], 'wide'], [[0], 'close']]);
  });
});

describe('planRender: videoedit', () => {
  const files = { video_url: '/in/v.mp4' };

  test('ratio picks the table size; duration cuts the input; the input audio is kept', () => {
    const job = engineJob(
      'wan2.7-videoedit',
      { video_url: 'https://media.test/v.mp4', resolution: '720P', ratio: '4:3', duration: 2 },
      { workDir, files },
    );
    assert.deepEqual(fieldsToProbe(job), ['video_url']);
    const plan = planRender(job, { video_url: clip(640, 480, 6, true) }, settings);
    assert.deepEqual([plan.width, plan.height, plan.frames], [1104, 832, 48]);
    assert.deepEqual(plan.picture, { kind: 'footage', path: '/in/v.mp4', sourceSeconds: 6, style: 'grade', references: [] });
    assert.deepEqual(plan.soundtrack, { kind: 'file', path: '/in/v.mp4' });
  });

  test('the style comes from the prompt; reference images in field order', () => {
    const job = engineJob(
      'wan2.7-videoedit',
      {
        video_url: 'https://media.test/v.mp4',
        prompt: 'Convert the entire scene to clay style',
        reference_image_url_3: 'https://media.test/c.png',
        reference_image_url: 'https://media.test/a.png',
      },
      { workDir, files: { ...files, reference_image_url: '/in/a.png', reference_image_url_3: '/in/c.png' } },
    );
    const plan = planRender(job, { video_url: clip(640, 480, 3, true) }, settings);
    assert.equal(plan.picture.kind === 'footage' && plan.picture.style, 'clay');
    assert.deepEqual(plan.picture.kind === 'footage' && plan.picture.references, ['/in/a.png', '/in/c.png']);
  });

  test('audio_setting: auto keeps the input audio unless the prompt asks for sound; origin always keeps it', () => {
    const soundtrackOf = (body: Record<string, unknown>, audio = true) =>
      planRender(engineJob('wan2.7-videoedit', { video_url: 'https://media.test/v.mp4', ...body }, { workDir, files }), { video_url: clip(640, 480, 3, audio) }, settings).soundtrack;
    const input = { kind: 'file', path: '/in/v.mp4' };
    assert.deepEqual(soundtrackOf({ prompt: 'make it vintage' }), input);
    assert.deepEqual(soundtrackOf({ prompt: 'make it vintage with jazz music' }), { kind: 'generated' });
    assert.deepEqual(soundtrackOf({ prompt: '加上欢快的音乐' }), { kind: 'generated' });
    assert.deepEqual(soundtrackOf({ prompt: 'make it vintage with jazz music', audio_setting: 'origin' }), input);
    assert.deepEqual(soundtrackOf({ audio_setting: 'origin' }, false), { kind: 'silence' });
    assert.deepEqual(soundtrackOf({ audio_setting: 'auto' }, false), { kind: 'generated' });
  });

  test('without ratio the input aspect; duration 0 keeps the input length; no input audio: generated', () => {
    const job = engineJob('wan2.7-videoedit', { video_url: 'https://media.test/v.mp4' }, { workDir, files });
    const plan = planRender(job, { video_url: clip(1080, 1920, 4.2, false) }, settings);
    assert.deepEqual([plan.width, plan.height], [1080, 1920]);
    assert.equal(plan.frames, Math.round(4.2 * 24));
    assert.deepEqual(plan.soundtrack, { kind: 'generated' });
  });

  test('duration 0 never renders more than the longest input the model accepts', () => {
    const job = engineJob('wan2.7-videoedit', { video_url: 'https://media.test/v.mp4', resolution: '720P' }, { workDir, files });
    assert.equal(planRender(job, { video_url: clip(1280, 720, 25, true) }, settings).durationSeconds, 10);
  });
});
