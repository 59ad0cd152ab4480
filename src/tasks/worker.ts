import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiError, errors } from '../spec/api-error.js';
import type { BlobStore } from '../spec/blob-store.js';
import { type Engine, type EngineJob, type EngineOperation, type EngineStatus, EngineUnavailable } from '../spec/engine.js';
import type { TaskRecord, TaskStore } from '../spec/task-store.js';
import { resultVideoKey } from '../blobs/blob-key.js';
import type { EngineRegistry } from '../engines/engine-registry.js';
import type { MediaFetcher } from '../media/media-fetcher.js';
import type { ModelId } from '../models/model.js';
import { modelById, models } from '../models/registry.js';

export interface WorkerOptions {
  store: TaskStore;
  blobs: BlobStore;
  engines: EngineRegistry;
  media: MediaFetcher;
  logger: Logger;
  /** Scratch space; each attempt gets its own directory below it, removed when it ends. */
  workRoot: string;
  /** False for a process that only serves the API: it takes no tasks. Each engine's capacity bounds the rest. */
  runTasks?: boolean;
  leaseMs: number;
  maxAttempts: number;
  queuePollMs: number;
  /**
   * Waits between rounds of offering a task to its route when every engine refused it
   * (capacity, outage); after the last, the task fails with CREATE_TASK_FAILED.
   */
  startRetryDelaysMs?: readonly number[];
  clock?: () => number;
}

/** Why a running task stopped before it ended: the process is shutting down, or another worker took it. */
class LeaseEnded extends Error {}

interface RunningTask {
  done: Promise<void>;
  /** Aborted when the lease ends (shutdown, or lost to another worker). */
  lease: AbortController;
  /** The engine whose capacity the task takes (see countOn). */
  engine: string | undefined;
  /** Set once the task's end is being written: a late lease check must not hand it back. */
  finishing: boolean;
}

const defaultStartRetryDelaysMs = [2_000, 10_000];

/**
 * Takes tasks from the store and carries each through media fetching, its engine, and the
 * blob store. A task is held under a lease renewed at a third of its length; a worker that dies
 * stops renewing, and another worker (or this one after a restart) takes the task up again.
 * Every write names the lease, so a task can only ever be completed once.
 */
export class Worker {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly running = new Map<string, RunningTask>();
  /** Running tasks by the engine they take a place on. */
  private readonly tasksOnEngine = new Map<string, number>();
  private readonly clock: () => number;
  private readonly runTasks: boolean;
  private pollTimer: NodeJS.Timeout | undefined;
  private renewalTimer: NodeJS.Timeout | undefined;
  private filling = false;
  private fillAgain = false;
  private stopping = false;

  constructor(private readonly options: WorkerOptions) {
    this.clock = options.clock ?? Date.now;
    this.runTasks = options.runTasks ?? true;
  }

  async start(): Promise<void> {
    await mkdir(this.options.workRoot, { recursive: true });
    if (!this.runTasks) return;
    this.pollTimer = setInterval(() => this.notify(), this.options.queuePollMs);
    this.pollTimer.unref();
    // One timer renews every lease this worker holds, however many tasks it follows.
    this.renewalTimer = setInterval(() => void this.renewLeases(), Math.max(500, Math.floor(this.options.leaseMs / 3)));
    this.renewalTimer.unref();
    this.notify();
  }

  /** A task may be waiting: take as many as the engines have room for. */
  notify(): void {
    if (this.stopping || !this.runTasks) return;
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
    while (!this.stopping) {
      const eligible = this.modelsWithRoom();
      if (eligible.length === 0) return;
      let task: TaskRecord | undefined;
      try {
        task = await this.options.store.leaseNext(this.owner, this.clock(), this.options.leaseMs, eligible);
      } catch (error) {
        this.options.logger.error({ err: error }, 'cannot lease a task');
        return;
      }
      if (!task) return;
      const leased = task;
      const entry: RunningTask = { done: Promise.resolve(), lease: new AbortController(), engine: undefined, finishing: false };
      this.countOn(entry, this.options.engines.enginesFor(leased.model)[0].name);
      this.running.set(leased.id, entry);
      entry.done = this.carryOut(leased, entry).finally(() => {
        this.countOn(entry, undefined);
        this.running.delete(leased.id);
        this.notify();
      });
    }
  }

