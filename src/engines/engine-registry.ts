import type { Engine } from '../spec/engine.js';
import type { ModelId } from '../models/model.js';

/**
 * Which engine carries out each model. Routes name engines in order of preference; a model
 * without a route goes to the default engine (the preview renderer in the embedded set-up).
 */
export class EngineRegistry {
  private readonly byName = new Map<string, Engine>();

  constructor(
    engines: readonly Engine[],
    private readonly defaultEngine: string,
    private readonly routes: Partial<Record<ModelId, readonly string[]>> = {},
  ) {
    for (const engine of engines) this.byName.set(engine.name, engine);
    for (const name of [defaultEngine, ...Object.values(routes).flat()]) this.get(name);
  }

  get(name: string): Engine {
    const engine = this.byName.get(name);
    if (!engine) throw new Error(`no engine named "${name}"; known: ${[...this.byName.keys()].join(', ')}`);
    return engine;
  }

  /** Every engine, once. */
  all(): Engine[] {
    return [...this.byName.values()];
  }

  /** The engines that may carry out `model`, most preferred first. */
  enginesFor(model: ModelId): Engine[] {
    return (this.routes[model] ?? [this.defaultEngine]).map((name) => this.get(name));
  }
}
