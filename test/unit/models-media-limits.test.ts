import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { i2v } from '../../src/models/i2v.js';
import { megabyte, type MediaLimits } from '../../src/models/media-limits.js';
import { r2v } from '../../src/models/r2v.js';
import { t2v } from '../../src/models/t2v.js';
import { videoedit } from '../../src/models/videoedit.js';
import { accepts } from './models-assertions.js';

/** Each field's limits, as the reference pages state them, in one line a reader can compare. */
function summary(limits: MediaLimits): string {
  const parts = [limits.kind, limits.formats.join('/'), `${limits.maxBytes / megabyte}MB`];
  if (limits.kind !== 'audio') parts.push(`${limits.minSide}-${limits.maxSide}px`, limits.maxAspectRatio ? `1:${limits.maxAspectRatio}~${limits.maxAspectRatio}:1` : 'any ratio');
  if (limits.kind === 'image') parts.push(limits.opaqueOnly ? 'opaque' : 'transparency ok');
  if (limits.kind !== 'image') parts.push(`${limits.minSeconds}-${limits.maxSeconds}s`);
  return parts.join(' ');
}

const url = (name: string) => `https://example.com/${name}`;

describe('media limits of each field, as the pages state them', () => {
  it('t2v audio_url: wav/mp3, 3–30 s, 15 MB', () => {
    const [audio] = t2v.mediaReferences(accepts(t2v, { prompt: 'x', audio_url: url('a.mp3') }));
    assert.equal(summary(audio.limits), 'audio wav/mp3 15MB 3-30s');
  });

  it('i2v: frames 20 MB opaque 1:8~8:1, clip 2–10 s, driving audio 2–30 s', () => {
    const first = i2v.mediaReferences(accepts(i2v, { image_url: url('f.png'), last_frame_url: url('l.png'), driving_audio_url: url('d.wav') }));
    const clip = i2v.mediaReferences(accepts(i2v, { first_clip_url: url('c.mp4') }));
    assert.deepEqual(Object.fromEntries([...first, ...clip].map((reference) => [reference.field, summary(reference.limits)])), {
      image_url: 'image jpg/png/bmp/webp 20MB 240-8000px 1:8~8:1 opaque',
      last_frame_url: 'image jpg/png/bmp/webp 20MB 240-8000px 1:8~8:1 opaque',
      driving_audio_url: 'audio wav/mp3 15MB 2-30s',
      first_clip_url: 'video mp4/mov 100MB 240-4096px 1:8~8:1 2-10s',
    });
  });

  it('r2v: images 10 MB, videos 1–30 s, voices mp3/wav/flac 3–30 s', () => {
    const references = r2v.mediaReferences(
      accepts(r2v, {
        prompt: 'character1 and character2',
        media: [
          { type: 'reference_image', url: url('a.png'), reference_voice: url('a.flac') },
          { type: 'reference_video', url: url('b.mp4') },
          { type: 'first_frame', url: url('c.jpg') },
        ],
      }),
    );
    assert.deepEqual(Object.fromEntries(references.map((reference) => [reference.field, summary(reference.limits)])), {
      'media[0].url': 'image jpg/png/bmp/webp 10MB 240-8000px any ratio transparency ok',
      'media[0].reference_voice': 'audio mp3/wav/flac 15MB 3-30s',
      'media[1].url': 'video mp4/mov 100MB 240-4096px any ratio 1-30s',
      'media[2].url': 'image jpg/png/bmp/webp 10MB 240-8000px any ratio transparency ok',
    });
  });

  it('videoedit: video 2–10 s 1:8~8:1, reference images 20 MB opaque', () => {
    const references = videoedit.mediaReferences(accepts(videoedit, { prompt: 'x', video_url: url('v.mov'), reference_image_url: url('r.webp') }));
    assert.deepEqual(Object.fromEntries(references.map((reference) => [reference.field, summary(reference.limits)])), {
      video_url: 'video mp4/mov 100MB 240-4096px 1:8~8:1 2-10s',
      reference_image_url: 'image jpg/png/bmp/webp 20MB 240-8000px 1:8~8:1 opaque',
    });
  });
});
