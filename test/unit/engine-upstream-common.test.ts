import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { estimateProgress, expectedRunMs } from '../../src/engines/upstream/progress-estimate.js';
import { ProgressFloor } from '../../src/engines/upstream/progress-floor.js';
import { mirrorResults } from '../../src/engines/upstream/result-mirror.js';
import { Semaphore } from '../../src/engines/upstream/semaphore.js';
import { upstreamSettings } from '../../src/engines/upstream/upstream-engine-options.js';
import { withUpstreamMediaUrls } from '../../src/engines/upstream/upstream-media.js';
import { readUpstreamOperation } from '../../src/engines/upstream/upstream-operation.js';
import { modelById, modelIds } from '../../src/models/registry.js';
import type { ModelId } from '../../src/models/model.js';
import { validateRequest } from '../../src/models/validate-request.js';
import { ApiError } from '../../src/spec/api-error.js';
import type { EngineJob } from '../../src/spec/engine.js';
import { tempDir } from '../support/temp-dir.js';

function job(model: ModelId, body: Record<string, unknown>, workDir = '/nonexistent'): EngineJob {
  return { taskId: 'task-1', model, request: validateRequest(modelById(model), body), seed: 7, media: {}, workDir };
}

describe('semaphore', () => {
  test('runs at most `limit` tasks at once, the others in arrival order', async () => {
    const semaphore = new Semaphore(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        semaphore.run(async () => {
          started.push(index);
          running++;
          most = Math.max(most, running);
          await sleep(2);
          running--;
        }),
      ),
    );
    assert.equal(most, 3);
    assert.deepEqual(started, Array.from({ length: 20 }, (_, index) => index));
    assert.equal(semaphore.active, 0);
    assert.equal(semaphore.queued, 0);
  });

  test('a task that throws frees its place', async () => {
    const semaphore = new Semaphore(1);
    await assert.rejects(semaphore.run(async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await semaphore.run(async () => 'next'), 'next');
    assert.equal(semaphore.active, 0);
  });

  test('a limit below 1 is refused', () => {
    assert.throws(() => new Semaphore(0), RangeError);
    assert.throws(() => new Semaphore(1.5), RangeError);
  });
});

describe('media URLs for the upstream', () => {
  test('every media URL of the request goes through the hook, by its field path; the job is unchanged', async () => {
    const r2v = job('wan2.7-r2v', {
      prompt: 'character1 meets character2',
      media: [
        { type: 'reference_image', url: 'https://ours.example/a.png', reference_voice: 'https://ours.example/a.mp3' },
        { type: 'reference_video', url: 'https://public.example/b.mp4' },
      ],
    });
    const seen: string[] = [];
    const request = await withUpstreamMediaUrls(r2v, (field, url) => {
      seen.push(field);
      return url.replace('https://ours.example/', 'https://cdn.example/');
    });
    assert.deepEqual(seen, ['media[0].url', 'media[0].reference_voice', 'media[1].url']);
    assert.deepEqual(request.media, [
      { type: 'reference_image', url: 'https://cdn.example/a.png', reference_voice: 'https://cdn.example/a.mp3' },
      { type: 'reference_video', url: 'https://public.example/b.mp4' },
    ]);
    assert.equal((r2v.request.media as { url: string }[])[0].url, 'https://ours.example/a.png');
  });

  test('top-level fields, and an async hook', async () => {
    const i2v = job('wan2.7-i2v', { image_url: 'https://a.example/1.png', driving_audio_url: 'https://a.example/2.mp3' });
    const request = await withUpstreamMediaUrls(i2v, async (field) => `https://b.example/${field}`);
    assert.equal(request.image_url, 'https://b.example/image_url');
    assert.equal(request.driving_audio_url, 'https://b.example/driving_audio_url');
  });

  test('an ApiError thrown by the hook comes out as it is', async () => {
    const t2v = job('wan2.7-t2v', { prompt: 'x', audio_url: 'https://ours.example/a.mp3' });
    const refusal = new ApiError(400, 'INVALID_REQUEST_BODY', 'audio_url: this file cannot be handed to the upstream', { field: 'audio_url' });
    await assert.rejects(
      withUpstreamMediaUrls(t2v, () => {
        throw refusal;
      }),
      (error) => error === refusal,
    );
  });
});

describe('result mirroring', () => {
  const root = tempDir('wan-mirror-');

  test('each video lands in workDir as result-N.mp4; asking again downloads nothing', async () => {
    const downloads: string[] = [];
    const download = async (url: string, file: string) => {
      downloads.push(url);
      await writeFile(file, `bytes of ${url}`);
    };
    const first = await mirrorResults('dashscope', ['https://x.example/1', 'https://x.example/2'], root, download);
    assert.deepEqual(first, [
      { path: path.join(root, 'result-0.mp4'), type: 'mp4' },
      { path: path.join(root, 'result-1.mp4'), type: 'mp4' },
    ]);
    assert.equal(await readFile(first[1].path, 'utf8'), 'bytes of https://x.example/2');
    const second = await mirrorResults('dashscope', ['https://x.example/1', 'https://x.example/2'], root, download);
    assert.deepEqual(second, first);
    assert.equal(downloads.length, 2);
  });

  test('a failed download fails the task with TASK_FAILED naming why, and leaves no partial file', async () => {
    const workDir = path.join(root, 'failing');
    await import('node:fs/promises').then((fs) => fs.mkdir(workDir));
    const error = await mirrorResults('novita', ['https://x.example/v'], workDir, async (_url, file) => {
      await writeFile(file, 'half a vid');
      throw new Error('the file is larger than 500 MB');
    }).catch((caught: unknown) => caught);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 500);
    assert.equal(error.reason, 'TASK_FAILED');
    assert.match(error.message, /novita upstream finished the video, but it could not be downloaded.*larger than 500 MB/);
    assert.deepEqual(await readdir(workDir), []);
  });
});

