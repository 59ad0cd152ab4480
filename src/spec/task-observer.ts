import type { ModelId } from '../models/model.js';

/** How a task ended, as counted: the reason is the error's (`TASK_FAILED`, `MEDIA_…`), none on success. */
export interface TaskEnd {
  model: ModelId;
  /** The engine that ran it; `none` when it ended before any engine took it, or was cancelled by its client. */
  engine: string;
  outcome: 'succeeded' | 'failed';
  reason?: string;
  /** From the engine's start to the end; absent when no engine started it. */
  runMs?: number;
}

/**
 * What the task flow reports as it goes, for whoever counts (the metrics): the flow stays free of
 * any metrics library, and a server without metrics passes none. Calls must be cheap and must not
 * throw: they sit on the paths they observe.
 */
export interface TaskObserver {
  /** A task was stored, queued (not a repeat of an idempotent request). */
  submitted(model: ModelId): void;
  /** An engine accepted the task `waitMs` after it was submitted. */
  started(model: ModelId, engine: string, waitMs: number): void;
  /** The end was recorded (exactly once per task: only the write that ended it reports). */
  ended(end: TaskEnd): void;
}
