import type { ModelId } from '../../models/model.js';

/**
 * How long after announcing a model's new tasks to the other processes (pg_notify) its next ones
 * wait to be announced, at most. Under load a grouped insert commits every millisecond or so, and
 * a notification in each cost the database 34–47 µs of the 400–440 µs of a group of 12, with one
 * process listening (docs/benchmarks.md): a worker woken once leases until the queue is empty, so
 * one notification a window says as much. A window's tasks are announced at its end, well within
 * cross-process dispatch's 50 ms.
 */
export const announceEveryMs = 10;

/**
 * Which groups of new tasks carry their announcement in their own statement, and which leave it
 * owed: those announced less than `announceEveryMs` ago. Owed models are announced together by
 * one statement at the window's end (`announce`), from the commit of the group that owed them on,
 * never before: a worker woken earlier could look before the tasks are there and find none.
 */
export class QueuedAnnouncements {
  private readonly lastAt = new Map<ModelId, number>();
  private readonly owed = new Set<ModelId>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Announces `models` to the other processes, now. */
    private readonly announce: (models: ModelId[]) => Promise<unknown>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether a group of `models` about to be written announces itself; if so, they count as announced now. */
  announcesNow(models: readonly ModelId[]): boolean {
    const now = this.clock();
    if (models.every((model) => now - (this.lastAt.get(model) ?? -Infinity) < announceEveryMs)) return false;
    for (const model of models) this.lastAt.set(model, now);
    return true;
  }

  /**
   * A group committed tasks of `models` (those it stored), `announced` or not. An announced group
   * settles what its models owed: its notification leaves after their commit. A group refused or
   * failed settles nothing.
   */
  committed(models: readonly ModelId[], announced: boolean): void {
    for (const model of models) {
      if (announced) this.owed.delete(model);
      else this.owed.add(model);
    }
    if (this.timer || this.owed.size === 0) return;
    const windowEnds = Math.min(...[...this.owed].map((model) => (this.lastAt.get(model) ?? 0) + announceEveryMs));
    this.timer = setTimeout(() => this.announceOwed(), Math.max(0, windowEnds - this.clock())).unref();
  }

  private announceOwed(): void {
    this.timer = undefined;
    const models = [...this.owed];
    // Groups that announced themselves meanwhile settled it.
    if (models.length === 0) return;
    this.owed.clear();
    const now = this.clock();
    for (const model of models) this.lastAt.set(model, now);
    // A lost announcement (the database unreachable, the store closed meanwhile) delays those
    // tasks to the other processes' next look at the queue (the fallback poll): they are committed.
    this.announce(models).catch(() => undefined);
  }
}
