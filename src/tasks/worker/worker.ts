import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { BlobStore } from '../../spec/blob-store.js';
import type { DiskState } from '../../spec/disk-state.js';
import type { TaskEvents } from '../../spec/task-events.js';
import type { TaskObserver } from '../../spec/task-observer.js';
import type { TaskRecord, TaskStore } from '../../spec/task-store.js';
import type { EngineRegistry } from '../../engines/engine-registry.js';
import type { MediaFetcher } from '../../media/media-fetcher.js';
import { EnginePlaces } from './engine-places.js';
import { LeaseRenewal } from './lease-renewal.js';
import { LeaseEnded, TaskCancelled } from './run-stops.js';
import type { UsageMeter } from './task-ending.js';
import { runTask } from './task-run.js';

export interface WorkerOptions {
  store: TaskStore;
  /** Where the worker hears of queued and cancelled tasks, from any process. */
  events: TaskEvents;
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
   * Whether the data directory can take more: while it cannot, no task is taken, and a task that
   * fails meanwhile is handed back rather than failed (the disk, not the task, was at fault).
   */
  disk?: DiskState;
  /** What each finished task bills. */
  meter?: UsageMeter;
  /** Told when tasks start and end (the metrics). */
  observer?: TaskObserver;
  /**
   * Waits between rounds of offering a task to its route when every engine refused it
   * (capacity, outage); after the last, the task fails with CREATE_TASK_FAILED.
   */
  startRetryDelaysMs?: readonly number[];
  clock?: () => number;
}

interface RunningTask {
  done: Promise<void>;
  /** Aborted when the lease ends (shutdown, lost to another worker) or the task is cancelled. */
  lease: AbortController;
}

const defaultStartRetryDelaysMs = [2_000, 10_000];

/**
 * Takes tasks from the store, as many as its engines have room for, and runs each (task-run.ts).
 * A task is held under a lease that one timer renews; a worker that dies stops renewing, and
 * another worker (or this one after a restart) takes the task up again. Every write names the
 * lease, so a task can only ever be completed once.
 */
export class Worker {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly running = new Map<string, RunningTask>();
  private readonly places: EnginePlaces;
  private readonly renewal: LeaseRenewal;
  private readonly clock: () => number;
  private readonly runTasks: boolean;
  private pollTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private filling = false;
  private fillAgain = false;
  /** True while a lease is asked for: a renewal must not hand back the task it is taking. */
  private leasing = false;
  private stopping = false;
  /** Aborted when shutdown stops waiting: writes still being retried then give up. */
  private readonly halted = new AbortController();

  constructor(private readonly options: WorkerOptions) {
    this.clock = options.clock ?? Date.now;
    this.runTasks = options.runTasks ?? true;
    this.places = new EnginePlaces(options.engines, options.store, this.owner);
    this.renewal = new LeaseRenewal({
      store: options.store,
      owner: this.owner,
      leaseMs: options.leaseMs,
      logger: options.logger,
      held: () => [...this.running.keys()],
      leasing: () => this.leasing,
      onLost: (taskId, why) =>
        this.running.get(taskId)?.lease.abort(why === 'ended' ? new TaskCancelled() : new LeaseEnded('the lease was taken over')),
    });
  }

  async start(): Promise<void> {
    await mkdir(this.options.workRoot, { recursive: true });
    if (!this.runTasks) return;
    this.unsubscribe = this.options.events.subscribe((event) => {
      if (event.type === 'queued') this.notify();
      else if (event.type === 'cancelled') this.running.get(event.taskId)?.lease.abort(new TaskCancelled());
    });
    // Events wake the worker at once; the poll finds what no event announced (expired leases).
    this.pollTimer = setInterval(() => this.notify(), this.options.queuePollMs);
    this.pollTimer.unref();
    this.renewal.start();
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
    if (this.options.disk?.problem() !== undefined) return;
    try {
      await this.places.refresh();
    } catch (error) {
      this.options.logger.error({ err: error }, 'cannot read the load of the engines');
      return;
    }
    while (!this.stopping && this.options.disk?.problem() === undefined) {
      // With no room anywhere, only tasks whose worker died are taken: they hold their places.
      const eligible = this.places.modelsWithRoom();
      let task: TaskRecord | undefined;
      this.leasing = true;
      try {
        task = await this.options.store.leaseNext(this.owner, this.options.leaseMs, eligible);
      } catch (error) {
        this.options.logger.error({ err: error }, 'cannot lease a task');
        return;
      } finally {
        this.leasing = false;
      }
      if (!task) return;
      this.places.take(task);
      this.run(task);
    }
  }

  private run(task: TaskRecord): void {
    const entry: RunningTask = { done: Promise.resolve(), lease: new AbortController() };
    this.running.set(task.id, entry);
    entry.done = runTask(task, entry.lease.signal, {
      ...this.options,
      places: this.places,
      owner: this.owner,
      halted: this.halted.signal,
      startRetryDelaysMs: this.options.startRetryDelaysMs ?? defaultStartRetryDelaysMs,
      clock: this.clock,
    }).finally(() => {
      // The task may be running again already (handed back, then leased anew while this attempt
      // cleaned up): that newer attempt stays followed.
      if (this.running.get(task.id) === entry) this.running.delete(task.id);
      this.notify();
    });
  }

  /**
   * Stops taking tasks and waits up to `timeoutMs` for the running ones; those still running
   * then are stopped and handed back to the queue for another process (or the next start).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    clearInterval(this.pollTimer);
    const all = () => Promise.all([...this.running.values()].map((entry) => entry.done));
    const timer = new AbortController();
    await Promise.race([all(), sleep(timeoutMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
    this.halted.abort();
    for (const entry of this.running.values()) entry.lease.abort(new LeaseEnded('shutting down'));
    await all();
    this.renewal.stop();
  }
}
