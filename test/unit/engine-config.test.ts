import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { defaultWorkflowDirectory } from '../../src/engines/comfyui/comfyui-workflow.js';
import { configuredEngines } from '../../src/engines/configured-engines.js';
import { engineResultDownloader } from '../../src/engines/engine-network.js';
import { unchangedMediaUrl } from '../../src/engines/upstream/upstream-media.js';
import { testToolchain } from '../support/media-fixtures.js';
import { startStubServer } from '../support/stub-api-server.js';
import { tempDir } from '../support/temp-dir.js';

const toolchain = await testToolchain();

function build(settings: Record<string, unknown>) {
  const flags = Object.fromEntries(Object.entries(settings).map(([key, value]) => [key, typeof value === 'object' ? JSON.stringify(value) : String(value)]));
  return configuredEngines(loadConfig({ flags }), { toolchain, mediaUrl: unchangedMediaUrl });
}

function refused(settings: Record<string, unknown>, message: RegExp): void {
  assert.throws(() => build(settings), (error: Error) => {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${error}`);
    assert.match(error.message, message);
    return true;
  });
}

const gpuT2v = { kind: 'openai-videos', base_url: 'http://gpu1:8091/v1', api_key: 'k', model: 'Wan-AI/Wan2.2-T2V-A14B-Diffusers', capacity: 4 };

describe('the engines setting', () => {
  test('a JSON object from a flag, the environment or the config file (where it may be the object itself)', () => {
    const engines = { 'gpu-t2v': gpuT2v };
    assert.deepEqual(loadConfig({ flags: { engines: JSON.stringify(engines) } }).engines, engines);
    assert.deepEqual(loadConfig({ env: { WAN_ENGINES: JSON.stringify(engines) } }).engines, engines);
    const file = path.join(tempDir(), 'wan.json');
    writeFileSync(file, JSON.stringify({ engines }));
    assert.deepEqual(loadConfig({ file }).engines, engines);
    assert.throws(() => loadConfig({ env: { WAN_ENGINES: '{gpu' } }), /WAN_ENGINES is not JSON .*use a JSON object/);
    assert.throws(() => loadConfig({ flags: { engines: '[1]' } }), /--engines must be a JSON object/);
  });

  test('instances of every kind, the shorthands, and two providers of one API in one failover route', () => {
    const { engines, registry } = build({
      engines: {
        'gpu-t2v': gpuT2v,
        comfy: { kind: 'comfyui', base_url: 'http://gpu2:8188' },
        highway: { kind: 'novita', base_url: 'https://api.highway.example', api_key: 'h', models: ['wan2.7-r2v'] },
      },
      novita_api_key: 'n',
      dashscope_api_key: 'd',
      routes: 'wan2.7-t2v=gpu-t2v,dashscope;wan2.7-r2v=novita,highway;wan2.7-i2v=comfy',
    });
    assert.deepEqual([engines[0].name, engines[0].capacity], ['preview', 2], 'the preview renderer first, at worker_concurrency');
    assert.deepEqual(
      engines.slice(1).map((engine) => [engine.name, engine.kind, engine.capacity]),
      [
        ['dashscope', 'dashscope', 1000],
        ['novita', 'novita', 1000],
        ['gpu-t2v', 'openai-videos', 4],
        ['comfy', 'comfyui', 1],
        ['highway', 'novita', 1000],
      ],
    );
    assert.deepEqual(engines.find((engine) => engine.name === 'gpu-t2v')!.models, ['wan2.7-t2v']);
    assert.deepEqual(engines.find((engine) => engine.name === 'comfy')!.models, ['wan2.7-t2v', 'wan2.7-i2v', 'wan2.7-r2v', 'wan2.7-videoedit']);
    assert.deepEqual(registry.enginesFor('wan2.7-r2v').map((engine) => engine.name), ['novita', 'highway']);
    assert.deepEqual(registry.enginesFor('wan2.7-videoedit').map((engine) => engine.name), ['preview']);
    assert.ok(engines.every((engine) => engine.survivesRestart === (engine.name !== 'preview')));
  });

  test('bad configuration is refused with the engine and the field', () => {
    refused({ engines: { gpu: { base_url: 'http://x' } } }, /^engines\.gpu\.kind: missing: one of preview, dashscope, novita, openai-videos, comfyui$/);
    refused({ engines: { gpu: { kind: 'vllm' } } }, /^engines\.gpu\.kind: "vllm" is no kind of engine; the kinds are preview, dashscope/);
    refused({ engines: { gpu: { kind: 'openai-videos', model: 'Wan-AI/Wan2.2-T2V-A14B-Diffusers' } } }, /^engines\.gpu\.base_url: missing/);
    refused({ engines: { gpu: { ...gpuT2v, base_url: 'gpu1:8091' } } }, /^engines\.gpu\.base_url: .*not an http\(s\) URL|^engines\.gpu\.base_url: "gpu1:8091"/);
    refused({ engines: { gpu: { ...gpuT2v, base_url: 'http://user:pw@gpu1/v1' } } }, /^engines\.gpu\.base_url: must not carry a user name or password/);
    refused({ engines: { gpu: { ...gpuT2v, capacity: 0 } } }, /^engines\.gpu\.capacity: use a whole number from 1 to 10000, got 0$/);
    refused({ engines: { gpu: { ...gpuT2v, bas_url: 'x' } } }, /^engines\.gpu\.bas_url: unknown field for an engine of kind openai-videos; its fields are kind, base_url/);
    refused({ engines: { gpu: { kind: 'openai-videos', base_url: 'http://gpu1/v1' } } }, /^engines\.gpu\.models: say what the server runs/);
    refused({ engines: { gpu: { kind: 'openai-videos', base_url: 'http://gpu1/v1', model: 'acme/video' } } }, /^engines\.gpu\.models: "acme\/video" is no Wan checkpoint known here/);
    refused({ engines: { gpu: { ...gpuT2v, models: ['wan2.7-r2v'] } } }, /^engines\.gpu\.models: wan2\.7-r2v cannot be carried out here; this engine can do wan2\.7-t2v$/);
    refused({ engines: { gpu: { ...gpuT2v, models: ['wan2.7-t2x'] } } }, /^engines\.gpu\.models: "wan2\.7-t2x" is not a model/);
    refused({ engines: { gpu: { ...gpuT2v, sizes: ['big'] } } }, /^engines\.gpu\.sizes: "big" is not a size such as 1280\*720$/);
    refused({ engines: { gpu: { ...gpuT2v, max_frames: 80 } } }, /^engines\.gpu\.max_frames: Wan makes 4k\+1 frames/);
    refused({ engines: { 'gpu t2v': gpuT2v } }, /^engines\.gpu t2v: an engine's name is made of letters/);
    refused({ engines: { gpu: 'openai-videos' } }, /^engines\.gpu: use an object such as/);
    refused({ engines: { cloud: { kind: 'dashscope' } } }, /^engines\.cloud\.api_key: missing: the API key at the provider$/);
    refused({ engines: { local: { kind: 'preview' } } }, /^engines\.local\.kind: the preview engine is built in under the name "preview"/);
    refused({ engines: { novita: { kind: 'novita', api_key: 'x' } }, novita_api_key: 'n' }, /^engines\.novita: the name is taken by novita_api_key/);
    refused({ engines: { comfy: { kind: 'comfyui', base_url: 'http://gpu2:8188', workflows: { t2x: '/x.json' } } } }, /^engines\.comfy\.workflows\.t2x: no such workflow; the workflows are t2v, i2v, flf2v, s2v, r2v, videoedit$/);
  });

  test('a ComfyUI workflow that lacks a needed placeholder is refused at start, naming the engine, the workflow and the placeholder', () => {
    const t2v = JSON.parse(readFileSync(path.join(defaultWorkflowDirectory, 'wan2.2-t2v-a14b.json'), 'utf8'));
    for (const node of Object.values(t2v) as { inputs: Record<string, unknown> }[]) {
      if (node.inputs.length === '{{length}}') node.inputs.length = 81;
    }
    const file = path.join(tempDir(), 'my-t2v.json');
    writeFileSync(file, JSON.stringify(t2v));
    refused({ engines: { comfy: { kind: 'comfyui', base_url: 'http://gpu2:8188', workflows: { t2v: file } } } }, /^engines\.comfy\.workflows\.t2v: .*my-t2v\.json lacks \{\{length\}\}, which a t2v workflow needs$/);
    refused({ engines: { comfy: { kind: 'comfyui', base_url: 'http://gpu2:8188', workflows: { t2v: '/nonexistent/t2v.json' } } } }, /^engines\.comfy\.workflows\.t2v: cannot read the workflow/);
  });

  test('routes: an engine that does not exist, or cannot carry out the model it is routed, stops the start', () => {
    refused({ engines: { 'gpu-t2v': gpuT2v }, routes: 'wan2.7-r2v=gpu-t2v' }, /^routes: wan2\.7-r2v goes to gpu-t2v, which cannot carry it out: that openai-videos engine serves wan2\.7-t2v$/);
    refused({ engines: { 'gpu-t2v': gpuT2v }, routes: '*=gpu-t2v' }, /^routes: wan2\.7-i2v goes to gpu-t2v, which cannot carry it out/);
    refused({ routes: 'wan2.7-t2v=gpu' }, /^routes names an engine "gpu"; the engines are preview$/);
    refused({ routes: 'wan2.7-t2v=dashscope' }, /^routes names the dashscope engine, which needs dashscope_api_key to be set \(or an entry "dashscope" in engines\)$/);
  });
});

describe('a network policy per engine', () => {
  test('an engine\'s results may come from its own base_url host; user media and other engines keep the strict policy', async () => {
    const host = await startStubServer();
    host.script('GET /v1/videos/1/content', { headers: { 'content-type': 'video/mp4' }, body: 'mp4' });
    const config = loadConfig();
    const file = path.join(tempDir(), 'result.mp4');
    await engineResultDownloader(config, `${host.url}/v1`)(`${host.url}/v1/videos/1/content`, file, { headers: { authorization: 'Bearer k' } });
    assert.equal(readFileSync(file, 'utf8'), 'mp4');
    assert.equal(host.requestsTo('GET /v1/videos/1/content')[0].headers.authorization, 'Bearer k');
    await assert.rejects(engineResultDownloader(config, 'http://gpu.example:8091/v1')(`${host.url}/v1/videos/1/content`, file), /127\.0\.0\.1 is a loopback address/);
  });
});
