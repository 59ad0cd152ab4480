import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config.js';
import type { ModelId, ModelRequest } from '../../src/models/model.js';
import type { Engine } from '../../src/spec/engine.js';
import type { TaskRecord } from '../../src/spec/task-store.js';
import { TaskStatus } from '../../src/spec/task-status.js';
import { PriceTable } from '../../src/usage/price-table.js';
import { usageMeter } from '../../src/usage/usage-meter.js';
import { ApiError } from '../../src/spec/api-error.js';

const prices = PriceTable.fromConfig(undefined, 'USD');

function task(model: ModelId, request: ModelRequest): TaskRecord {
  return {
    id: 't', keyId: 'k', model, status: TaskStatus.Processing, request, seed: 1, engine: null, operation: null, progressPercent: 0, etaSeconds: 0,
    error: null, results: [], resultsExpiredAt: null, extra: {}, usage: null, webhookUrl: null, attempts: 1, leaseOwner: 'w', leaseExpiresAt: 0,
    createdAt: 0, startedAt: 0, completedAt: null, version: 1,
  };
}

function engine(kind: string, name = kind): Engine {
  return { name, kind } as Engine;
}

const succeeded = (extra: Record<string, unknown> = {}) => ({ state: 'succeeded' as const, videos: [{ path: '/tmp/out.mp4', type: 'mp4' as const }], extra });

describe('price table', () => {
  it('defaults to $0.10/s at 720P and $0.15/s at 1080P for every model', () => {
    for (const model of ['wan2.7-t2v', 'wan2.7-i2v', 'wan2.7-r2v', 'wan2.7-videoedit'] as const) {
      assert.equal(prices.perSecond(model, '720P'), 0.1);
      assert.equal(prices.perSecond(model, '1080P'), 0.15);
    }
  });

  it('takes tier prices for every model and a model’s own over them', () => {
    const table = PriceTable.fromConfig({ '720P': 0.05, 'wan2.7-r2v': { '1080P': 0.3 } }, 'EUR');
    assert.equal(table.perSecond('wan2.7-t2v', '720P'), 0.05);
    assert.equal(table.perSecond('wan2.7-t2v', '1080P'), 0.15);
    assert.equal(table.perSecond('wan2.7-r2v', '720P'), 0.05);
    assert.equal(table.perSecond('wan2.7-r2v', '1080P'), 0.3);
    assert.equal(table.currency, 'EUR');
  });

  it('refuses unknown keys, unknown tiers and bad prices, naming them', () => {
    const refused = (setting: Record<string, unknown>, words: string[]) =>
      assert.throws(() => PriceTable.fromConfig(setting, 'USD'), (error: Error) => error instanceof ConfigError && words.every((word) => error.message.includes(word)), JSON.stringify(setting));
    refused({ '4K': 1 }, ['"4K"', '720P', 'wan2.7-t2v']);
    refused({ 'wan2.7-t2v': { '480P': 1 } }, ['prices.wan2.7-t2v', '"480P"']);
    refused({ '1080P': -1 }, ['prices.1080P', '-1']);
    refused({ 'wan2.7-i2v': { '720P': 'cheap' } }, ['prices.wan2.7-i2v.720P', 'cheap']);
    refused({ 'wan2.7-i2v': 3 }, ['prices.wan2.7-i2v', '3']);
  });
});

describe('usage meter', () => {
  const meter = usageMeter({ prices, videoSeconds: async () => 7.4 });

  it('bills the requested output seconds at the tier of the size, the list price on a cloud', async () => {
    const usage = await meter(task('wan2.7-t2v', { prompt: 'p', size: '1920*1080', duration: 5 }), { engine: engine('dashscope'), startedAt: 0, status: succeeded() });
    assert.deepEqual(usage, {
      model: 'wan2.7-t2v', engine: 'dashscope', billedSeconds: 5, outputSeconds: 5, inputSeconds: 0, resolution: '1080P', audio: false,
      listPrice: 0.75, cost: 0.75, currency: 'USD',
    });
  });

  it('records the would-be cost of a preview task and bills 0', async () => {
    const usage = await meter(task('wan2.7-i2v', { prompt: 'p', resolution: '720P', duration: 4, image_url: 'x' }), { engine: engine('preview'), startedAt: 0, status: succeeded() });
    assert.equal(usage?.listPrice, 0.4);
    assert.equal(usage?.cost, 0);
    assert.equal(usage?.resolution, '720P');
  });

  it('bills input plus output seconds of an edit on a cloud that bills them, its own report first', async () => {
    const edit = task('wan2.7-videoedit', { prompt: 'p', video_url: 'x', resolution: '720P', duration: 0 });
    const reported = await meter(edit, { engine: engine('dashscope'), startedAt: 0, status: succeeded({ usage: { input_video_duration: 8, output_video_duration: 8 } }) });
    assert.deepEqual([reported?.inputSeconds, reported?.outputSeconds, reported?.billedSeconds, reported?.cost], [8, 8, 16, 1.6]);
    const measured = await meter(edit, { engine: engine('novita'), startedAt: 0, status: succeeded() });
    assert.deepEqual([measured?.inputSeconds, measured?.outputSeconds, measured?.billedSeconds], [7, 7, 14], 'kept its input length: the result measured, in whole seconds');
    const local = await meter(edit, { engine: engine('comfyui'), startedAt: 0, status: succeeded() });
    assert.deepEqual([local?.inputSeconds, local?.billedSeconds], [0, 7], 'a GPU of ours bills its output only');
    const continuation = await meter(task('wan2.7-i2v', { prompt: 'p', first_clip_url: 'x', duration: 5 }), {
      engine: engine('dashscope'),
      startedAt: 0,
      status: succeeded({ usage: { input_video_duration: '3' } }),
    });
    assert.deepEqual([continuation?.inputSeconds, continuation?.billedSeconds, continuation?.resolution], [3, 8, '1080P']);
  });

  it('marks audio: r2v unless turned off, others when given an audio track', async () => {
    const withAudio = async (model: ModelId, request: ModelRequest) => (await meter(task(model, request), { engine: engine('novita'), startedAt: 0, status: succeeded() }))?.audio;
    assert.equal(await withAudio('wan2.7-r2v', { prompt: 'p', size: '1280*720', duration: 2 }), true);
    assert.equal(await withAudio('wan2.7-r2v', { prompt: 'p', size: '1280*720', duration: 2, audio: false }), false);
    assert.equal(await withAudio('wan2.7-t2v', { prompt: 'p', size: '1280*720', duration: 2, audio_url: 'x' }), true);
    assert.equal(await withAudio('wan2.7-i2v', { prompt: 'p', image_url: 'x', duration: 2, driving_audio_url: 'x' }), true);
  });

  it('records nothing for a failed task: it bills nothing', async () => {
    const failed = { state: 'failed' as const, error: new ApiError(500, 'TASK_FAILED', 'x') };
    assert.equal(await meter(task('wan2.7-t2v', { prompt: 'p', duration: 5 }), { engine: engine('dashscope'), startedAt: 0, status: failed }), null);
  });
});
