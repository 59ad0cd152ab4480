import type { TaskRecord } from '../../../spec/task-store.js';
import { TaskStatus } from '../../../spec/task-status.js';
import type { OpenAiVideo, OpenAiVideoStatus } from '../../../models/openai-video-schema.js';
import { type Ratio, type Tier, tierAtAspect, videoeditRatioSize } from '../../../models/output-size.js';
import { openAiSize } from './request-mapping.js';

const statuses: Record<TaskStatus, OpenAiVideoStatus> = {
  [TaskStatus.Queued]: 'queued',
  [TaskStatus.Processing]: 'in_progress',
  [TaskStatus.Succeed]: 'completed',
  [TaskStatus.Failed]: 'failed',
};

/** The frame a tier names when nothing more is known: its 16:9 size. */
const landscape = { width: 16, height: 9 };

const unixSeconds = (epochMs: number) => Math.floor(epochMs / 1000);

/**
 * A task as the OpenAI `Video` object: the same task, read through the other API. Times are
 * Unix seconds; `expires_at` is when retention is due to remove the result files
 * (`retentionMs` after completion), or when it did.
 */
export function openAiVideo(task: TaskRecord, retentionMs: number): OpenAiVideo {
  const succeeded = task.status === TaskStatus.Succeed;
  const expiresAt = !succeeded || task.completedAt === null ? null : (task.resultsExpiredAt ?? task.completedAt + retentionMs);
  return {
    id: task.id,
    object: 'video',
    model: task.model,
    status: statuses[task.status],
    progress: succeeded ? 100 : task.progressPercent,
    created_at: unixSeconds(task.createdAt),
    completed_at: task.completedAt === null ? null : unixSeconds(task.completedAt),
    expires_at: expiresAt === null ? null : unixSeconds(expiresAt),
    seconds: secondsOf(task),
    size: sizeOf(task),
    prompt: typeof task.request.prompt === 'string' ? task.request.prompt : null,
    remixed_from_video_id: null,
    error: task.error ? { code: task.error.reason.toLowerCase(), message: task.error.message } : null,
  };
}

/** The duration asked for; videoedit's 0 (keep the input's length) is the rendered length once known. */
function secondsOf(task: TaskRecord): string {
  const { duration } = task.request;
  if (typeof duration === 'number' && duration > 0) return String(duration);
  const rendered = task.extra.duration_seconds;
  return typeof rendered === 'number' ? String(Math.round(rendered)) : '0';
}

/**
 * t2v and r2v render the size asked for. i2v and videoedit follow their input's aspect ratio
 * unless a videoedit `ratio` is set: the size the engine reports once it rendered, the tier's
 * 16:9 size before.
 */
function sizeOf(task: TaskRecord): string {
  const { size, resolution, ratio } = task.request;
  if (typeof size === 'string') return openAiSize(size);
  const { width, height } = task.extra;
  if (typeof width === 'number' && typeof height === 'number') return `${width}x${height}`;
  const tier = resolution as Tier;
  const frame = typeof ratio === 'string' ? videoeditRatioSize(tier, ratio as Ratio) : tierAtAspect(tier, landscape);
  return `${frame.width}x${frame.height}`;
}
