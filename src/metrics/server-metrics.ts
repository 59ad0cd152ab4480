import { collectDefaultMetrics, Registry } from 'prom-client';
import type { TaskStore } from '../spec/task-store.js';
import type { EngineRegistry } from '../engines/engine-registry.js';
import { registerEngineMetrics } from './engine-metrics.js';
import { HttpMetrics } from './http-metrics.js';
import { MediaMetrics } from './media-metrics.js';
import { registerQueueMetrics } from './queue-metrics.js';
import { StoreMetrics } from './store-metrics.js';
import { TaskMetrics } from './task-metrics.js';
import { UpstreamMetrics } from './upstream-metrics.js';
import { WebhookMetrics } from './webhook-metrics.js';

/**
 * Every metric of one server, in a registry of its own (never prom-client's global one), so that
 * several servers in one process (the tests) keep apart. The parts that observe events are handed
 * to the flow as its observers; the state read at scrape time is watched once the parts it reads
 * exist.
 */
export class ServerMetrics {
  private readonly registry = new Registry();
  readonly http = new HttpMetrics(this.registry);
  readonly tasks = new TaskMetrics(this.registry);
  readonly media = new MediaMetrics(this.registry);
  readonly webhooks = new WebhookMetrics(this.registry);
  readonly store = new StoreMetrics(this.registry);
  readonly upstream = new UpstreamMetrics(this.registry);

  constructor() {
    // The process's own: CPU, memory, event-loop delay, garbage collection, open handles.
    collectDefaultMetrics({ register: this.registry });
  }

  /** Queue depth, engine load and this worker's tasks, read when scraped. */
  watch(sources: { tasks: Pick<TaskStore, 'queueStats' | 'engineLoad'>; engines: EngineRegistry; worker: { readonly busy: number } }): void {
    registerQueueMetrics(this.registry, sources.tasks);
    registerEngineMetrics(this.registry, sources);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
