import { modelIds } from '../../models/registry.js';
import { DashScopeEngine, dashScopeDefaults } from '../dashscope/dashscope-engine.js';
import { NovitaEngine, novitaDefaults } from '../novita/novita-engine.js';
import type { UpstreamEngineOptions } from '../upstream/upstream-engine-options.js';
import type { EngineKind, KindContext } from './engine-kind.js';
import type { EngineSettings } from './engine-settings.js';

/**
 * The clouds that run Wan 2.7 itself: Alibaba Cloud Model Studio (`dashscope`) and any provider
 * of this same API (`novita`: novita.ai, its resellers). Several instances of one kind (two
 * resellers, two regions) can be routed in one failover list.
 */
const cloudFields = ['base_url', 'api_key', 'capacity', 'models'] as const;

function cloudOptions(settings: EngineSettings, context: KindContext, defaultBaseUrl: string): UpstreamEngineOptions {
  const baseUrl = settings.url('base_url', defaultBaseUrl);
  return {
    name: settings.engine,
    baseUrl,
    apiKey: settings.requiredString('api_key', 'the API key at the provider'),
    capacity: settings.integer('capacity', { minimum: 1, maximum: 100_000 }, context.config.upstream_capacity),
    models: settings.models(modelIds),
    downloadResult: context.downloaderFor(baseUrl),
    mediaUrl: context.mediaUrl,
    observer: context.upstreamObserver,
  };
}

export const cloudKinds: Record<'dashscope' | 'novita', EngineKind> = {
  dashscope: {
    fields: cloudFields,
    build: (settings, context) => new DashScopeEngine(cloudOptions(settings, context, dashScopeDefaults.baseUrl)),
  },
  novita: {
    fields: cloudFields,
    build: (settings, context) => new NovitaEngine(cloudOptions(settings, context, novitaDefaults.baseUrl)),
  },
};
