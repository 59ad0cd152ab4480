import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inputFilesOf } from '../../src/engines/preview/ffmpeg-arguments.js';
import { describeRenderFailure, RenderFailure, type FailureContext } from '../../src/engines/preview/render-failure.js';
import { FfmpegError } from '../../src/media/run-ffmpeg.js';

const who = '(the preview engine is a procedural renderer built on ffmpeg, not the Wan model)';

/** i2v first + last frame: input 0 the first image, 1 the last, 2 the generated soundtrack. */
const args = [
  '-y', '-i', '/work/1/image.png', '-i', '/work/1/last.png', '-f', 'lavfi', '-i', 'sine=f=110[out0]',
  '-filter_complex', '[0:v]trim=end_frame=1[s1]', '-map', '[s1]', '-map', '2:a', '/work/1/out.partial.mp4',
];
const context: FailureContext = {
  ffmpegArguments: args,
  inputs: [
    { path: '/work/1/image.png', fields: ['image_url'] },
    { path: '/work/1/last.png', fields: ['last_frame_url'] },
    { fields: [] },
  ],
};

describe('describeRenderFailure', () => {
  test('an input ffmpeg cannot decode is named by its field; the log and the command go to the detail only', () => {
    const error = new FfmpegError(1, null, [
      "Input #1, png_pipe, from '/work/1/last.png':",
      '[png @ 0x55] Invalid PNG signature 0x7468697320697320.',
      'Error while decoding stream #1:0: Invalid data found when processing input',
      'Conversion failed!',
    ]);
    const { error: told, detail } = describeRenderFailure(error, context);
    assert.equal(told.reason, 'TASK_FAILED');
    assert.equal(told.message, `preview render failed: last_frame_url could not be decoded ${who}`);
    assert.deepEqual(told.metadata, { engine: 'preview', field: 'last_frame_url' });
    assert.doesNotMatch(told.message, /\/work|png_pipe|Conversion/);
    assert.match(detail!, /^ffmpeg exited with code 1:\n.*Invalid PNG signature/s);
    assert.match(detail!, /\ncommand: ffmpeg -y -i \/work\/1\/image\.png .* -i 'sine=f=110\[out0\]' /);
  });

  test('an input that cannot be opened is named by its path in the log', () => {
    const error = new FfmpegError(1, null, ['/work/1/image.png: Invalid data found when processing input']);
    assert.equal(describeRenderFailure(error, context).error.message, `preview render failed: image_url could not be decoded ${who}`);
  });

  test('the headers that list the inputs blame nothing; a generated input blames no field', () => {
    const error = new FfmpegError(1, null, ["Input #0, png_pipe, from '/work/1/image.png':", 'Error while decoding stream #2:0: Invalid argument']);
    const { error: told } = describeRenderFailure(error, context);
    assert.equal(told.message, `preview render failed: ffmpeg stopped with exit code 1 ${who}`);
    assert.deepEqual(told.metadata, { engine: 'preview' });
  });

  test('a crash says so in a few words, whatever ffmpeg printed', () => {
    const error = new FfmpegError(null, 'SIGABRT', ["*** Error in `ffmpeg': corrupted size vs. prev_size: 0x0000000042ea35f0 ***"]);
    const { error: told, detail } = describeRenderFailure(error, context);
    assert.equal(told.message, `preview render failed: ffmpeg crashed (SIGABRT) ${who}`);
    assert.match(detail!, /corrupted size vs\. prev_size/);
    assert.equal(
      describeRenderFailure(new FfmpegError(null, 'SIGKILL', []), context).error.message,
      `preview render failed: ffmpeg was stopped by SIGKILL ${who}`,
    );
  });

  test('a run that stopped moving, a full disk, an error of the file system', () => {
    assert.equal(
      describeRenderFailure(new FfmpegError(null, 'SIGKILL', [], 60_000), context).error.message,
      `preview render failed: ffmpeg made no progress for 60 s and was stopped ${who}`,
    );
    assert.equal(
      describeRenderFailure(new FfmpegError(1, null, ['av_interleaved_write_frame(): No space left on device']), context).error.message,
      `preview render failed: the server ran out of disk space ${who}`,
    );
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, rename '/work/1/a' -> '/work/1/b'"), { code: 'ENOSPC' });
    assert.equal(describeRenderFailure(enospc).error.message, `preview render failed: the server ran out of disk space ${who}`);
    const eacces = Object.assign(new Error("EACCES: permission denied, rename '/work/1/a'"), { code: 'EACCES' });
    const { error: told, detail } = describeRenderFailure(eacces);
    assert.equal(told.message, `preview render failed: the video could not be saved (EACCES) ${who}`);
    assert.match(detail!, /\/work\/1\/a/);
  });

  test('the renderer’s own failures keep their words and fields; a bug of the server is not shown', () => {
    const failure = new RenderFailure('video_url states no duration', ['video_url'], 'ffprobe said nothing');
    assert.deepEqual(describeRenderFailure(failure), {
      error: describeRenderFailure(failure).error,
      detail: 'ffprobe said nothing',
    });
    assert.equal(describeRenderFailure(failure).error.message, `preview render failed: video_url states no duration ${who}`);
    assert.deepEqual(describeRenderFailure(failure).error.metadata, { engine: 'preview', field: 'video_url' });
    assert.equal(describeRenderFailure(new Error('the request has no size')).error.message, `preview render failed: the request has no size ${who}`);
    const bug = describeRenderFailure(new TypeError("Cannot read properties of undefined (reading 'path')"));
    assert.equal(bug.error.message, `preview render failed: an internal error of the server ${who}`);
    assert.match(bug.detail!, /TypeError: Cannot read properties/);
  });
});

describe('inputFilesOf', () => {
  test('the file of each input in order, none for a generated one', () => {
    assert.deepEqual(inputFilesOf(args), ['/work/1/image.png', '/work/1/last.png', undefined]);
    assert.deepEqual(inputFilesOf(['-sseof', '-0.5', '-i', '/in/clip.mp4', '-f', 'lavfi', '-i', 'color']), ['/in/clip.mp4', undefined]);
  });
});
