import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ApiError, errors } from '../../spec/api-error.js';
import type { BlobStore } from '../../spec/blob-store.js';
import type { DiskState } from '../../spec/disk-state.js';
import type { EngineJob } from '../../spec/engine.js';
import { isTransientStoreError } from '../../spec/storage-errors.js';
import type { TaskObserver } from '../../spec/task-observer.js';
import type { TaskRecord, TaskStore } from '../../spec/task-store.js';
import type { EngineRegistry } from '../../engines/engine-registry.js';
import type { MediaFetcher } from '../../media/media-fetcher.js';
import { modelById } from '../../models/registry.js';
import { durableWrite } from './durable-write.js';
import type { EnginePlaces } from './engine-places.js';
import { EngineSession } from './engine-session.js';
import { LeaseEnded, NoRoom, TaskCancelled } from './run-stops.js';
import { endTask, type UsageMeter } from './task-ending.js';

export interface TaskRunContext {
  store: TaskStore;
  blobs: BlobStore;
  engines: EngineRegistry;
  places: EnginePlaces;
  media: MediaFetcher;
  owner: string;
  logger: Logger;
  workRoot: string;
  maxAttempts: number;
  startRetryDelaysMs: readonly number[];
  halted: AbortSignal;
  disk?: DiskState;
  meter?: UsageMeter;
  observer?: TaskObserver;
  clock: () => number;
}

/**
 * One attempt at one task, from its lease to its end: the inputs fetched and checked (only when
 * the task must be started), the engine session, and the end written. However it stops, it leaves
 * the task in a state another attempt can take up: ended, handed back, or still leased for the
 * lease to run out. A task stopped by the disk or the database rather than by itself (full,
 * restarting, unreachable) is handed back, never failed.
 */
export async function runTask(task: TaskRecord, lease: AbortSignal, context: TaskRunContext): Promise<void> {
  const { store, logger } = context;
  const log = logger.child({ task_id: task.id, model: task.model, attempt: task.attempts });
  const writes = { log, halted: context.halted, disk: context.disk };
  let workDir: string | undefined;
  let engineSession: EngineSession | undefined;
  try {
    if (task.attempts > context.maxAttempts) {
      throw errors.taskFailed(`the task was started ${task.attempts - 1} times and its worker stopped each time; giving up`);
    }
    workDir = await mkdtemp(path.join(context.workRoot, `${task.id}-`));
    const scratch = workDir;
    engineSession = new EngineSession(task, scratch, { ...context, ...writes, signal: lease });
    // Every input is fetched and held against its limits before any engine (and any bill) starts.
    const job = async (): Promise<EngineJob> => {
      const references = modelById(task.model).mediaReferences(task.request);
      const media = await context.media.fetchAll(references, scratch, lease);
      return { taskId: task.id, model: task.model, request: task.request, seed: task.seed, media, workDir: scratch };
    };
    const outcome = await engineSession.run(job);
    // A failure while the disk is full is most likely the disk's (a render that could not write
    // its file): the task is handed back below rather than failed.
    if (outcome.status.state === 'failed' && context.disk?.problem() !== undefined) throw outcome.status.error;
    await durableWrite('the end of the task', () => endTask(task, outcome, { ...context, log }), writes);
  } catch (error) {
    const reason = lease.reason ?? error;
    if (reason instanceof TaskCancelled) {
      log.info('task cancelled');
      return;
    }
    const diskProblem = context.disk?.problem();
    // The store could not be reached (a database restarting): nothing is wrong with the task.
    const storeAway = isTransientStoreError(error);
    if (reason instanceof LeaseEnded || error instanceof NoRoom || diskProblem !== undefined || storeAway) {
      const why = diskProblem ?? (error instanceof NoRoom || storeAway ? (error as Error) : (reason as Error)).message;
      log.warn({ why }, 'task handed back');
      await durableWrite('the hand-back', () => store.release(task.id, context.owner), writes).catch(() => undefined);
      return;
    }
    const apiError = error instanceof ApiError ? error : errors.taskFailed('the task failed on an internal error');
    if (!(error instanceof ApiError)) log.error({ err: error }, 'task failed on an internal error');
    else log.warn({ reason: apiError.reason, message: apiError.message }, 'task failed');
    const failed = await durableWrite(
      'the failure',
      () => store.fail(task.id, context.owner, { error: apiError.toBody(), extra: task.extra, usage: null }, context.clock()),
      writes,
    ).catch((writeError: unknown) => log.error({ err: writeError }, 'the failure could not be recorded; the lease will run out'));
    if (failed) {
      const startedAt = engineSession?.startedAt;
      context.observer?.ended({
        model: task.model,
        engine: engineSession?.engine?.name ?? 'none',
        outcome: 'failed',
        reason: apiError.reason,
        ...(startedAt === undefined ? {} : { runMs: context.clock() - startedAt }),
      });
    }
  } finally {
    // However the attempt ended, this process no longer holds the task's place on its engine.
    context.places.leave(task.id);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }
}
