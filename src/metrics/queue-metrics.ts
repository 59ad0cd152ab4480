import { Gauge, type Registry } from 'prom-client';
import type { QueueStats, TaskStore } from '../spec/task-store.js';

/** The queue is counted up to this many tasks: past it, a scrape would cost more than it tells. */
export const queueCountCap = 100_000;

/**
 * The queue across every process sharing the store, read from it when scraped (one indexed query),
 * never on a request. While the store cannot be reached both read NaN (unknown) rather than repeat
 * a stale value or claim an empty queue.
 */
export function registerQueueMetrics(registry: Registry, tasks: Pick<TaskStore, 'queueStats'>, clock: () => number = Date.now): void {
  let pending: Promise<QueueStats | undefined> | undefined;
  // Both gauges of a scrape are collected together: the first asks the store, the other shares
  // the answer, and the next scrape asks again.
  const read = () =>
    (pending ??= tasks
      .queueStats(queueCountCap)
      .catch(() => undefined)
      .finally(() => (pending = undefined)));
  new Gauge({
    name: 'wan_queue_depth',
    help: `Tasks waiting for an engine, across every process (counted up to ${queueCountCap}).`,
    registers: [registry],
    async collect() {
      const found = await read();
      this.set(found ? found.queued : NaN);
    },
  });
  new Gauge({
    name: 'wan_queue_oldest_age_seconds',
    help: 'Age of the oldest task waiting for an engine (0 when none waits).',
    registers: [registry],
    async collect() {
      const found = await read();
      this.set(!found ? NaN : found.oldestCreatedAt === null ? 0 : Math.max(0, clock() - found.oldestCreatedAt) / 1000);
    },
  });
}
