import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { i2v } from '../../src/models/i2v.js';
import { accepts, refuses, placesOf } from './models-assertions.js';

const image = 'https://example.com/first.png';
const clip = 'https://example.com/clip.mp4';
const lastFrame = 'https://example.com/last.png';
const audio = 'https://example.com/voice.wav';

describe('i2v starting media: exactly one of image_url and first_clip_url', () => {
  it('accepts image_url alone, with last_frame_url, and first_clip_url alone', () => {
    accepts(i2v, { image_url: image });
    accepts(i2v, { image_url: image, last_frame_url: lastFrame });
    accepts(i2v, { first_clip_url: clip });
  });

  it('refuses neither, naming both fields', () => {
    refuses(i2v, { prompt: 'a cat' }, {
      field: 'image_url',
      messageIncludes: ['image_url', 'first_clip_url', 'required'],
      metadata: { fields: ['image_url', 'first_clip_url'] },
    });
  });

  it('refuses both, naming both fields', () => {
    refuses(i2v, { image_url: image, first_clip_url: clip }, {
      field: 'first_clip_url',
      messageIncludes: ['image_url and first_clip_url are mutually exclusive'],
    });
  });

  it('refuses last_frame_url with first_clip_url', () => {
    refuses(i2v, { first_clip_url: clip, last_frame_url: lastFrame }, {
      field: 'last_frame_url',
      messageIncludes: ['last_frame_url cannot be used with first_clip_url'],
    });
  });
});

describe('i2v media references', () => {
  it('lists every URL in body order with its kind', () => {
    const request = accepts(i2v, { driving_audio_url: audio, last_frame_url: lastFrame, image_url: image });
    assert.deepEqual(placesOf(i2v.mediaReferences(request)), [
      { field: 'image_url', url: image, kind: 'image' },
      { field: 'last_frame_url', url: lastFrame, kind: 'image' },
      { field: 'driving_audio_url', url: audio, kind: 'audio' },
    ]);
  });

  it('lists a first clip as video', () => {
    assert.deepEqual(placesOf(i2v.mediaReferences(accepts(i2v, { first_clip_url: clip }))), [
      { field: 'first_clip_url', url: clip, kind: 'video' },
    ]);
  });
});
