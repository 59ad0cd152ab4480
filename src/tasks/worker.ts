import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiError, errors } from '../spec/api-error.js';
import type { BlobStore } from '../spec/blob-store.js';
import type { Engine, EngineJob, EngineOperation, EngineStatus } from '../spec/engine.js';
import type { TaskRecord, TaskStore } from '../spec/task-store.js';
import { resultVideoKey } from '../blobs/blob-key.js';
import type { EngineRegistry } from '../engines/engine-registry.js';
import type { MediaFetcher } from '../media/media-fetcher.js';
import { modelById } from '../models/registry.js';

export interface WorkerOptions {
  store: TaskStore;
  blobs: BlobStore;
  engines: EngineRegistry;
  media: MediaFetcher;
  logger: Logger;
  /** Scratch space; each attempt gets its own directory below it, removed when it ends. */
  workRoot: string;
  concurrency: number;
  leaseMs: number;
  maxAttempts: number;
  queuePollMs: number;
  clock?: () => number;
}

/** Why a running task stopped before it ended: the process is shutting down, or another worker took it. */
class LeaseEnded extends Error {}

/**
 * Takes tasks from the store and carries each through media fetching, its engine, and the
 * blob store. A task is held under a lease renewed at a third of its length; a worker that dies
 * stops renewing, and another worker (or this one after a restart) takes the task up again.
 * Every write names the lease, so a task can only ever be completed once.
 */
export class Worker {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly running = new Map<string, { done: Promise<void>; abort: AbortController }>();
  private readonly clock: () => number;
  private pollTimer: NodeJS.Timeout | undefined;
  private filling = false;
  private fillAgain = false;
  private stopping = false;

