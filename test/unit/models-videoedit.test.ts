import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { videoedit } from '../../src/models/videoedit.js';
import { accepts, refuses, placesOf } from './models-assertions.js';

const video = 'https://example.com/input.mp4';

describe('videoedit duration', () => {
  for (const duration of [0, 2, 10]) {
    it(`accepts ${duration}`, () => {
      assert.equal(accepts(videoedit, { video_url: video, duration }).duration, duration);
    });
  }

  it('refuses 1: 0 keeps the input length, a cut lasts at least 2 seconds', () => {
    refuses(videoedit, { video_url: video, duration: 1 }, {
      field: 'duration',
      messageIncludes: ['duration must be 0', 'between 2 and 10, got 1'],
      metadata: { value: 1, minimum: 2, maximum: 10 },
    });
  });

  it('refuses 11', () => {
    refuses(videoedit, { video_url: video, duration: 11 }, {
      field: 'duration',
      messageIncludes: ['duration must be an integer between 0 and 10, got 11'],
    });
  });
});

describe('videoedit reference images', () => {
  it('accepts any subset, gaps included', () => {
    accepts(videoedit, { video_url: video, reference_image_url_3: 'https://example.com/c.png' });
    accepts(videoedit, { video_url: video, reference_image_url_2: 'https://example.com/b.png' });
  });

  it('lists the video then the reference images, in body order', () => {
    const body = {
      reference_image_url_3: 'https://example.com/c.png',
      reference_image_url: 'https://example.com/a.png',
      video_url: video,
      reference_image_url_2: 'https://example.com/b.png',
    };
    assert.deepEqual(placesOf(videoedit.mediaReferences(accepts(videoedit, body))), [
      { field: 'video_url', url: video, kind: 'video' },
      { field: 'reference_image_url', url: 'https://example.com/a.png', kind: 'image' },
      { field: 'reference_image_url_2', url: 'https://example.com/b.png', kind: 'image' },
      { field: 'reference_image_url_3', url: 'https://example.com/c.png', kind: 'image' },
    ]);
  });
});
