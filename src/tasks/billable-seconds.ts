import type { ModelId, ModelRequest } from '../models/model.js';

/**
 * The seconds a request would bill, known before it runs, by the pages' rule: the output's
 * duration. A videoedit that keeps its input's length (`duration: 0`) is counted at the longest
 * input the page allows (10 s) until it has run. Per-key quotas are checked against this; the
 * task's recorded usage replaces it once it ends.
 */
export function billableSeconds(model: ModelId, request: ModelRequest): number {
  const duration = typeof request.duration === 'number' ? request.duration : 0;
  if (model === 'wan2.7-videoedit' && duration === 0) return longestEditInputSeconds;
  return duration;
}

const longestEditInputSeconds = 10;