  constructor(private readonly options: WorkerOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async start(): Promise<void> {
    await mkdir(this.options.workRoot, { recursive: true });
    if (this.options.concurrency === 0) return;
    this.pollTimer = setInterval(() => this.notify(), this.options.queuePollMs);
    this.pollTimer.unref();
    this.notify();
  }

  /** A task may be waiting: take as many as there are free slots. */
  notify(): void {
    if (this.stopping || this.options.concurrency === 0) return;
    if (this.filling) {
      this.fillAgain = true;
      return;
    }
    this.filling = true;
    void this.fill().finally(() => {
      this.filling = false;
      if (this.fillAgain) {
        this.fillAgain = false;
        this.notify();
      }
    });
  }

  get busy(): number {
    return this.running.size;
  }

  private async fill(): Promise<void> {
    while (!this.stopping && this.running.size < this.options.concurrency) {
      let task: TaskRecord | undefined;
      try {
        task = await this.options.store.leaseNext(this.owner, this.clock(), this.options.leaseMs);
      } catch (error) {
        this.options.logger.error({ err: error }, 'cannot lease a task');
        return;
      }
      if (!task) return;
      const abort = new AbortController();
      const leased = task;
      const done = this.carryOut(leased, abort.signal).finally(() => {
        this.running.delete(leased.id);
        this.notify();
      });
      this.running.set(task.id, { done, abort });
    }
  }

  /**
   * Stops taking tasks and waits up to `timeoutMs` for the running ones; those still running
   * then are stopped and handed back to the queue for another process (or the next start).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.pollTimer);
    const all = () => Promise.all([...this.running.values()].map((entry) => entry.done));
    const timer = new AbortController();
    await Promise.race([all(), sleep(timeoutMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
    for (const entry of this.running.values()) entry.abort.abort(new LeaseEnded('shutting down'));
    await all();
  }

  private async carryOut(task: TaskRecord, signal: AbortSignal): Promise<void> {
    const { store, logger } = this.options;
    const log = logger.child({ task_id: task.id, model: task.model, attempt: task.attempts });
    const renewal = this.keepLease(task.id, signal);
    let workDir: string | undefined;
    try {
      if (task.attempts > this.options.maxAttempts) {
        throw errors.taskFailed(`the task was started ${task.attempts - 1} times and its worker stopped each time; giving up`);
      }
      workDir = await mkdtemp(path.join(this.options.workRoot, `${task.id}-`));
      const references = modelById(task.model).mediaReferences(task.request);
      const media = await this.options.media.fetchAll(references, workDir, renewal.signal);
      const job: EngineJob = { taskId: task.id, model: task.model, request: task.request, seed: task.seed, media, workDir };
      const [engine] = this.options.engines.enginesFor(task.model);
      const status = await this.runEngine(engine, task, job, renewal.signal, log);
      await this.finish(task, engine, status, log);
    } catch (error) {
      if (error instanceof LeaseEnded || renewal.signal.reason instanceof LeaseEnded) {
        const reason = renewal.signal.reason instanceof LeaseEnded ? renewal.signal.reason : error;
        log.info({ why: (reason as Error).message }, 'task handed back');
        await store.release(task.id, this.owner).catch(() => undefined);
        return;
      }
      const apiError = error instanceof ApiError ? error : errors.taskFailed('the task failed on an internal error');
      if (!(error instanceof ApiError)) log.error({ err: error }, 'task failed on an internal error');
      else log.info({ reason: apiError.reason, message: apiError.message }, 'task failed');
      await store.fail(task.id, this.owner, apiError.toBody(), task.extra, this.clock());
    } finally {
      renewal.stop();
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
  }

  /** Starts the engine, or resumes the operation a previous attempt saved, and follows it to its end. */
  private async runEngine(engine: Engine, task: TaskRecord, job: EngineJob, signal: AbortSignal, log: Logger): Promise<EngineStatus> {
    const { store } = this.options;
    let operation: EngineOperation | null = task.engine === engine.name ? task.operation : null;
    let status: EngineStatus = operation ? await engine.status(operation, job) : { state: 'lost' };
    let lastProgress = -1;
    for (;;) {
      if (status.state === 'lost') {
        const startedAt = this.clock();
        operation = await engine.start(job);
        log.info({ engine: engine.name, dispatch_ms: startedAt - task.createdAt }, 'engine started');
        if (!(await store.saveOperation(task.id, this.owner, engine.name, operation, startedAt))) {
          await engine.cancel(operation);
          throw new LeaseEnded('the lease was lost');
        }
        status = await engine.status(operation, job);
      }
      if (status.state !== 'running') return status;
      if (signal.aborted) {
        await engine.cancel(operation!);
        throw signal.reason;
      }
      if (status.progressPercent !== lastProgress) {
        lastProgress = status.progressPercent;
        await store.saveProgress(task.id, this.owner, status.progressPercent, status.etaSeconds);
      }
      const waitMs = status.nextCheckMs ?? 1000;
      await (engine.changed ? engine.changed(operation!, waitMs) : sleep(waitMs));
      if (signal.aborted) {
        await engine.cancel(operation!);
        throw signal.reason;
      }
      status = await engine.status(operation!, job);
    }
  }

  private async finish(task: TaskRecord, engine: Engine, status: EngineStatus, log: Logger): Promise<void> {
    const { store, blobs } = this.options;
    const extra = { ...task.extra, engine: engine.name };
    if (status.state === 'failed') {
      log.info({ reason: status.error.reason, message: status.error.message }, 'task failed');
      await store.fail(task.id, this.owner, status.error.toBody(), extra, this.clock());
      return;
    }
    if (status.state !== 'succeeded') throw new Error(`engine ${engine.name} ended in state ${status.state}`);
    const results = [];
    for (const [index, video] of status.videos.entries()) {
      const key = resultVideoKey(task.id, index);
      await blobs.putFile(key, video.path, 'video/mp4');
      results.push({ key, type: video.type });
    }
    const completed = await store.succeed(task.id, this.owner, results, { ...extra, ...status.extra }, this.clock());
    log.info({ completed, duration_ms: this.clock() - task.createdAt }, completed ? 'task succeeded' : 'task result discarded: lease lost');
  }

  /** Renews the lease at a third of its length; the signal aborts when it cannot be renewed. */
  private keepLease(taskId: string, outer: AbortSignal): { signal: AbortSignal; stop: () => void } {
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(outer.reason);
    outer.addEventListener('abort', onOuterAbort, { once: true });
    const timer = setInterval(async () => {
      const renewed = await this.options.store
        .renewLease(taskId, this.owner, this.clock() + this.options.leaseMs)
        .catch(() => false);
      if (!renewed) controller.abort(new LeaseEnded('the lease could not be renewed'));
    }, Math.max(500, Math.floor(this.options.leaseMs / 3)));
    timer.unref();
    return {
      signal: controller.signal,
      stop: () => {
        clearInterval(timer);
        outer.removeEventListener('abort', onOuterAbort);
      },
    };
  }
}
