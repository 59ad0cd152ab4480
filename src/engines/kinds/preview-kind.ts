import { PreviewEngine } from '../preview/preview-engine.js';
import type { RenderPriority } from '../preview/render-priority.js';
import type { EngineKind } from './engine-kind.js';

/**
 * The local renderer. There is one, named `preview`, always present as the default route; an
 * entry of that name only changes its capacity (by default `worker_concurrency`).
 */
export const previewKind: EngineKind = {
  fields: ['capacity'],
  build(settings, { config, toolchain }) {
    if (settings.engine !== 'preview') settings.fail('kind', 'the preview engine is built in under the name "preview"; no other engine can be of its kind');
    const capacity = settings.integer('capacity', { minimum: 0, maximum: 256 }, config.worker_concurrency);
    return new PreviewEngine({
      toolchain,
      frameRate: config.frame_rate,
      capacity,
      priority: config.render_priority as RenderPriority,
      renderThreads: config.render_threads,
      // The worker runs at most worker_concurrency tasks, whatever the engine's capacity.
      rendersAtOnce: Math.min(capacity, config.worker_concurrency),
    });
  },
};