  /** Models whose first engine can take one more task in this process. */
  private modelsWithRoom(): ModelId[] {
    return models
      .filter((model) => {
        const [engine] = this.options.engines.enginesFor(model.id);
        return (this.tasksOnEngine.get(engine.name) ?? 0) < engine.capacity;
      })
      .map((model) => model.id);
  }

  /**
   * Moves a task's place from the engine it counted on to `engine` (none once it ended). Counted
   * as tasks come and go, not recounted per lease: filling thousands of slots stays linear.
   */
  private countOn(entry: RunningTask, engine: string | undefined): void {
    if (entry.engine !== undefined) this.tasksOnEngine.set(entry.engine, this.tasksOnEngine.get(entry.engine)! - 1);
    if (engine !== undefined) this.tasksOnEngine.set(engine, (this.tasksOnEngine.get(engine) ?? 0) + 1);
    entry.engine = engine;
  }

  /** Renews every lease at once; a task whose lease was not renewed is stopped and left to its new owner. */
  private async renewLeases(): Promise<void> {
    const held = [...this.running.entries()].filter(([, entry]) => !entry.finishing);
    if (held.length === 0) return;
    let renewed: Set<string>;
    try {
      renewed = new Set(await this.options.store.renewLeases(this.owner, this.clock() + this.options.leaseMs));
    } catch (error) {
      // The store may be back before the leases run out; the next round tries again.
      this.options.logger.warn({ err: error }, 'cannot renew leases');
      return;
    }
    for (const [id, entry] of held) {
      if (!renewed.has(id) && !entry.finishing) entry.lease.abort(new LeaseEnded('the lease could not be renewed'));
    }
  }

  /**
   * Stops taking tasks and waits up to `timeoutMs` for the running ones; those still running
   * then are stopped and handed back to the queue for another process (or the next start).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.pollTimer);
    clearInterval(this.renewalTimer);
    const all = () => Promise.all([...this.running.values()].map((entry) => entry.done));
    const timer = new AbortController();
    await Promise.race([all(), sleep(timeoutMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
    for (const entry of this.running.values()) entry.lease.abort(new LeaseEnded('shutting down'));
    await all();
  }

  private async carryOut(task: TaskRecord, entry: RunningTask): Promise<void> {
    const { store, logger } = this.options;
    const log = logger.child({ task_id: task.id, model: task.model, attempt: task.attempts });
    const signal = entry.lease.signal;
    let workDir: string | undefined;
    try {
      if (task.attempts > this.options.maxAttempts) {
        throw errors.taskFailed(`the task was started ${task.attempts - 1} times and its worker stopped each time; giving up`);
      }
      workDir = await mkdtemp(path.join(this.options.workRoot, `${task.id}-`));
      // Every input is fetched and held against its limits before any engine (and any bill) starts.
      const references = modelById(task.model).mediaReferences(task.request);
      const media = await this.options.media.fetchAll(references, workDir, signal);
      const job: EngineJob = { taskId: task.id, model: task.model, request: task.request, seed: task.seed, media, workDir };
      const { engine, status } = await this.runEngine(task, job, entry, log);
      entry.finishing = true;
      await this.finish(task, engine, status, log);
    } catch (error) {
      if (error instanceof LeaseEnded || signal.reason instanceof LeaseEnded) {
        const reason = signal.reason instanceof LeaseEnded ? signal.reason : error;
        log.info({ why: (reason as Error).message }, 'task handed back');
        await store.release(task.id, this.owner).catch(() => undefined);
        return;
      }
      entry.finishing = true;
      const apiError = error instanceof ApiError ? error : errors.taskFailed('the task failed on an internal error');
      if (!(error instanceof ApiError)) log.error({ err: error }, 'task failed on an internal error');
      else log.info({ reason: apiError.reason, message: apiError.message }, 'task failed');
      await store.fail(task.id, this.owner, apiError.toBody(), task.extra, this.clock());
    } finally {
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
  }

  /**
   * Resumes the operation an earlier attempt saved, on the engine that accepted it, or starts
   * the task on its route; then follows it to its end.
   */
  private async runEngine(task: TaskRecord, job: EngineJob, entry: RunningTask, log: Logger): Promise<{ engine: Engine; status: EngineStatus }> {
    const { store } = this.options;
    const signal = entry.lease.signal;
    let engine: Engine;
    let operation: EngineOperation | null = null;
    let status: EngineStatus = { state: 'lost' };
    if (task.engine && task.operation) {
      engine = this.savedEngine(task.engine);
      this.countOn(entry, engine.name);
      operation = task.operation;
      status = await engine.status(operation, job);
    }
    let lastProgress = -1;
    for (;;) {
      if (status.state === 'lost') {
        const startedAt = this.clock();
        ({ engine, operation } = await this.startOnRoute(task, job, signal, log));
        this.countOn(entry, engine.name);
        log.info({ engine: engine.name, dispatch_ms: startedAt - task.createdAt }, 'engine started');
        // Saved before anything else is asked, so a crash from here on resumes instead of resubmitting.
        if (!(await store.saveOperation(task.id, this.owner, engine.name, operation, startedAt))) {
          await engine.cancel(operation);
          throw new LeaseEnded('the lease was lost');
        }
        status = await engine.status(operation, job);
      }
      if (status.state !== 'running') return { engine: engine!, status };
      await this.stopIfAborted(engine!, operation!, signal);
      if (status.progressPercent !== lastProgress) {
        lastProgress = status.progressPercent;
        await store.saveProgress(task.id, this.owner, status.progressPercent, status.etaSeconds);
      }
      const waitMs = status.nextCheckMs ?? 1000;
      await untilAborted(engine!.changed ? engine!.changed(operation!, waitMs) : sleep(waitMs), signal);
      await this.stopIfAborted(engine!, operation!, signal);
      status = await engine!.status(operation!, job);
    }
  }

