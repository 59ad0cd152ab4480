import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { audioLimits, imageLimits, megabyte, type MediaLimits, videoLimits } from '../../src/models/media-limits.js';
import type { MediaFacts } from '../../src/media/media-inspection.js';
import { checkMediaLimits } from '../../src/media/media-limit-check.js';

/** The rules, on facts made up to sit just inside and just outside each limit. */
const frame = imageLimits({ maxMegabytes: 20, maxAspectRatio: 8, opaqueOnly: true });
const reference = imageLimits({ maxMegabytes: 10, opaqueOnly: false });
const clip = videoLimits({ minSeconds: 2, maxSeconds: 10, maxAspectRatio: 8 });
const voice = audioLimits({ formats: ['mp3', 'wav', 'flac'], minSeconds: 3, maxSeconds: 30 });
const png = (width: number, height: number, more: Partial<MediaFacts> = {}): MediaFacts => ({ sizeBytes: 1000, format: 'png', width, height, transparent: false, ...more });
const mp4 = (seconds: number, more: Partial<MediaFacts> = {}): MediaFacts => ({ sizeBytes: 1000, format: 'mp4', width: 640, height: 360, durationSeconds: seconds, ...more });
const reasons = (field: string, facts: MediaFacts, limits: MediaLimits = frame) => checkMediaLimits(field, facts, limits).map((violation) => violation.reason);

describe('image limits', () => {
  it('accepts sides of 240 and 8000 and a ratio of exactly 8:1', () => {
    assert.deepEqual(reasons('image_url', png(240, 240)), []);
    assert.deepEqual(reasons('image_url', png(8000, 1000)), []);
    assert.deepEqual(reasons('image_url', png(240, 1920)), []);
  });

  it('refuses a side under 240 as INVALID_IMAGE_SIZE and one over 8000 as IMAGE_EXCEEDS_MAX_RESOLUTION', () => {
    assert.deepEqual(reasons('image_url', png(239, 400)), ['INVALID_IMAGE_SIZE']);
    assert.deepEqual(reasons('image_url', png(8001, 1001)), ['IMAGE_EXCEEDS_MAX_RESOLUTION']);
  });

  it('refuses a ratio past 8:1 either way, where the page sets one', () => {
    assert.deepEqual(reasons('image_url', png(1944, 240)), ['INVALID_IMAGE_SIZE']);
    assert.deepEqual(reasons('image_url', png(240, 1944)), ['INVALID_IMAGE_SIZE']);
    assert.deepEqual(reasons('media[0].url', png(1944, 240), reference), []);
  });

  it('names the field, the size found and the limit in the message and metadata', () => {
    const [violation] = checkMediaLimits('last_frame_url', png(8001, 1001), frame);
    assert.equal(violation.field, 'last_frame_url');
    assert.match(violation.message, /^last_frame_url: 8001x1001 pixels: a side exceeds the largest allowed, 8000$/);
    assert.equal(violation.value, '8001x1001');
    assert.equal(violation.limit, 8000);
  });

  it('file size: the limit itself passes, one byte more is IMAGE_FILE_EXCEEDS_MAX_SIZE', () => {
    assert.deepEqual(reasons('image_url', png(400, 400, { sizeBytes: 20 * megabyte })), []);
    const [violation] = checkMediaLimits('image_url', png(400, 400, { sizeBytes: 20 * megabyte + 1 }), frame);
    assert.equal(violation.reason, 'IMAGE_FILE_EXCEEDS_MAX_SIZE');
    assert.match(violation.message, /20\.0 MB \(20971521 bytes\); the limit is 20 MB/);
  });

  it('transparency is refused only where the page says "no transparency"', () => {
    assert.deepEqual(reasons('image_url', png(400, 400, { transparent: true })), ['INVALID_IMAGE_FORMAT']);
    assert.deepEqual(reasons('media[0].url', png(400, 400, { transparent: true }), reference), []);
  });

  it('a format outside the list is INVALID_IMAGE_FORMAT naming what the bytes are; nothing else is judged', () => {
    const [violation, ...others] = checkMediaLimits('image_url', { sizeBytes: 10, format: 'gif' }, frame);
    assert.equal(violation.reason, 'INVALID_IMAGE_FORMAT');
    assert.equal(violation.message, 'image_url: the file is GIF; accepted: JPEG, PNG, BMP, WEBP');
    assert.deepEqual(others, []);
  });

  it('a damaged file is INVALID_IMAGE_FORMAT with the damage in the message', () => {
    const [violation] = checkMediaLimits('image_url', { sizeBytes: 10, format: 'png', damage: 'the file is cut short: x' }, frame);
    assert.equal(violation.reason, 'INVALID_IMAGE_FORMAT');
    assert.match(violation.message, /^image_url: the PNG file cannot be used: the file is cut short/);
  });

  it('every broken rule is reported, not only the first', () => {
    assert.deepEqual(reasons('image_url', png(8100, 200, { sizeBytes: 21 * megabyte, transparent: true })), [
      'IMAGE_FILE_EXCEEDS_MAX_SIZE',
      'INVALID_IMAGE_FORMAT',
      'IMAGE_EXCEEDS_MAX_RESOLUTION',
      'INVALID_IMAGE_SIZE',
      'INVALID_IMAGE_SIZE',
    ]);
  });
});

