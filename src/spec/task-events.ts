import type { ModelId } from '../models/model.js';
import type { TaskStatus } from './task-status.js';

/**
 * What happened to tasks, told to every process that shares the store (in-process for the
 * embedded store; LISTEN/NOTIFY on PostgreSQL). Events only wake listeners up: a listener reads
 * the store for the truth, so a missed or repeated event costs a poll, never a wrong answer.
 */
export type TaskEvent =
  /** A task was queued (submitted, or handed back): idle workers look for work. */
  | { type: 'queued'; model: ModelId }
  /** Something a client can see changed: live status streams send the new state. */
  | { type: 'changed'; taskId: string; version: number; status: TaskStatus }
  /** A task was cancelled: the worker running it stops its engine. */
  | { type: 'cancelled'; taskId: string }
  /** A webhook delivery is due: the deliverer looks for work. */
  | { type: 'delivery' };

export interface TaskEvents {
  /** Calls `listener` for every event until the answered function is called. */
  subscribe(listener: (event: TaskEvent) => void): () => void;
}
