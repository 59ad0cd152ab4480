import type { ModelId } from '../models/model.js';
import { models } from '../models/registry.js';

export type Routes = Partial<Record<ModelId, readonly string[]>>;

/**
 * Reads the `routes` setting: `wan2.7-t2v=dashscope,novita;wan2.7-i2v=novita`, with `*` for every
 * model not named. Throws an Error naming the part it cannot read; engine names are checked by
 * the registry, which knows which engines exist.
 */
export function parseRoutes(text: string | undefined): Routes {
  const routes: Routes = {};
  let fallback: string[] | undefined;
  for (const part of (text ?? '').split(';').map((item) => item.trim()).filter(Boolean)) {
    const match = /^([^=\s]+)\s*=\s*(.+)$/.exec(part);
    const engines = match?.[2].split(',').map((name) => name.trim()).filter(Boolean) ?? [];
    if (!match || engines.length === 0) {
      throw new Error(`"${part}" is not model=engine[,engine…], e.g. wan2.7-t2v=dashscope,novita`);
    }
    const model = match[1];
    if (model === '*') {
      fallback = engines;
    } else if (models.some((known) => known.id === model)) {
      routes[model as ModelId] = engines;
    } else {
      throw new Error(`"${model}" is not a model; the models are ${models.map((known) => known.id).join(', ')} (or * for all)`);
    }
  }
  if (fallback) for (const model of models) routes[model.id] ??= fallback;
  return routes;
}
