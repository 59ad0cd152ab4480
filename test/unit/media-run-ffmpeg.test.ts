import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { testToolchain } from '../support/media-fixtures.js';
import { FfmpegError, killRunningFfmpeg, outTimeSeconds, runFfmpeg } from '../../src/media/run-ffmpeg.js';
import { tempDir } from '../support/temp-dir.js';

describe('runFfmpeg', () => {
  const dir = tempDir();

  test('reports the output position as it goes, up to the end', async () => {
    const { ffmpegPath } = await testToolchain();
    const positions: number[] = [];
    await runFfmpeg(ffmpegPath, ['-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=24:d=3', '-c:v', 'libx264', '-preset', 'ultrafast', path.join(dir, 'progress.mp4')], {
      onProgress: (seconds) => positions.push(seconds),
    });
    assert.ok(positions.length > 0, 'at least one report');
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'never goes back');
    assert.ok(Math.abs(positions.at(-1)! - 3) < 0.1, `last report ${positions.at(-1)}`);
  });

  test('a failure carries the end of the log', async () => {
    const { ffmpegPath } = await testToolchain();
    const error = await runFfmpeg(ffmpegPath, ['-y', '-i', path.join(dir, 'missing.png'), path.join(dir, 'out.mp4')]).then(
      () => assert.fail('ffmpeg should fail'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof FfmpegError);
    assert.notEqual(error.exitCode, 0);
    assert.ok(error.stderrTail.length > 0 && error.stderrTail.length <= 20);
    assert.match(error.message, /missing\.png/);
  });

  test('aborting kills ffmpeg and rejects with the reason', async () => {
    const { ffmpegPath } = await testToolchain();
    const controller = new AbortController();
    const started = Date.now();
    const run = runFfmpeg(ffmpegPath, ['-y', '-re', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=24:d=60', '-f', 'null', '-'], {
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('stop now')),
    });
    await assert.rejects(run, /stop now/);
    assert.ok(Date.now() - started < 5_000, 'stopped long before the 60 s input ended');
  });

  test('killRunningFfmpeg (what process exit runs) kills every ffmpeg still running', async () => {
    const { ffmpegPath } = await testToolchain();
    let started!: () => void;
    const reported = new Promise<void>((resolve) => (started = resolve));
    const run = runFfmpeg(ffmpegPath, ['-y', '-re', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=24:d=60', '-f', 'null', '-'], {
      onProgress: () => started(),
    });
    await reported;
    assert.equal(killRunningFfmpeg(), 1);
    await assert.rejects(run, (error: unknown) => error instanceof FfmpegError && error.exitSignal === 'SIGKILL');
    assert.equal(killRunningFfmpeg(), 0, 'nothing left running');
  });

  test('an already aborted signal starts nothing', async () => {
    const spawned: string[] = [];
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await assert.rejects(
      runFfmpeg('ffmpeg', [], { signal: controller.signal, spawnProcess: (command) => (spawned.push(command), assert.fail()) }),
      /too late/,
    );
    assert.deepEqual(spawned, []);
  });

  test('a binary that cannot be started is a clear error', async () => {
    await assert.rejects(runFfmpeg(path.join(dir, 'no-ffmpeg-here'), ['-version']), /cannot run ffmpeg/);
    assert.equal(existsSync(path.join(dir, 'no-ffmpeg-here')), false);
  });
});

describe('outTimeSeconds', () => {
  test('reads out_time_us and the misnamed out_time_ms, both in microseconds', () => {
    assert.equal(outTimeSeconds('out_time_us=1500000'), 1.5);
    assert.equal(outTimeSeconds('out_time_ms=2000000'), 2);
  });

  test('ignores other keys and values that say nothing yet', () => {
    assert.equal(outTimeSeconds('out_time_us=N/A'), undefined);
    assert.equal(outTimeSeconds('out_time_us=-9223372036854775807'), undefined);
    assert.equal(outTimeSeconds('out_time=00:00:01.500000'), undefined);
    assert.equal(outTimeSeconds('progress=end'), undefined);
  });
});
