import path from 'node:path';
import type { ModelId } from '../../models/model.js';
import { modelIds } from '../../models/registry.js';
import { ComfyUiEngine } from '../comfyui/comfyui-engine.js';
import { defaultWorkflowDirectory, loadWorkflow, variants, type Variant, type Workflow } from '../comfyui/comfyui-workflow.js';
import { parseDimensions, wan14bProfile, type WanProfile } from '../open-wan/wan-profile.js';
import { OpenAiVideosEngine } from '../openai-videos/openai-videos-engine.js';
import { checkpointOf } from '../openai-videos/wan-checkpoints.js';
import type { EngineKind } from './engine-kind.js';
import type { EngineSettings } from './engine-settings.js';

/**
 * One's own GPUs running the open Wan models: a `/v1/videos` server (vLLM-Omni, SGLang
 * Diffusion) or a ComfyUI host. A GPU makes one video at a time, so each takes one task at
 * once unless `capacity` says more (more only wait in the server's queue, where failover can no
 * longer move them).
 */

const profileFields = ['fps', 'sizes', 'max_frames'] as const;

/** The checkpoint's frame rate, sizes and longest clip, as configured over `fallback`. */
function profileOf(settings: EngineSettings, fallback: WanProfile): WanProfile {
  const sizes = settings.stringList('sizes')?.map(
    (text) => parseDimensions(text) ?? settings.fail('sizes', `"${text}" is not a size such as 1280*720`),
  );
  const maxFrames = settings.integer('max_frames', { minimum: 5, maximum: 1025 });
  if (maxFrames !== undefined && (maxFrames - 1) % 4 !== 0) settings.fail('max_frames', `Wan makes 4k+1 frames (81, 121 …), got ${maxFrames}`);
  return {
    fps: settings.integer('fps', { minimum: 1, maximum: 60 }) ?? fallback.fps,
    sizes: sizes ?? fallback.sizes,
    maxFrames: maxFrames ?? fallback.maxFrames,
  };
}

export const openAiVideosKind: EngineKind = {
  fields: ['base_url', 'api_key', 'capacity', 'model', 'models', 'steps', ...profileFields],
  build(settings, context) {
    const baseUrl = settings.url('base_url');
    const model = settings.string('model');
    const checkpoint = model === undefined ? undefined : checkpointOf(model);
    let models: readonly ModelId[];
    if (checkpoint !== undefined) {
      models = settings.models(checkpoint.models);
    } else if (settings.has('models')) {
      models = settings.models(['wan2.7-t2v', 'wan2.7-i2v']);
    } else {
      models = settings.fail(
        'models',
        model === undefined
          ? 'say what the server runs: model (e.g. Wan-AI/Wan2.2-T2V-A14B-Diffusers) or models (e.g. ["wan2.7-t2v"])'
          : `"${model}" is no Wan checkpoint known here; say which models it serves, e.g. ["wan2.7-t2v"]`,
      );
    }
    return new OpenAiVideosEngine({
      name: settings.engine,
      baseUrl,
      apiKey: settings.string('api_key'),
      capacity: settings.integer('capacity', { minimum: 1, maximum: 10_000 }, 1),
      models,
      target: {
        model,
        profile: profileOf(settings, checkpoint?.profile ?? wan14bProfile),
        steps: settings.integer('steps', { minimum: 1, maximum: 200 }),
      },
      toolchain: context.toolchain,
      downloadResult: context.downloaderFor(baseUrl),
      observer: context.upstreamObserver,
    });
  },
};

export const comfyUiKind: EngineKind = {
  fields: ['base_url', 'api_key', 'capacity', 'models', 'workflows', ...profileFields],
  build(settings, context) {
    const baseUrl = settings.url('base_url');
    const given = settings.stringMap('workflows') ?? {};
    for (const name of Object.keys(given)) {
      if (!(name in variants)) settings.fail(`workflows.${name}`, `no such workflow; the workflows are ${Object.keys(variants).join(', ')}`);
    }
    const workflows: Partial<Record<Variant, Workflow>> = {};
    for (const [variant, { file }] of Object.entries(variants) as [Variant, { file: string }][]) {
      const chosen = given[variant] === undefined ? path.join(defaultWorkflowDirectory, file) : path.resolve(given[variant]);
      try {
        workflows[variant] = loadWorkflow(variant, chosen);
      } catch (error) {
        settings.fail(`workflows.${variant}`, (error as Error).message);
      }
    }
    return new ComfyUiEngine({
      name: settings.engine,
      baseUrl,
      apiKey: settings.string('api_key'),
      capacity: settings.integer('capacity', { minimum: 1, maximum: 10_000 }, 1),
      // A workflow of every variant is there (shipped or the operator's): every model can run.
      models: settings.models(modelIds),
      workflows,
      profile: profileOf(settings, wan14bProfile),
      toolchain: context.toolchain,
      downloadResult: context.downloaderFor(baseUrl),
      observer: context.upstreamObserver,
    });
  },
};
