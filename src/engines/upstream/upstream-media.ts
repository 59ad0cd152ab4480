import type { ModelRequest } from '../../models/model.js';
import { modelById } from '../../models/registry.js';
import type { EngineJob } from '../../spec/engine.js';

/**
 * Chooses the URL an upstream is given for one media URL of a request. The integrator uses it
 * to swap a URL of a file uploaded to this server for one the upstream can reach, or throws an
 * ApiError when there is none (the task then fails with that error).
 */
export type MediaUrlMapper = (field: string, url: string) => string | Promise<string>;

export const unchangedMediaUrl: MediaUrlMapper = (_field, url) => url;

/** The job's request with each media URL replaced by what `mediaUrl` chose; the job is not changed. */
export async function withUpstreamMediaUrls(job: EngineJob, mediaUrl: MediaUrlMapper): Promise<ModelRequest> {
  const request = structuredClone(job.request);
  for (const reference of modelById(job.model).mediaReferences(job.request)) {
    setAtPath(request, reference.field, await mediaUrl(reference.field, reference.url));
  }
  return request;
}

/** Sets `image_url` or `media[2].reference_voice` (the paths mediaReferences names) in `target`. */
function setAtPath(target: Record<string, unknown>, fieldPath: string, value: string): void {
  const steps = fieldPath.match(/[^.[\]]+/g) ?? [];
  let node: Record<string, unknown> | unknown[] = target;
  for (const step of steps.slice(0, -1)) {
    node = (node as Record<string, unknown>)[step] as Record<string, unknown> | unknown[];
  }
  (node as Record<string, unknown>)[steps[steps.length - 1]] = value;
}
