import type { TaskEvents } from '../spec/task-events.js';
import type { TaskSnapshot, TaskStore } from '../spec/task-store.js';
import { TaskStatus } from '../spec/task-status.js';

export interface TaskChangesOptions {
  store: Pick<TaskStore, 'getSnapshot'>;
  events: TaskEvents;
  /**
   * How often the task's version is read when no event came. Events of other processes reach
   * this one only on stores that carry them (PostgreSQL); on the embedded store the read finds them.
   */
  pollMs: number;
}

export function isEnded(status: TaskStatus): boolean {
  return status === TaskStatus.Succeed || status === TaskStatus.Failed;
}

/**
 * The states of one task as it changes: each snapshot whose version is above `after` (the last
 * one a client saw), the first being the current state when it is newer, until the task ends or
 * `signal` aborts. States in between two reads may be skipped; the last state never is.
 */
export async function* taskChanges(taskId: string, after: number, options: TaskChangesOptions, signal: AbortSignal): AsyncGenerator<TaskSnapshot> {
  let wake: (() => void) | undefined;
  let changed = false;
  const unsubscribe = options.events.subscribe((event) => {
    if (event.type !== 'changed' || event.taskId !== taskId) return;
    changed = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    let seen = after;
    while (!signal.aborted) {
      changed = false;
      const task = await options.store.getSnapshot(taskId);
      // Deleted meanwhile (by its client, or by retention): nothing more will come.
      if (!task) return;
      if (task.version > seen) {
        seen = task.version;
        yield task;
      }
      if (isEnded(task.status)) return;
      if (changed) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, options.pollMs);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
        if (signal.aborted) done();
      });
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
  }
}