describe('progress estimate', () => {
  const expected = 100_000;

  test('queued reads 0 to 5 %, running 5 to 95 %, growing with time', () => {
    let last = -1;
    for (const elapsed of [0, 10_000, 50_000, 100_000, 1_000_000]) {
      const { progressPercent } = estimateProgress('queued', elapsed, expected);
      assert.ok(progressPercent >= 0 && progressPercent <= 5 && progressPercent >= last);
      last = progressPercent;
    }
    last = 5;
    for (const elapsed of [0, 10_000, 50_000, 100_000, 200_000, 10_000_000]) {
      const { progressPercent } = estimateProgress('running', elapsed, expected);
      assert.ok(progressPercent >= last && progressPercent <= 95, `${progressPercent} at ${elapsed}`);
      last = progressPercent;
    }
    assert.equal(estimateProgress('running', 10_000_000, expected).progressPercent, 95);
  });

  test('running always reads at least what queued read at the same age', () => {
    for (const elapsed of [0, 1000, 60_000, 500_000]) {
      assert.ok(estimateProgress('running', elapsed, expected).progressPercent >= estimateProgress('queued', elapsed, expected).progressPercent);
    }
  });

  test('the ETA counts down to 0', () => {
    assert.equal(estimateProgress('running', 40_000, expected).etaSeconds, 60);
    assert.equal(estimateProgress('running', 400_000, expected).etaSeconds, 0);
  });

  test('a task is expected to take longer the longer its video and at 1080P', () => {
    assert.equal(expectedRunMs({ duration: 5, size: '1280*720' }), 160_000);
    assert.equal(expectedRunMs({ duration: 5, size: '1920*1080' }), 240_000);
    assert.equal(expectedRunMs({ duration: 10, resolution: '720P' }), 260_000);
    assert.equal(expectedRunMs({ duration: 0, resolution: '720P' }), 260_000, 'videoedit keeping the input length: its longest');
  });

  test('the floor keeps a report from going back, per task, until forgotten', () => {
    const floor = new ProgressFloor();
    assert.equal(floor.raise('a', 40), 40);
    assert.equal(floor.raise('a', 5), 40);
    assert.equal(floor.raise('b', 5), 5);
    floor.forget('a');
    assert.equal(floor.raise('a', 5), 5);
    floor.forget('a');
    floor.forget('b');
    assert.equal(floor.size, 0);
  });
});

describe('upstream operation and settings', () => {
  test('only a well-formed operation of the same engine is read', () => {
    const good = { engine: 'dashscope', upstreamTaskId: 'abc', acceptedAt: 1_700_000_000_000, expectedRunMs: 160_000, warnings: ['w'] };
    assert.deepEqual(readUpstreamOperation(good, 'dashscope'), good);
    assert.equal(readUpstreamOperation(good, 'novita'), undefined);
    for (const bad of [{}, { ...good, upstreamTaskId: '' }, { ...good, upstreamTaskId: 7 }, { ...good, acceptedAt: 'x' }, { ...good, acceptedAt: null }]) {
      assert.equal(readUpstreamOperation(bad, 'dashscope'), undefined, JSON.stringify(bad));
    }
  });

  test('an operation saved before run times and warnings were kept is followed with the longest estimate and no warnings', () => {
    const old = readUpstreamOperation({ engine: 'dashscope', upstreamTaskId: 'abc', acceptedAt: 1 }, 'dashscope');
    assert.deepEqual(old?.warnings, []);
    assert.equal(old?.expectedRunMs, expectedRunMs(job('wan2.7-t2v', { prompt: 'p', size: '1920*1080', duration: 15 }).request));
  });

  const defaults = { kind: 'up', name: 'up', baseUrl: 'https://up.example', models: modelIds, requiresApiKey: true, suggestedPollMs: 15_000 };
  const download = async () => {};

  test('defaults: capacity 1000, 32 requests at once, 30 s timeout, polling from 2 s to the suggested interval', () => {
    const settings = upstreamSettings({ apiKey: 'k', downloadResult: download }, defaults);
    assert.equal(settings.capacity, 1000);
    assert.equal(settings.maxConcurrentRequests, 32);
    assert.equal(settings.requestTimeoutMs, 30_000);
    assert.deepEqual(settings.poll, { initialMs: 2000, maxMs: 15_000, jitter: 0.2 });
    assert.equal(settings.name, 'up');
    assert.deepEqual(settings.models, modelIds);
  });

  test('a missing key, a base URL that is not http(s), or a nonsense number are refused, without echoing the key', () => {
    assert.throws(() => upstreamSettings({ apiKey: '', downloadResult: download }, defaults), /needs an API key/);
    assert.throws(() => upstreamSettings({ apiKey: 'k', baseUrl: 'ftp://x', downloadResult: download }, defaults), /http\(s\) base URL/);
    assert.throws(() => upstreamSettings({ apiKey: 'k', capacity: 0, downloadResult: download }, defaults), /capacity/);
    assert.throws(() => upstreamSettings({ apiKey: 'k', models: [], downloadResult: download }, defaults), /carries out no model/);
    assert.equal(upstreamSettings({ downloadResult: download }, { ...defaults, requiresApiKey: false }).apiKey, undefined, 'a GPU server needs no key');
    assert.throws(() => upstreamSettings({ apiKey: 'secret-k', poll: { jitter: 1 }, downloadResult: download }, defaults), (error: Error) => {
      return /jitter/.test(error.message) && !error.message.includes('secret-k');
    });
  });
});
