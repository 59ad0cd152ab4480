import { ConfigError, type Config } from '../config.js';
import type { FfmpegToolchain } from '../media/ffmpeg-binaries.js';
import type { Engine } from '../spec/engine.js';
import type { UpstreamObserver } from '../spec/upstream-observer.js';
import { EngineRegistry } from './engine-registry.js';
import { engineResultDownloader } from './engine-network.js';
import { engineKinds } from './kinds/engine-kinds.js';
import type { KindContext } from './kinds/engine-kind.js';
import { EngineSettings } from './kinds/engine-settings.js';
import { parseRoutes } from './routes.js';
import type { MediaUrlMapper } from './upstream/upstream-media.js';

export interface EngineWiring {
  toolchain: FfmpegToolchain;
  /** What cloud engines send for each input URL (uploads need a reachable public URL). */
  mediaUrl: MediaUrlMapper;
  /** Told of every HTTP request an engine makes to its upstream (the metrics). */
  upstreamObserver?: UpstreamObserver;
}

/** Names routes can write: no `,` `;` `=` `*` or spaces. */
const engineNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * The engines the config asks for: the preview renderer always (the default route), one engine
 * for each of the `dashscope_*` / `novita_*` shorthands whose key is set, and every entry of
 * `engines`; then the routes over them. Any problem is a ConfigError naming the engine and the
 * field, raised before the server listens.
 */
export function configuredEngines(config: Config, wiring: EngineWiring): { engines: Engine[]; registry: EngineRegistry } {
  const context: KindContext = { config, ...wiring, downloaderFor: (baseUrl) => engineResultDownloader(config, baseUrl) };
  const engines = engineEntries(config).map(([name, values]) => buildEngine(name, values, context));
  return { engines, registry: registryFor(config, engines) };
}

/** Each engine's name and settings, the preview renderer first. */
function engineEntries(config: Config): [string, unknown][] {
  const configured = { ...config.engines };
  const shorthands: [string, string | undefined, Record<string, unknown>][] = [
    ['dashscope', config.dashscope_api_key, { kind: 'dashscope', api_key: config.dashscope_api_key, base_url: config.dashscope_base_url }],
    ['novita', config.novita_api_key, { kind: 'novita', api_key: config.novita_api_key, base_url: config.novita_base_url }],
  ];
  const entries: [string, unknown][] = [['preview', configured.preview ?? { kind: 'preview' }]];
  delete configured.preview;
  for (const [name, key, values] of shorthands) {
    if (key === undefined) continue;
    if (name in configured) {
      throw new ConfigError(
        `engines.${name}: the name is taken by ${name}_api_key, the shorthand for one ${name} engine; give this engine another name, or drop ${name}_api_key`,
      );
    }
    entries.push([name, values]);
  }
  return [...entries, ...Object.entries(configured)];
}

function buildEngine(name: string, values: unknown, context: KindContext): Engine {
  if (!engineNamePattern.test(name)) {
    throw new ConfigError(`engines.${name}: an engine's name is made of letters, digits, "-", "_" and ".", as routes write it`);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigError(`engines.${name}: use an object such as {"kind": "comfyui", "base_url": "http://gpu2:8188"}, got ${JSON.stringify(values)}`);
  }
  const settings = new EngineSettings(name, values as Record<string, unknown>);
  const kindNames = Object.keys(engineKinds).join(', ');
  const kind = settings.requiredString('kind', `one of ${kindNames}`);
  const definition = engineKinds[kind] ?? settings.fail('kind', `"${kind}" is no kind of engine; the kinds are ${kindNames}`);
  settings.onlyFields(kind, definition.fields);
  try {
    return definition.build(settings, context);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`engines.${name}: ${(error as Error).message}`);
  }
}

/**
 * The routes of the config over `engines`: every engine a route names must exist and carry out
 * the model it is named for (a T2V server cannot take r2v), or the server does not start.
 */
export function registryFor(config: Config, engines: Engine[]): EngineRegistry {
  let routes;
  try {
    routes = parseRoutes(config.routes);
  } catch (error) {
    throw new ConfigError(`routes: ${(error as Error).message}`);
  }
  const byName = new Map(engines.map((engine) => [engine.name, engine]));
  const keyOf: Record<string, string> = { dashscope: 'dashscope_api_key', novita: 'novita_api_key' };
  for (const [model, names] of Object.entries(routes)) {
    for (const name of names) {
      const engine = byName.get(name);
      if (engine === undefined) {
        throw new ConfigError(
          keyOf[name]
            ? `routes names the ${name} engine, which needs ${keyOf[name]} to be set (or an entry "${name}" in engines)`
            : `routes names an engine "${name}"; the engines are ${[...byName.keys()].join(', ')}`,
        );
      }
      if (!engine.models.includes(model as (typeof engine.models)[number])) {
        throw new ConfigError(
          `routes: ${model} goes to ${name}, which cannot carry it out: that ${engine.kind} engine serves ${engine.models.join(', ')}`,
        );
      }
    }
  }
  return new EngineRegistry(engines, engines[0].name, routes);
}
