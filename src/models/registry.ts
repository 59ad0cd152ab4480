import { i2v } from './i2v.js';
import type { ModelDefinition, ModelId } from './model.js';
import { r2v } from './r2v.js';
import { t2v } from './t2v.js';
import { videoedit } from './videoedit.js';

/**
 * Every model the API serves, in the order the OpenAPI document lists them: the one list of
 * models. `ModelId`, the routes, the CLI's commands and the SDK's request types derive from it.
 */
export const models = [t2v, i2v, r2v, videoedit] as const satisfies readonly ModelDefinition<any, string>[];

/** The ids of every model, in that order. */
export const modelIds: readonly ModelId[] = models.map((model) => model.id);

const modelsById = new Map<string, ModelDefinition>(models.map((model) => [model.id, model as unknown as ModelDefinition]));

/** Task rows name their model by id. */
export function modelById(id: ModelId): ModelDefinition {
  const model = modelsById.get(id);
  if (model === undefined) throw new Error(`no model is registered under the id "${id}"`);
  return model;
}

export function isModelId(id: string): id is ModelId {
  return modelsById.has(id);
}

/** Where a model's create-task endpoint lives. */
export function modelPath(model: ModelDefinition): string {
  return `/v3/async/${model.id}`;
}
