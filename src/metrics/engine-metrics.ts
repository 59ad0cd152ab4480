import { Gauge, type Registry } from 'prom-client';
import type { TaskStore } from '../spec/task-store.js';
import type { EngineRegistry } from '../engines/engine-registry.js';
import { scopeOf } from '../tasks/worker/engine-places.js';

/**
 * Running tasks per engine against its capacity, read when scraped. The running count is the
 * store's, across every process; the capacity is this process's configuration: per process for an
 * engine whose work dies with it (scope `process`, the preview renderer), for the whole set of
 * processes otherwise (scope `cluster`: clouds, GPU hosts).
 */
export function registerEngineMetrics(
  registry: Registry,
  sources: { tasks: Pick<TaskStore, 'engineLoad'>; engines: EngineRegistry; worker: { readonly busy: number } },
): void {
  const registers = [registry];
  new Gauge({
    name: 'wan_engine_running_tasks',
    help: 'Running tasks holding a place on each engine, across every process.',
    labelNames: ['engine'],
    registers,
    async collect() {
      this.reset();
      // Left out while the store cannot be reached, like the queue.
      const load = await sources.tasks.engineLoad().catch(() => undefined);
      if (!load) return;
      for (const engine of sources.engines.all()) this.set({ engine: engine.name }, load[engine.name] ?? 0);
    },
  });
  new Gauge({
    name: 'wan_engine_capacity',
    help: 'Tasks each engine may run at once: per process (scope process) or across every process (scope cluster).',
    labelNames: ['engine', 'scope'],
    registers,
    collect() {
      for (const engine of sources.engines.all()) this.set({ engine: engine.name, scope: scopeOf(engine) }, engine.capacity);
    },
  });
  new Gauge({
    name: 'wan_worker_running_tasks',
    help: 'Tasks this process is carrying out now.',
    registers,
    collect() {
      this.set(sources.worker.busy);
    },
  });
}
