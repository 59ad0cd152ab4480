import { ConfigError, type Config } from '../config.js';
import type { FfmpegToolchain } from '../media/ffmpeg-binaries.js';
import type { Engine } from '../spec/engine.js';
import { DashScopeEngine } from './dashscope/dashscope-engine.js';
import { EngineRegistry } from './engine-registry.js';
import { NovitaEngine } from './novita/novita-engine.js';
import { PreviewEngine } from './preview/preview-engine.js';
import { parseRoutes } from './routes.js';
import type { ResultDownloader } from './upstream/result-mirror.js';
import type { MediaUrlMapper } from './upstream/upstream-media.js';

export interface EngineWiring {
  toolchain: FfmpegToolchain;
  /** How upstream engines bring finished videos home (the SSRF guard, size-capped). */
  downloadResult: ResultDownloader;
  /** What upstream engines send for each input URL (uploads need a reachable public URL). */
  mediaUrl: MediaUrlMapper;
}

/**
 * The engines the config asks for: the preview renderer always (the default route), and each
 * cloud whose API key is set, routed as `routes` says.
 */
export function configuredEngines(config: Config, wiring: EngineWiring): { engines: Engine[]; registry: EngineRegistry } {
  const upstream = { capacity: config.upstream_capacity, downloadResult: wiring.downloadResult, mediaUrl: wiring.mediaUrl };
  const engines: Engine[] = [new PreviewEngine({ toolchain: wiring.toolchain, frameRate: config.frame_rate, capacity: config.worker_concurrency })];
  if (config.dashscope_api_key) engines.push(new DashScopeEngine({ ...upstream, apiKey: config.dashscope_api_key, baseUrl: config.dashscope_base_url }));
  if (config.novita_api_key) engines.push(new NovitaEngine({ ...upstream, apiKey: config.novita_api_key, baseUrl: config.novita_base_url }));
  return { engines, registry: registryFor(config, engines) };
}

/** The routes of the config over `engines`, with a message that says which key is missing. */
export function registryFor(config: Config, engines: Engine[]): EngineRegistry {
  let routes;
  try {
    routes = parseRoutes(config.routes);
  } catch (error) {
    throw new ConfigError(`routes: ${(error as Error).message}`);
  }
  const known = new Set(engines.map((engine) => engine.name));
  const keyOf: Record<string, string> = { dashscope: 'dashscope_api_key', novita: 'novita_api_key' };
  for (const name of new Set(Object.values(routes).flat())) {
    if (known.has(name)) continue;
    throw new ConfigError(
      keyOf[name]
        ? `routes names the ${name} engine, which needs ${keyOf[name]} to be set`
        : `routes names an engine "${name}"; the engines are ${[...known].join(', ')}`,
    );
  }
  return new EngineRegistry(engines, engines[0].name, routes);
}
