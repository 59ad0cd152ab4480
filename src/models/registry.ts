import { i2v } from './i2v.js';
import type { ModelDefinition, ModelId } from './model.js';
import { r2v } from './r2v.js';
import { t2v } from './t2v.js';
import { videoedit } from './videoedit.js';

/** Every model the API serves, in the order the OpenAPI document lists them. */
export const models: readonly ModelDefinition[] = [t2v, i2v, r2v, videoedit];

const modelsById = new Map(models.map((model) => [model.id, model]));

/** Task rows name their model by id; every ModelId has a model here (a unit test checks it). */
export function modelById(id: ModelId): ModelDefinition {
  const model = modelsById.get(id);
  if (model === undefined) throw new Error(`no model is registered under the id "${id}"`);
  return model;
}

/** Where a model's create-task endpoint lives. */
export function modelPath(model: ModelDefinition): string {
  return `/v3/async/${model.id}`;
}
