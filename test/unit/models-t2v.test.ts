import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { t2v } from '../../src/models/t2v.js';
import { accepts, placesOf } from './models-assertions.js';

describe('t2v prompt', () => {
  it('keeps a prompt of 1500 characters as it is', () => {
    const prompt = 'a'.repeat(1500);
    assert.equal(accepts(t2v, { prompt }).prompt, prompt);
  });

  it('truncates a prompt of 1501 characters to 1500 instead of refusing it', () => {
    assert.equal(accepts(t2v, { prompt: 'a'.repeat(1501) }).prompt, 'a'.repeat(1500));
  });

  it('counts characters as code points, never splitting an emoji', () => {
    const prompt = `${'🎬'.repeat(1499)}ab`;
    const kept = accepts(t2v, { prompt }).prompt;
    assert.equal(kept, `${'🎬'.repeat(1499)}a`);
    assert.equal(Array.from(kept).length, 1500);
    assert.equal(kept.length, 2 * 1499 + 1);
  });

  it('accepts an empty prompt (the page says 0 - 1500)', () => {
    assert.equal(accepts(t2v, { prompt: '' }).prompt, '');
  });
});

describe('t2v media references', () => {
  it('lists audio_url as audio', () => {
    const request = accepts(t2v, { prompt: 'x', audio_url: 'https://example.com/beat.mp3' });
    assert.deepEqual(placesOf(t2v.mediaReferences(request)), [
      { field: 'audio_url', url: 'https://example.com/beat.mp3', kind: 'audio' },
    ]);
  });

  it('is empty without audio', () => {
    assert.deepEqual(placesOf(t2v.mediaReferences(accepts(t2v, { prompt: 'x' }))), []);
  });
});
