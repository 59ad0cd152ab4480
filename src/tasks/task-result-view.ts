import type { BlobStore } from '../spec/blob-store.js';
import type { TaskSnapshot } from '../spec/task-store.js';
import { modelById } from '../models/registry.js';
import type { TaskResultResponse } from '../models/task-result-schema.js';
import { taskUsageView } from '../usage/usage-view.js';

/**
 * A task row as the Task Result API shows it. Every field of the documented shape is always
 * present. A failed task's `reason` is the human message; the structured error (its reason
 * name, the field and limit) is in `extra.error`. Results that retention removed are not
 * offered as dead links: `videos` is empty and `extra.results_expired_at` says when they went.
 * The video links work until `linksExpireAt` (ms), which is at least `ttlSeconds` from now.
 */
export async function taskResultView(task: TaskSnapshot, blobs: BlobStore, ttlSeconds: number, linksExpireAt: number): Promise<TaskResultResponse> {
  const results = task.resultsExpiredAt === null ? task.results : [];
  return {
    task: {
      task_id: task.id,
      task_type: modelById(task.model).taskType,
      status: task.status,
      reason: task.error?.message ?? '',
      eta: task.etaSeconds,
      progress_percent: task.progressPercent,
    },
    images: [],
    videos: await Promise.all(
      results.map(async (result) => ({
        video_url: await blobs.url(result.key, linksExpireAt),
        video_url_ttl: String(ttlSeconds),
        video_type: result.type,
      })),
    ),
    audios: [],
    extra: {
      ...task.extra,
      ...(task.error ? { error: task.error } : {}),
      // What the task bills, in place of the figures an engine reported under the same name.
      ...(task.usage ? { usage: taskUsageView(task.usage) } : {}),
      ...(task.resultsExpiredAt === null ? {} : { results_expired_at: String(task.resultsExpiredAt) }),
      seed: String(task.seed),
      debug_info: {
        request_info: '',
        submit_time_ms: String(task.createdAt),
        execute_time_ms: task.startedAt === null ? '' : String(task.startedAt),
        complete_time_ms: task.completedAt === null ? '' : String(task.completedAt),
      },
    },
  };
}
