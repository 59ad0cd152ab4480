import type { Logger } from 'pino';
import type { BlobStore } from '../../spec/blob-store.js';
import type { TaskObserver } from '../../spec/task-observer.js';
import type { TaskRecord, TaskStore } from '../../spec/task-store.js';
import type { TaskUsage } from '../../spec/usage.js';
import { resultVideoKey } from '../../blobs/blob-key.js';
import type { EngineOutcome } from './engine-session.js';

/** What a finished task bills, from the task and how its engine ended it (see the usage meter). */
export type UsageMeter = (task: TaskRecord, outcome: EngineOutcome) => Promise<TaskUsage | null>;

/**
 * Writes the end of a task: the videos into the blob store, then the success; or the failure.
 * Answers false when the lease was lost meanwhile (another worker, or a cancellation, ended it).
 */
export async function endTask(
  task: TaskRecord,
  outcome: EngineOutcome,
  context: { store: TaskStore; blobs: BlobStore; owner: string; log: Logger; meter?: UsageMeter; observer?: TaskObserver; clock: () => number },
): Promise<boolean> {
  const { store, blobs, owner, log, clock } = context;
  const { engine, status } = outcome;
  const extra = { ...task.extra, engine: engine.name };
  const usage = (await context.meter?.(task, outcome)) ?? null;
  if (status.state === 'failed') {
    log.warn({ reason: status.error.reason, message: status.error.message }, 'task failed');
    if (status.detail) log.error({ detail: status.detail }, 'engine diagnostics of the failed task');
    const failed = await store.fail(task.id, owner, { error: status.error.toBody(), extra, usage }, clock());
    const reason = status.error.reason;
    if (failed) context.observer?.ended({ model: task.model, engine: engine.name, outcome: 'failed', reason, runMs: clock() - outcome.startedAt });
    return failed;
  }
  const results = [];
  for (const [index, video] of status.videos.entries()) {
    const key = resultVideoKey(task.id, index);
    await blobs.putFile(key, video.path, 'video/mp4');
    results.push({ key, type: video.type });
  }
  const completed = await store.succeed(task.id, owner, { results, extra: { ...extra, ...status.extra }, usage }, clock());
  log.info({ completed, duration_ms: clock() - task.createdAt }, completed ? 'task succeeded' : 'task result discarded: lease lost');
  if (completed) context.observer?.ended({ model: task.model, engine: engine.name, outcome: 'succeeded', runMs: clock() - outcome.startedAt });
  return completed;
}