  /** The engine an earlier attempt started the task on; never another, which would bill twice. */
  private savedEngine(name: string): Engine {
    try {
      return this.options.engines.get(name);
    } catch {
      throw errors.taskFailed(
        `the task was accepted by engine "${name}", which is no longer configured; it is not sent elsewhere, which could bill it twice`,
      );
    }
  }

  /**
   * Offers the task to each engine of its route in order until one accepts. An engine that did
   * not accept (EngineUnavailable) created nothing, so the next may be asked; any other error
   * ends the task. When all refuse, the route is tried again after a wait, a few times.
   */
  private async startOnRoute(task: TaskRecord, job: EngineJob, signal: AbortSignal, log: Logger): Promise<{ engine: Engine; operation: EngineOperation }> {
    const refusals: string[] = [];
    const delays = this.options.startRetryDelaysMs ?? defaultStartRetryDelaysMs;
    for (let round = 0; ; round++) {
      let retryAfterMs = 0;
      for (const engine of this.options.engines.enginesFor(task.model)) {
        try {
          return { engine, operation: await engine.start(job) };
        } catch (error) {
          if (!(error instanceof EngineUnavailable)) throw error;
          refusals.push(`${engine.name}: ${error.message}`);
          retryAfterMs = Math.max(retryAfterMs, error.retryAfterMs ?? 0);
          log.warn({ engine: engine.name, why: error.message }, 'engine did not accept the task');
        }
      }
      if (round >= delays.length) {
        throw errors.createTaskFailed(`no engine accepted the task: ${refusals.join('; ')}`);
      }
      await sleep(Math.max(delays[round], retryAfterMs), undefined, { signal }).catch(() => {
        throw signal.reason;
      });
    }
  }

  /**
   * On a lease that ended: a local render dies with us, so it is cancelled; a cloud operation is
   * left running, for whichever process resumes the task.
   */
  private async stopIfAborted(engine: Engine, operation: EngineOperation, signal: AbortSignal): Promise<void> {
    if (!signal.aborted) return;
    if (!engine.survivesRestart) await engine.cancel(operation);
    throw signal.reason;
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
}

/** Resolves with `promise`, or as soon as `signal` aborts (the caller then checks the signal). */
function untilAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        resolve(Promise.reject(error));
      },
    );
  });
}
