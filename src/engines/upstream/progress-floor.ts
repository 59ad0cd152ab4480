/**
 * The highest progress reported so far for each task this process follows, so that a report
 * never goes back: after a check that got no answer (only an estimate then), or when an
 * upstream's own figure wobbles. Memory only: after a restart, progress starts from the
 * upstream's figure or the estimate again.
 */
export class ProgressFloor {
  private readonly highest = new Map<string, number>();

  /** `percent`, or the highest reported before for the task if that was higher. */
  raise(taskKey: string, percent: number): number {
    const floor = Math.max(this.highest.get(taskKey) ?? 0, percent);
    this.highest.set(taskKey, floor);
    return floor;
  }

  /** For a task that ended or was cancelled. */
  forget(taskKey: string): void {
    this.highest.delete(taskKey);
  }

  get size(): number {
    return this.highest.size;
  }
}
