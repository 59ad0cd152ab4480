import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { r2v } from '../../src/models/r2v.js';
import { accepts, refuses, placesOf } from './models-assertions.js';

type MediaType = 'reference_image' | 'reference_video' | 'first_frame';

/** A body whose media has the given types, in order. */
function bodyWith(...types: MediaType[]) {
  return {
    prompt: 'character1 and character2 dance',
    media: types.map((type, index) => ({ url: `https://example.com/${index}`, type })),
  };
}

describe('r2v media counts', () => {
  it('accepts 3 videos and 2 images', () => {
    accepts(r2v, bodyWith('reference_video', 'reference_video', 'reference_video', 'reference_image', 'reference_image'));
  });

  it('accepts 5 images, one of them the first frame', () => {
    accepts(r2v, bodyWith('first_frame', 'reference_image', 'reference_image', 'reference_image', 'reference_image'));
  });

  it('refuses 4 videos', () => {
    refuses(r2v, bodyWith('reference_video', 'reference_video', 'reference_video', 'reference_video'), {
      field: 'media',
      messageIncludes: ['at most 3 videos', 'got 4'],
      metadata: { count: 4, maximum: 3 },
    });
  });

  it('refuses 2 first frames', () => {
    refuses(r2v, bodyWith('first_frame', 'reference_image', 'first_frame'), {
      field: 'media',
      messageIncludes: ['first_frame', 'got 2'],
      metadata: { count: 2, maximum: 1 },
    });
  });
});

describe('r2v media references', () => {
  it('lists each item URL then its voice, in array order, with their kinds', () => {
    const body = {
      prompt: 'character1 talks to character2',
      media: [
        { url: 'https://example.com/a.mp4', type: 'reference_video', reference_voice: 'https://example.com/a.mp3' },
        { url: 'https://example.com/b.png', type: 'reference_image' },
        { url: 'https://example.com/c.png', type: 'first_frame', reference_voice: 'https://example.com/c.wav' },
      ],
    };
    assert.deepEqual(placesOf(r2v.mediaReferences(accepts(r2v, body))), [
      { field: 'media[0].url', url: 'https://example.com/a.mp4', kind: 'video' },
      { field: 'media[0].reference_voice', url: 'https://example.com/a.mp3', kind: 'audio' },
      { field: 'media[1].url', url: 'https://example.com/b.png', kind: 'image' },
      { field: 'media[2].url', url: 'https://example.com/c.png', kind: 'image' },
      { field: 'media[2].reference_voice', url: 'https://example.com/c.wav', kind: 'audio' },
    ]);
  });
});
