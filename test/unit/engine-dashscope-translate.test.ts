import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  shotInstructions,
  sizeToResolutionAndRatio,
  translateRequest,
  type DashScopeInput,
  type DashScopeParameters,
} from '../../src/engines/dashscope/translate-request.js';
import { sizeOptions } from '../../src/models/output-size.js';
import type { ModelId } from '../../src/models/model.js';
import { modelById } from '../../src/models/registry.js';
import { validateRequest } from '../../src/models/validate-request.js';

/** Translates a body as a job would carry it: validated, defaults applied. */
function translate(model: ModelId, body: Record<string, unknown>, seed = 42) {
  return translateRequest(model, validateRequest(modelById(model), body), seed);
}

/**
 * A request of each model that sets every field (first the fields all models share, then the
 * model's own) is sent whole, as `input` and `parameters` show, with no warning. The tests after
 * this table are about one rule each.
 */
describe('DashScope translation: a request with every field', () => {
  const rows: {
    model: ModelId;
    title: string;
    request: Record<string, unknown>;
    /** The job's seed, when not translate's default. */
    seed?: number;
    input: DashScopeInput;
    parameters: DashScopeParameters;
  }[] = [
    {
      model: 'wan2.7-t2v',
      title: 'prompt, negative prompt, audio, size → resolution + ratio, duration, prompt_extend, watermark, seed',
      request: {
        prompt: 'a fox in the snow', negative_prompt: 'blur', duration: 12, prompt_extend: false, watermark: true, seed: 9,
        audio_url: 'https://a.example/song.mp3', size: '832*1088',
      },
      seed: 9,
      input: { prompt: 'a fox in the snow', negative_prompt: 'blur', audio_url: 'https://a.example/song.mp3' },
      parameters: { resolution: '720P', ratio: '3:4', duration: 12, prompt_extend: false, watermark: true, seed: 9 },
    },
    {
      model: 'wan2.7-i2v',
      title: 'first frame, last frame and driving audio become media items; resolution passes through',
      request: {
        prompt: 'she turns', negative_prompt: 'n', duration: 8, prompt_extend: false, watermark: true,
        image_url: 'https://a.example/first.png', last_frame_url: 'https://a.example/last.png', driving_audio_url: 'https://a.example/voice.wav', resolution: '720P',
      },
      input: { prompt: 'she turns', negative_prompt: 'n', media: [
        { type: 'first_frame', url: 'https://a.example/first.png' },
        { type: 'last_frame', url: 'https://a.example/last.png' },
        { type: 'driving_audio', url: 'https://a.example/voice.wav' },
      ] },
      parameters: { resolution: '720P', duration: 8, prompt_extend: false, watermark: true, seed: 42 },
    },
    {
      model: 'wan2.7-videoedit',
      title: 'the video and up to three reference images become media; ratio, duration, audio_setting pass through',
      request: {
        prompt: 'make it clay', negative_prompt: 'n', duration: 4, prompt_extend: false, watermark: true,
        video_url: 'https://a.example/in.mp4', reference_image_url: 'https://a.example/r1.png', reference_image_url_3: 'https://a.example/r3.png',
        resolution: '720P', ratio: '9:16', audio_setting: 'origin',
      },
      input: { prompt: 'make it clay', negative_prompt: 'n', media: [
        { type: 'video', url: 'https://a.example/in.mp4' },
        { type: 'reference_image', url: 'https://a.example/r1.png' },
        { type: 'reference_image', url: 'https://a.example/r3.png' },
      ] },
      parameters: { resolution: '720P', ratio: '9:16', duration: 4, audio_setting: 'origin', prompt_extend: false, watermark: true, seed: 42 },
    },
  ];

  for (const { model, title, request, seed, input, parameters } of rows) {
    test(`${model}: ${title}`, () => {
      const { body, warnings } = translate(model, request, seed);
      assert.deepEqual(body, { model, input, parameters });
      assert.deepEqual(warnings, []);
    });
  }
});

describe('DashScope translation: t2v', () => {
  test('defaults are sent as defaults (1920*1080 → 1080P 16:9, 5 s, extend on, no watermark); the job\'s seed always', () => {
    const { body } = translate('wan2.7-t2v', { prompt: 'p' }, 123);
    assert.deepEqual(body, {
      model: 'wan2.7-t2v',
      input: { prompt: 'p' },
      parameters: { resolution: '1080P', ratio: '16:9', duration: 5, prompt_extend: true, watermark: false, seed: 123 },
    });
  });

  test('the size table: every size of the pages is a tier and an aspect ratio', () => {
    const expected: Record<string, string> = {
      '1280*720': '720P 16:9',
      '720*1280': '720P 9:16',
      '960*960': '720P 1:1',
      '1088*832': '720P 4:3',
      '832*1088': '720P 3:4',
      '1920*1080': '1080P 16:9',
      '1080*1920': '1080P 9:16',
      '1440*1440': '1080P 1:1',
      '1632*1248': '1080P 4:3',
      '1248*1632': '1080P 3:4',
    };
    assert.deepEqual(Object.keys(sizeToResolutionAndRatio).sort(), [...sizeOptions].sort());
    for (const size of sizeOptions) {
      const { body } = translate('wan2.7-t2v', { prompt: 'p', size });
      assert.equal(`${body.parameters.resolution} ${body.parameters.ratio}`, expected[size], size);
    }
  });
});