describe('video limits', () => {
  it('accepts 2 s and 10 s, refuses 1.999 s and 10.1 s as INVALID_VIDEO_DURATION', () => {
    assert.deepEqual(reasons('first_clip_url', mp4(2), clip), []);
    assert.deepEqual(reasons('first_clip_url', mp4(10), clip), []);
    assert.deepEqual(reasons('first_clip_url', mp4(1.999), clip), ['INVALID_VIDEO_DURATION']);
    const [violation] = checkMediaLimits('first_clip_url', mp4(10.1), clip);
    assert.equal(violation.message, 'first_clip_url: the video lasts 10.1 s; it must last 2 to 10 s');
    assert.deepEqual(violation.limit, [2, 10]);
  });

  it('sides in [240, 4096], 100 MB, MP4 or MOV', () => {
    assert.deepEqual(reasons('video_url', mp4(5, { width: 4096, height: 512 }), clip), []);
    assert.deepEqual(reasons('video_url', mp4(5, { width: 4098, height: 1024 }), clip), ['VIDEO_EXCEEDS_MAX_RESOLUTION']);
    assert.deepEqual(reasons('video_url', mp4(5, { width: 238, height: 240 }), clip), ['INVALID_VIDEO_SIZE']);
    assert.deepEqual(reasons('video_url', mp4(5, { sizeBytes: 100 * megabyte + 1 }), clip), ['VIDEO_FILE_EXCEEDS_MAX_SIZE']);
    assert.deepEqual(reasons('video_url', mp4(5, { format: 'mov' }), clip), []);
    assert.deepEqual(reasons('video_url', mp4(5, { format: 'mkv' }), clip), ['INVALID_VIDEO_FORMAT']);
  });
});

describe('audio limits', () => {
  it('formats per field, duration range, 15 MB', () => {
    const wav = (seconds: number, more: Partial<MediaFacts> = {}): MediaFacts => ({ sizeBytes: 1000, format: 'wav', durationSeconds: seconds, ...more });
    const drivingAudio = audioLimits({ formats: ['wav', 'mp3'], minSeconds: 3, maxSeconds: 30 });
    assert.deepEqual(reasons('media[0].reference_voice', wav(3), voice), []);
    assert.deepEqual(reasons('media[0].reference_voice', wav(30), voice), []);
    assert.deepEqual(reasons('media[0].reference_voice', wav(2.99), voice), ['INVALID_AUDIO_DURATION']);
    assert.deepEqual(reasons('media[0].reference_voice', wav(30.01), voice), ['INVALID_AUDIO_DURATION']);
    assert.deepEqual(reasons('media[0].reference_voice', wav(5, { format: 'flac' }), voice), []);
    assert.deepEqual(reasons('audio_url', wav(5, { format: 'flac' }), drivingAudio), ['INVALID_AUDIO_FILE']);
    assert.deepEqual(reasons('audio_url', wav(5, { sizeBytes: 15 * megabyte + 1 }), drivingAudio), ['AUDIO_FILE_EXCEEDS_MAX_SIZE']);
  });
});
