import type { TaskEvent, TaskEvents } from '../spec/task-events.js';

/**
 * Task events among the listeners of this process. The embedded store publishes its own writes
 * here; a store shared by processes publishes what it hears from the database too.
 */
export class LocalEvents implements TaskEvents {
  private readonly listeners = new Set<(event: TaskEvent) => void>();

  subscribe(listener: (event: TaskEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: TaskEvent): void {
    for (const listener of this.listeners) {
      // A listener that throws must not keep the others, or the write that published, from going on.
      try {
        listener(event);
      } catch {
        // the listener's own failure; it logs what it needs
      }
    }
  }
}
