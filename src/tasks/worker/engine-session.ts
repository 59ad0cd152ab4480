import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { errors } from '../../spec/api-error.js';
import type { DiskState } from '../../spec/disk-state.js';
import { type Engine, type EngineJob, type EngineOperation, type EngineStatus, EngineUnavailable } from '../../spec/engine.js';
import type { TaskObserver } from '../../spec/task-observer.js';
import type { TaskRecord, TaskStore } from '../../spec/task-store.js';
import type { EngineRegistry } from '../../engines/engine-registry.js';
import { durableWrite } from './durable-write.js';
import type { EnginePlaces } from './engine-places.js';
import { LeaseEnded, NoRoom, TaskCancelled } from './run-stops.js';

export interface EngineSessionContext {
  store: TaskStore;
  engines: EngineRegistry;
  places: EnginePlaces;
  owner: string;
  log: Logger;
  /** Aborted when the task's lease ends (shutdown, lost) or the task is cancelled. */
  signal: AbortSignal;
  /** Aborted when shutdown stops waiting for durable writes. */
  halted: AbortSignal;
  disk?: DiskState;
  /** Waits between rounds of offering the task to its route when every engine refused it. */
  startRetryDelaysMs: readonly number[];
  observer?: TaskObserver;
  clock: () => number;
}

/** How a task ended on its engine, and the engine it ran on. */
export interface EngineOutcome {
  engine: Engine;
  status: Extract<EngineStatus, { state: 'succeeded' | 'failed' }>;
  /** When the engine accepted the task (on an earlier attempt, for one resumed). */
  startedAt: number;
}

/**
 * The engine side of one attempt: resumes the operation an earlier attempt saved (on the engine
 * that accepted it, never another), or starts the task on its route, then follows it to its end.
 * The job, with its downloaded media, is asked for only when the task must be started: resuming
 * needs nothing but the saved operation.
 */
export class EngineSession {
  /** The engine whose place the task holds, once it holds one. */
  engine: Engine | undefined;
  /** When the engine accepted the task, once one did. */
  startedAt: number | undefined;
  private operation: EngineOperation | undefined;

  constructor(
    private readonly task: TaskRecord,
    private readonly workDir: string,
    private readonly context: EngineSessionContext,
  ) {}

  async run(job: () => Promise<EngineJob>): Promise<EngineOutcome> {
    let status: EngineStatus = { state: 'lost' };
    if (this.task.engine && this.task.operation) {
      this.engine = this.savedEngine(this.task.engine);
      this.operation = this.task.operation;
      this.startedAt = this.task.startedAt ?? this.context.clock();
      status = await this.status();
    }
    let lastProgress = -1;
    for (;;) {
      if (status.state === 'lost') {
        await this.start(await job());
        status = await this.status();
      }
      if (status.state === 'succeeded' || status.state === 'failed') return { engine: this.engine!, status, startedAt: this.startedAt! };
      // An operation lost while it was followed (a render whose process went) is started again.
      if (status.state === 'lost') continue;
      await this.stopIfAborted();
      if (status.progressPercent !== lastProgress) {
        lastProgress = status.progressPercent;
        // Progress is only advice to pollers: a write that fails is skipped, not retried.
        await this.context.store.saveProgress(this.task.id, this.context.owner, status.progressPercent, status.etaSeconds).catch((error: unknown) => {
          this.context.disk?.reportFailure(error);
          this.context.log.warn({ err: error }, 'cannot record progress');
        });
      }
      const waitMs = status.nextCheckMs ?? 1000;
      const engine = this.engine!;
      await untilAborted(engine.changed ? engine.changed(this.operation!, waitMs) : sleep(waitMs), this.context.signal);
      await this.stopIfAborted();
      status = await this.status();
    }
  }

  private status(): Promise<EngineStatus> {
    return this.engine!.status(this.operation!, { workDir: this.workDir, signal: this.context.signal });
  }

  /** The engine an earlier attempt started the task on; never another, which would bill twice. */
  private savedEngine(name: string): Engine {
    try {
      return this.context.engines.get(name);
    } catch {
      throw errors.taskFailed(
        `the task was accepted by engine "${name}", which is no longer configured; it is not sent elsewhere, which could bill it twice`,
      );
    }
  }

  /**
   * Offers the task to each engine of its route that has room, in order, until one accepts. An
   * engine that did not accept (EngineUnavailable) created nothing, so the next may be asked; any
   * other error ends the task. When engines refused, the route is tried again after a wait, a
   * few times; when every engine was merely full, the task goes back to the queue to wait.
   */
  private async start(job: EngineJob): Promise<void> {
    const { places, log, store, signal } = this.context;
    const refusals: string[] = [];
    const delays = this.context.startRetryDelaysMs;
    for (let round = 0; ; round++) {
      let retryAfterMs = 0;
      let unavailable = false;
      for (const engine of this.context.engines.enginesFor(this.task.model)) {
        // The store counts and claims in one write: the only answer to "is there room" that holds.
        if (!(await places.claim(this.task.id, engine))) {
          refusals.push(`${engine.name}: full`);
          continue;
        }
        this.engine = engine;
        const startedAt = this.context.clock();
        try {
          this.operation = await engine.start(job);
        } catch (error) {
          if (!(error instanceof EngineUnavailable)) throw error;
          unavailable = true;
          refusals.push(`${engine.name}: ${error.message}`);
          retryAfterMs = Math.max(retryAfterMs, error.retryAfterMs ?? 0);
          log.warn({ engine: engine.name, why: error.message }, 'engine did not accept the task');
          continue;
        }
        log.info({ engine: engine.name, dispatch_ms: startedAt - this.task.createdAt }, 'engine started');
        this.startedAt = startedAt;
        this.context.observer?.started(this.task.model, engine.name, startedAt - this.task.createdAt);
        // Saved before anything else is asked, so a crash from here on resumes instead of resubmitting.
        const saved = await durableWrite(
          'the engine operation',
          () => store.saveOperation(this.task.id, this.context.owner, this.operation!, startedAt),
          this.context,
        );
        if (!saved) {
          await engine.cancel(this.operation);
          throw new LeaseEnded('the lease was lost');
        }
        return;
      }
      await places.unclaim(this.task.id);
      this.engine = undefined;
      if (!unavailable) throw new NoRoom(`every engine of the route is full: ${refusals.join('; ')}`);
      if (round >= delays.length) throw errors.createTaskFailed(`no engine accepted the task: ${refusals.join('; ')}`);
      await sleep(Math.max(delays[round], retryAfterMs), undefined, { signal }).catch(() => {
        throw signal.reason;
      });
    }
  }

  /**
   * On a lease that ended: a local render dies with us, so it is cancelled; a cloud operation is
   * left running, for whichever process resumes the task. A cancelled task's work is stopped
   * wherever it runs.
   */
  private async stopIfAborted(): Promise<void> {
    const { signal } = this.context;
    if (!signal.aborted) return;
    if (signal.reason instanceof TaskCancelled || !this.engine!.survivesRestart) await this.engine!.cancel(this.operation!);
    throw signal.reason;
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
