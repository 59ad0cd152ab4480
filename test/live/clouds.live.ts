/**
 * Live calls to real clouds: one short 720P t2v task per engine whose key is in the environment,
 * followed to its end, its video brought home and checked with ffprobe. Costs money, so it is
 * never part of `npm test` or CI; run it by hand:
 *
 *   WAN_LIVE_DASHSCOPE_API_KEY=sk-… [WAN_LIVE_DASHSCOPE_BASE_URL=https://dashscope-intl.aliyuncs.com] \
 *   WAN_LIVE_NOVITA_API_KEY=… [WAN_LIVE_NOVITA_BASE_URL=https://api.novita.ai] npm run test:live
 *
 * It refuses to start without at least one key, rather than passing having done nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DashScopeEngine } from '../../src/engines/dashscope/dashscope-engine.js';
import { NovitaEngine } from '../../src/engines/novita/novita-engine.js';
import type { UpstreamEngineOptions } from '../../src/engines/upstream/upstream-engine-options.js';
import { resolveFfmpeg } from '../../src/media/ffmpeg-binaries.js';
import { probeMedia } from '../../src/media/probe.js';
import { AddressPolicy } from '../../src/net/address-policy.js';
import { GuardedDownloader } from '../../src/net/guarded-downloader.js';
import type { Engine, EngineJob } from '../../src/spec/engine.js';
import { waitForEnd } from '../support/engine-conformance.js';

const environment = process.env;
const downloader = new GuardedDownloader({ policy: new AddressPolicy() });
const common = (apiKey: string): UpstreamEngineOptions => ({
  apiKey,
  downloadResult: async (url, file, options) => void (await downloader.download(url, file, { maxBytes: 1 << 30, ...options })),
});
const engines: Engine[] = [
  ...(environment.WAN_LIVE_DASHSCOPE_API_KEY
    ? [new DashScopeEngine({ ...common(environment.WAN_LIVE_DASHSCOPE_API_KEY), baseUrl: environment.WAN_LIVE_DASHSCOPE_BASE_URL || undefined })]
    : []),
  ...(environment.WAN_LIVE_NOVITA_API_KEY
    ? [new NovitaEngine({ ...common(environment.WAN_LIVE_NOVITA_API_KEY), baseUrl: environment.WAN_LIVE_NOVITA_BASE_URL || undefined })]
    : []),
];
if (engines.length === 0) throw new Error('set WAN_LIVE_DASHSCOPE_API_KEY and/or WAN_LIVE_NOVITA_API_KEY to run the live tests');
const toolchain = await resolveFfmpeg();

for (const engine of engines) {
  test(`${engine.name}: a 2 s 720P t2v is generated, brought home and is the size asked for`, { timeout: 20 * 60_000 }, async () => {
    const job: EngineJob = {
      taskId: `live-${Date.now()}`,
      model: 'wan2.7-t2v',
      request: { prompt: 'A paper boat drifting down a rainy street', size: '1280*720', duration: 2, prompt_extend: false, watermark: false },
      seed: 42,
      media: {},
      workDir: await mkdtemp(path.join(tmpdir(), `wan-live-${engine.name}-`)),
    };
    const operation = await engine.start(job);
    const last = await waitForEnd(engine, operation, job, 19 * 60_000);
    assert.equal(last.state, 'succeeded', JSON.stringify(last));
    if (last.state !== 'succeeded') return;
    const info = await probeMedia(toolchain, last.videos[0].path);
    assert.deepEqual([info.video?.width, info.video?.height], [1280, 720]);
    assert.ok(last.extra.usage, 'usage recorded');
  });
}
