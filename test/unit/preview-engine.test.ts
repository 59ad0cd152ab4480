import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PreviewEngine, requiredFilters } from '../../src/engines/preview/preview-engine.js';
import { RenderCpus } from '../../src/engines/preview/render-cpus.js';
import { allowedCpus, parseCpuList } from '../../src/media/cpu-scheduling.js';
import type { FfmpegToolchain } from '../../src/media/ffmpeg-binaries.js';
import { ApiError } from '../../src/spec/api-error.js';
import type { EngineStatus } from '../../src/spec/engine.js';
import { engineJob, waitForEnd } from '../support/engine-conformance.js';
import { makeImage, makeVideo, testToolchain } from '../support/media-fixtures.js';
import { tempDir } from '../support/temp-dir.js';

/** The life of a preview render as the worker sees it: start, progress, end, cancel, restart. */
describe('preview engine', () => {
  const dir = tempDir('wan-preview-engine-');
  let toolchain: FfmpegToolchain;
  before(async () => {
    toolchain = await testToolchain();
  });

  const t2v = async (body: Record<string, unknown> = {}) => {
    const workDir = await mkdtemp(path.join(dir, 'job-'));
    return engineJob('wan2.7-t2v', { prompt: 'dusk', size: '1280*720', duration: 2, ...body }, { workDir });
  };

  test('start returns at once; the render then runs with progress in 0..99 and ends with only its mp4 in workDir', async () => {
    const engine = new PreviewEngine({ toolchain });
    const job = await t2v({ duration: 5 });
    const operation = await engine.start(job);
    const first = await engine.status(operation, job);
    assert.equal(first.state, 'running');
    const seen: EngineStatus[] = [first];
    let status: EngineStatus = first;
    while (status.state === 'running') {
      const asked = Date.now();
      await engine.changed(operation, 10_000);
      assert.ok(Date.now() - asked < 9_000, 'changed resolves on progress or at the end, not at the timeout');
      status = await engine.status(operation, job);
      seen.push(status);
    }
    for (const running of seen.filter((entry) => entry.state === 'running')) {
      assert.ok(running.progressPercent >= 0 && running.progressPercent <= 99, String(running.progressPercent));
      assert.ok(running.etaSeconds >= 0);
    }
    assert.equal(status.state, 'succeeded');
    if (status.state !== 'succeeded') return;
    assert.equal(path.dirname(status.videos[0].path), job.workDir);
    assert.deepEqual(await readdir(job.workDir), [path.basename(status.videos[0].path)]);
    assert.equal(status.extra.engine, 'preview');
    assert.equal(status.extra.frames, 120);
    await engine.changed(operation, 10_000);
  });

  test('cancel kills ffmpeg at once and leaves nothing in workDir', async () => {
    const engine = new PreviewEngine({ toolchain });
    const job = await t2v({ size: '1920*1080', duration: 15 });
    const operation = await engine.start(job);
    while ((await engine.status(operation, job)).state === 'running' && (await readdir(job.workDir)).length === 0) {
      await engine.changed(operation, 200);
    }
    assert.notDeepEqual(await readdir(job.workDir), [], 'ffmpeg had started writing');
    const asked = Date.now();
    await engine.cancel(operation);
    assert.ok(Date.now() - asked < 3_000, `cancel took ${Date.now() - asked} ms`);
    assert.deepEqual(await readdir(job.workDir), []);
    const status = await engine.status(operation, job);
    assert.equal(status.state, 'failed');
    assert.equal(status.state === 'failed' && status.error.reason, 'TASK_FAILED');
    await engine.cancel(operation);
  });

  test('close (shutdown) kills every running render and leaves nothing in their workDirs', async () => {
    const engine = new PreviewEngine({ toolchain });
    const jobs = [await t2v({ size: '1920*1080', duration: 15 }), await t2v({ size: '1920*1080', duration: 15, seed: 2 })];
    const operations = await Promise.all(jobs.map((job) => engine.start(job)));
    await engine.changed(operations[0], 5_000);
    const asked = Date.now();
    await engine.close();
    assert.ok(Date.now() - asked < 3_000, `close took ${Date.now() - asked} ms`);
    for (const [index, job] of jobs.entries()) {
      assert.deepEqual(await readdir(job.workDir), []);
      assert.equal((await engine.status(operations[index], job)).state, 'failed');
    }
  });

  test('progress comes from ffmpeg’s output position: it rises through the render', async () => {
    const engine = new PreviewEngine({ toolchain });
    // Long enough for several of ffmpeg's twice-a-second reports even on a fast machine.
    const job = await t2v({ size: '1920*1080', duration: 10 });
    const operation = await engine.start(job);
    const percents = new Set<number>();
    let status = await engine.status(operation, job);
    while (status.state === 'running') {
      percents.add(status.progressPercent);
      await engine.changed(operation, 10_000);
      status = await engine.status(operation, job);
    }
    assert.equal(status.state, 'succeeded');
    assert.ok(percents.size >= 3, `only ${[...percents].join(', ')} seen: progress is not from ffmpeg's reports`);
    assert.ok([...percents].some((percent) => percent > 0 && percent < 99), [...percents].join(', '));
  });

  test('a render that fails is TASK_FAILED naming the field and the preview renderer; the log detail gets the rest; no partial file', async () => {
    const engine = new PreviewEngine({ toolchain });
    const workDir = await mkdtemp(path.join(dir, 'job-'));
    const notAnImage = path.join(dir, 'not-an-image.png');
    await writeFile(notAnImage, 'this is text');
    const job = engineJob('wan2.7-i2v', { image_url: 'https://m.test/x.png', resolution: '720P', duration: 2 }, { workDir, files: { image_url: notAnImage } });
    const status = await waitForEnd(engine, await engine.start(job), job, 30_000);
    assert.equal(status.state, 'failed');
    if (status.state !== 'failed') return;
    assert.ok(status.error instanceof ApiError);
    assert.equal(status.error.status, 500);
    assert.equal(status.error.reason, 'TASK_FAILED');
    assert.equal(
      status.error.message,
      'preview render failed: image_url has no picture whose size can be read (the preview engine is a procedural renderer built on ffmpeg, not the Wan model)',
    );
    assert.deepEqual(status.error.metadata, { engine: 'preview', field: 'image_url' });
    assert.deepEqual(await readdir(workDir), []);

    const unreadable = engineJob('wan2.7-i2v', { image_url: 'https://m.test/x.png', resolution: '720P', duration: 2 }, { workDir, files: { image_url: path.join(dir, 'gone.png') } });
    const failed = await waitForEnd(engine, await engine.start(unreadable), unreadable, 30_000);
    assert.equal(failed.state, 'failed');
    if (failed.state !== 'failed') return;
    assert.equal(failed.error.message, 'preview render failed: image_url could not be decoded (the preview engine is a procedural renderer built on ffmpeg, not the Wan model)');
    assert.match(failed.detail ?? '', /^ffprobe failed: .*gone\.png/s, 'the log gets what ffprobe said');
  });

  test('an input that ffmpeg cannot decode mid-render is blamed by field, with ffmpeg’s log and command in the detail', async () => {
    const engine = new PreviewEngine({ toolchain });
    const workDir = await mkdtemp(path.join(dir, 'job-'));
    const image = await makeImage(toolchain, path.join(dir, 'first.png'), { width: 320, height: 240 });
    // A valid probe, but no picture to decode: the PNG's data is cut off after its header.
    const broken = path.join(dir, 'last.png');
    await writeFile(broken, (await readFile(image)).subarray(0, 100));
    const job = engineJob(
      'wan2.7-i2v',
      { image_url: 'https://m.test/a.png', last_frame_url: 'https://m.test/b.png', resolution: '720P', duration: 2 },
      { workDir, files: { image_url: image, last_frame_url: broken } },
    );
    const status = await waitForEnd(engine, await engine.start(job), job, 30_000);
    assert.equal(status.state, 'failed');
    if (status.state !== 'failed') return;
    assert.match(status.error.message, /^preview render failed: last_frame_url could not be decoded \(the preview engine is a procedural renderer built on ffmpeg, not the Wan model\)$/);
    assert.equal(status.error.metadata.field, 'last_frame_url');
    assert.match(status.detail ?? '', /^ffmpeg exited with code \d+:\n/);
    assert.match(status.detail ?? '', /\ncommand: ffmpeg .*last\.png/);
    assert.deepEqual(await readdir(workDir), []);
  });

  test('eta, from a second into the render, is within 50 % of the time the render really still takes', async () => {
    const engine = new PreviewEngine({ toolchain });
    const job = await t2v({ size: '1920*1080', duration: 15 });
    const started = performance.now();
    const operation = await engine.start(job);
    const samples: { at: number; eta: number }[] = [];
    let status = await engine.status(operation, job);
    while (status.state === 'running') {
      const at = (performance.now() - started) / 1000;
      if (at >= 1 && status.progressPercent > 0) samples.push({ at, eta: status.etaSeconds });
      await engine.changed(operation, 100);
      status = await engine.status(operation, job);
    }
    assert.equal(status.state, 'succeeded');
    const ended = (performance.now() - started) / 1000;
    // Each reading against the time the render then really took, while at least a second was left;
    // within 50 %, give or take the rounding to whole seconds. The machine's load may change under
    // a reading (other tests run beside this one), so three in four must hold, not every one: an
    // eta that assumed real time (15 s of video in about 4 s) fails nearly all of them.
    const readings = samples
      .map(({ at, eta }) => ({ at, eta, truth: ended - at }))
      .filter(({ truth }) => truth >= 1);
    const good = readings.filter(({ eta, truth }) => Math.abs(eta - truth) <= 0.5 * truth + 0.5);
    const shown = readings.map(({ at, eta, truth }) => `${at.toFixed(2)} s: eta ${eta}, truly ${truth.toFixed(2)}`).join('; ');
    assert.ok(readings.length >= 2, `only ${readings.length} reading(s): ${shown}`);
    assert.ok(good.length >= 0.75 * readings.length, `${good.length} of ${readings.length} readings within 50 %: ${shown}`);
  });

  test('an operation this process does not know is lost, even when its render had finished (after a restart)', async () => {
    const engine = new PreviewEngine({ toolchain });
    const job = await t2v();
    assert.deepEqual(await engine.status({ engine: 'preview', renderId: '6f1c2a8e-1d2b-4c3d-9e4f-5a6b7c8d9e0f' }, job), { state: 'lost' });
    const operation = await engine.start(job);
    assert.equal((await waitForEnd(engine, operation, job, 30_000)).state, 'succeeded');
    const restarted = new PreviewEngine({ toolchain });
    assert.deepEqual(await restarted.status(JSON.parse(JSON.stringify(operation)), job), { state: 'lost' });
  });

  test('frame rate and encoder are options', async () => {
    const engine = new PreviewEngine({ toolchain, frameRate: 30, encoder: { preset: 'superfast' } });
    const job = await t2v();
    const status = await waitForEnd(engine, await engine.start(job), job, 30_000);
    assert.equal(status.state === 'succeeded' && status.extra.frames, 60);
  });

  test('an ffmpeg without libx264 is refused when the engine is built', () => {
    const withoutX264: FfmpegToolchain = { ...toolchain, hasEncoder: (name) => name !== 'libx264' };
    assert.throws(() => new PreviewEngine({ toolchain: withoutX264 }), /libx264/);
  });

  test('the ffmpeg under test has every filter the engine needs; one that lacks some is refused, naming them', () => {
    for (const name of requiredFilters) assert.ok(toolchain.hasFilter(name), `${toolchain.ffmpegPath} lacks ${name}`);
    const old: FfmpegToolchain = { ...toolchain, hasFilter: (name) => !['geq', 'tpad'].includes(name) };
    assert.throws(() => new PreviewEngine({ toolchain: old }), /filters geq, tpad;/);
  });

  test('without drawtext the engine renders with no letters at all', async () => {
    const noText: FfmpegToolchain = { ...toolchain, hasFilter: (name) => name !== 'drawtext' && toolchain.hasFilter(name) };
    const engine = new PreviewEngine({ toolchain: noText, watermarkFontFile: '/usr/share/fonts/any.ttf' });
    const job = await t2v({ watermark: true });
    const status = await waitForEnd(engine, await engine.start(job), job, 30_000);
    assert.equal(status.state, 'succeeded', status.state === 'failed' ? status.error.message : '');
  });

  test('the thread budget, the CPUs and the priority change no byte of the video; ffmpeg runs as they say', async () => {
    const allowed = allowedCpus();
    // The default: idle, the budget derived from the CPUs; against: low, every CPU, as many threads.
    const confined = new PreviewEngine({ toolchain, rendersAtOnce: 2 });
    const free = new PreviewEngine({ toolchain, priority: 'low', renderThreads: allowed.length });
    const share = new RenderCpus(allowed, 2).take();
    const footage = await makeVideo(toolchain, path.join(dir, 'footage.mp4'), { width: 640, height: 360, seconds: 2, audio: true });
    const jobs = [
      { model: 'wan2.7-t2v', request: { prompt: 'dusk', size: '1920*1080', duration: 3, watermark: true }, files: {} },
      { model: 'wan2.7-videoedit', request: { prompt: 'vintage', video_url: 'https://m.test/f.mp4', resolution: '720P' }, files: { video_url: footage } },
    ] as const;
    for (const { model, request, files } of jobs) {
      const outputs: Buffer[] = [];
      for (const [engine, expected] of [
        [confined, { policy: schedIdle, niceness: 19, cpus: share.cpus ?? allowed }],
        [free, { policy: schedOther, niceness: 10, cpus: allowed }],
      ] as const) {
        const job = engineJob(model, { seed: 11, ...request }, { workDir: await mkdtemp(path.join(dir, 'job-')), files });
        const operation = await engine.start(job);
        const seen = await runningFfmpeg();
        assert.deepEqual(seen, expected, `${model}: how ffmpeg runs`);
        const status = await waitForEnd(engine, operation, job, 60_000);
        assert.equal(status.state, 'succeeded', status.state === 'failed' ? status.error.message : '');
        if (status.state === 'succeeded') outputs.push(await readFile(status.videos[0].path));
      }
      assert.ok(outputs[0].equals(outputs[1]), `${model}: the same bytes under either budget`);
    }
  });
});

/** Scheduling policies as /proc/<pid>/stat field 41 shows them (sched.h). */
const schedOther = 0;
const schedIdle = 5;

/** How the ffmpeg this process runs is scheduled, read from /proc as soon as it runs. */
async function runningFfmpeg(): Promise<{ policy: number; niceness: number; cpus: readonly number[] | undefined }> {
  for (;;) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (!stat.includes('(ffmpeg)') || Number(fields[1]) !== process.pid) continue;
        const cpus = parseCpuList(/^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))![1]);
        return { policy: Number(fields[41 - 3]), niceness: Number(fields[19 - 3]), cpus };
      } catch {
        // It ended while we looked.
      }
    }
    await sleep(5);
  }
}