describe('DashScope translation: i2v', () => {
  test('continuation: first_clip, no prompt needed; default tier 1080P', () => {
    const { body } = translate('wan2.7-i2v', { first_clip_url: 'https://a.example/clip.mp4' });
    assert.deepEqual(body.input, { media: [{ type: 'first_clip', url: 'https://a.example/clip.mp4' }] });
    assert.equal(body.parameters.resolution, '1080P');
  });
});

describe('DashScope translation: r2v', () => {
  const media = [
    { type: 'reference_video', url: 'https://a.example/v1.mp4' },
    { type: 'reference_image', url: 'https://a.example/i1.png', reference_voice: 'https://a.example/voice.mp3' },
    { type: 'first_frame', url: 'https://a.example/start.png' },
    { type: 'reference_image', url: 'https://a.example/i2.png' },
    { type: 'reference_video', url: 'https://a.example/v2.mp4' },
  ];

  test('media items pass with their type and voice; characterN is renamed per type, first_frame not counted', () => {
    const { body } = translate('wan2.7-r2v', {
      prompt: 'character1 hands character4 to Character2 while character5 watches.',
      media,
      size: '1280*720',
      duration: 6,
      watermark: true,
      shot_type: 'multi',
    });
    assert.deepEqual(body.input.media, [
      { type: 'reference_video', url: 'https://a.example/v1.mp4' },
      { type: 'reference_image', url: 'https://a.example/i1.png', reference_voice: 'https://a.example/voice.mp3' },
      { type: 'first_frame', url: 'https://a.example/start.png' },
      { type: 'reference_image', url: 'https://a.example/i2.png' },
      { type: 'reference_video', url: 'https://a.example/v2.mp4' },
    ]);
    assert.equal(body.input.prompt, `Video 1 hands Image 2 to Image 1 while Video 2 watches. ${shotInstructions.multi}`);
    assert.deepEqual(body.parameters, { resolution: '720P', ratio: '16:9', duration: 6, watermark: true, seed: 42 });
  });

  test('shot_type becomes an instruction at the end of the prompt (single by default), punctuation added when missing', () => {
    const single = translate('wan2.7-r2v', { prompt: 'character1 dances', media: [media[1]] });
    assert.equal(single.body.input.prompt, `Image 1 dances. ${shotInstructions.single}`);
    const chinese = translate('wan2.7-r2v', { prompt: 'character1 在跳舞。', media: [media[1]], shot_type: 'multi' });
    assert.equal(chinese.body.input.prompt, `Image 1 在跳舞。 ${shotInstructions.multi}`);
    assert.deepEqual(single.warnings, []);
  });

  test('a first_frame mentioned as a character, a character beyond media, audio false and the ignored ratio are warned about', () => {
    const { body, warnings } = translate('wan2.7-r2v', {
      prompt: 'character3 opens on character1; character9 is nobody; character3 again',
      media: media.slice(0, 3),
      size: '1088*832',
      audio: false,
    });
    assert.equal(
      body.input.prompt,
      `the first frame opens on Video 1; character9 is nobody; the first frame again. ${shotInstructions.single}`,
    );
    assert.deepEqual(warnings, [
      'character3 is media[2], a first_frame, which DashScope cannot name as a character; it was sent as "the first frame"',
      'character9 names no item of media (it holds 3); it was sent as written',
      "size 1088*832: its 4:3 aspect ratio is not honoured because media holds a first_frame; DashScope gives the video the aspect ratio of the first frame",
      'audio: false has no counterpart at DashScope (wan2.7-r2v always generates sound); the video has a soundtrack',
    ]);
  });

  test('audio true (the default) needs no warning; r2v sends no prompt_extend (it has none)', () => {
    const { body, warnings } = translate('wan2.7-r2v', { prompt: 'character1', media: [media[0]], audio: true });
    assert.deepEqual(warnings, []);
    assert.equal('prompt_extend' in body.parameters, false);
  });
});

describe('DashScope translation: videoedit', () => {
  test('duration 0 (keep the input length) is left out; without a ratio none is sent', () => {
    const { body } = translate('wan2.7-videoedit', { video_url: 'https://a.example/in.mp4' });
    assert.deepEqual(body.parameters, { resolution: '1080P', audio_setting: 'auto', prompt_extend: true, watermark: false, seed: 42 });
  });
});

describe('DashScope translation: every field accounted for', () => {
  test('a field without a counterpart is named in a warning, never dropped silently; extra is the server\'s own', () => {
    const request = { ...validateRequest(modelById('wan2.7-t2v'), { prompt: 'p', extra: { webhook: { url: 'https://h.example' } } }), future_field: 1 };
    const { body, warnings } = translateRequest('wan2.7-t2v', request, 1);
    assert.deepEqual(warnings, ['future_field has no counterpart at DashScope and was not sent']);
    assert.equal(JSON.stringify(body).includes('webhook'), false);
  });

  test('translation is pure: the same request gives the same body and warnings', () => {
    const body = { prompt: 'character2 and character1', media: [{ type: 'first_frame', url: 'https://a.example/f.png' }, { type: 'reference_image', url: 'https://a.example/i.png' }], audio: false };
    assert.deepEqual(translate('wan2.7-r2v', body), translate('wan2.7-r2v', body));
  });
});
