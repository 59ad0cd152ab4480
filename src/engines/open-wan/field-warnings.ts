import type { ModelId, ModelRequest } from '../../models/model.js';

/**
 * The request fields an open Wan model has no counterpart for, as warnings. A generation on
 * one's own GPUs costs time, not money, but a setting is still never dropped silently: each
 * field is either used by the engine (listed by it in `used`) or named here.
 */

/** Fields of our requests that are options of this server (webhooks), not of the model. */
const serverFields = new Set(['extra']);

export interface FieldUse {
  /** The engine's name, for the sentences. */
  engine: string;
  model: ModelId;
  request: ModelRequest;
  /** The fields the engine sent or translated; every other field gets a warning. */
  used: readonly string[];
  /** Whether the video it makes has a soundtrack (only a workflow that adds one). */
  soundtrack: boolean;
}

export function fieldWarnings({ engine, model, request, used, soundtrack }: FieldUse): string[] {
  const warnings: string[] = [];
  const handled = new Set([...used, 'prompt_extend', 'watermark', 'audio']);
  if (request.prompt_extend === true) {
    warnings.push(`prompt_extend: ${engine} does not rewrite prompts; the prompt was used as written`);
  }
  if (request.watermark === true) warnings.push(`watermark: ${engine} adds no watermark`);
  // Wan 2.7 gives t2v, i2v and r2v (unless audio is false) a soundtrack; the open models make silent video.
  const soundExpected = model === 'wan2.7-t2v' || model === 'wan2.7-i2v' || (model === 'wan2.7-r2v' && request.audio !== false);
  if (soundExpected && !soundtrack) warnings.push(`the video has no soundtrack: the Wan model behind ${engine} makes silent video`);
  for (const field of Object.keys(request)) {
    if (handled.has(field) || serverFields.has(field)) continue;
    warnings.push(`${field} has no counterpart at ${engine} and was not used`);
  }
  return warnings;
}
