import type { Logger } from 'pino';
import type { TaskStore } from '../../spec/task-store.js';
import { TaskStatus } from '../../spec/task-status.js';

/**
 * One timer renews every lease a worker holds, in a single write however many tasks it follows,
 * at a third of the lease length. A task missing from the renewal is no longer this worker's:
 * another worker took it over (its lease had run out), or it ended without this worker (it was
 * cancelled); `onLost` is told which.
 *
 * A task renewed that the worker does not follow is one it leased without hearing the answer
 * (the database connection broke as the answer came back): renewed forever, it would never run.
 * It is handed back to the queue, unless a lease is being taken at that moment (its answer may
 * be on its way).
 */
export class LeaseRenewal {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      store: TaskStore;
      owner: string;
      leaseMs: number;
      logger: Logger;
      /** The tasks this worker follows now (those whose end is being written included). */
      held: () => string[];
      /** Whether the worker is waiting for the answer of a lease it asked for. */
      leasing: () => boolean;
      onLost: (taskId: string, why: 'taken over' | 'ended') => void;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.renew(), Math.max(500, Math.floor(this.options.leaseMs / 3)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    const { store, owner, leaseMs, logger } = this.options;
    // Asked even when the worker follows nothing: that is when a lease whose answer was lost
    // would otherwise never be found (its own owner never takes it over).
    const held = this.options.held();
    let renewed: Set<string>;
    try {
      renewed = new Set(await store.renewLeases(owner, leaseMs));
    } catch (error) {
      // The store may be back before the leases run out; the next round tries again.
      logger.warn({ err: error }, 'cannot renew leases');
      return;
    }
    for (const id of held) {
      if (renewed.has(id)) continue;
      const task = await store.getSnapshot(id).catch(() => undefined);
      const ended = task !== undefined && task.status !== TaskStatus.Processing && task.status !== TaskStatus.Queued;
      this.options.onLost(id, ended ? 'ended' : 'taken over');
    }
    // Read after the answer: a task leased while the renewal was on its way is followed by now.
    const following = new Set(this.options.held());
    if (this.options.leasing()) return;
    for (const id of renewed) {
      if (following.has(id)) continue;
      logger.warn({ task_id: id }, 'a task leased without this worker hearing it is handed back');
      await store.release(id, owner).catch((error: unknown) => logger.warn({ err: error, task_id: id }, 'cannot hand back a task'));
    }
  }
}
