import { Counter, Histogram, type Registry } from 'prom-client';
import type { TaskEnd, TaskObserver } from '../spec/task-observer.js';
import type { ModelId } from '../models/model.js';

/** Seconds a task waits for an engine: at once when there is room, hours behind a backlog. */
const waitBuckets = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** Seconds on its engine: a preview renders in seconds, a cloud or GPU render takes minutes. */
const runBuckets = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/** Tasks as they are submitted, start on an engine and end: counted by the process where each happens. */
export class TaskMetrics implements TaskObserver {
  private readonly submittedTotal: Counter<'model'>;
  private readonly startedTotal: Counter<'model' | 'engine'>;
  private readonly succeededTotal: Counter<'model' | 'engine'>;
  private readonly failedTotal: Counter<'model' | 'engine' | 'reason'>;
  private readonly wait: Histogram<'model' | 'engine'>;
  private readonly run: Histogram<'model' | 'engine' | 'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.submittedTotal = new Counter({ name: 'wan_tasks_submitted_total', help: 'Tasks accepted and queued, by model.', labelNames: ['model'], registers });
    this.startedTotal = new Counter({
      name: 'wan_tasks_started_total',
      help: 'Tasks an engine accepted, by model and engine (a task resumed after a restart is not started again).',
      labelNames: ['model', 'engine'],
      registers,
    });
    this.succeededTotal = new Counter({ name: 'wan_tasks_succeeded_total', help: 'Tasks that ended with their videos, by model and engine.', labelNames: ['model', 'engine'], registers });
    this.failedTotal = new Counter({
      name: 'wan_tasks_failed_total',
      help: 'Tasks that ended failed, by model, engine (none: before any engine took it, or cancelled) and error reason.',
      labelNames: ['model', 'engine', 'reason'],
      registers,
    });
    this.wait = new Histogram({
      name: 'wan_task_queue_wait_seconds',
      help: 'Time from submission until an engine accepted the task.',
      labelNames: ['model', 'engine'],
      buckets: waitBuckets,
      registers,
    });
    this.run = new Histogram({
      name: 'wan_task_run_seconds',
      help: 'Time from the engine accepting the task to its end: the render, or the upstream cloud or GPU host at work.',
      labelNames: ['model', 'engine', 'outcome'],
      buckets: runBuckets,
      registers,
    });
  }

  submitted(model: ModelId): void {
    this.submittedTotal.inc({ model });
  }

  started(model: ModelId, engine: string, waitMs: number): void {
    this.startedTotal.inc({ model, engine });
    this.wait.observe({ model, engine }, Math.max(0, waitMs) / 1000);
  }

  ended({ model, engine, outcome, reason, runMs }: TaskEnd): void {
    if (outcome === 'succeeded') this.succeededTotal.inc({ model, engine });
    else this.failedTotal.inc({ model, engine, reason: reason ?? 'unknown' });
    if (runMs !== undefined) this.run.observe({ model, engine, outcome }, Math.max(0, runMs) / 1000);
  }
}
