import type { Registry } from 'prom-client';
import type { Store } from '../spec/store.js';
import { HotHistogram } from './hot-histogram.js';

/** Seconds: an SQLite read takes microseconds, a PostgreSQL write a few milliseconds, a stalled one seconds. */
const buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The parts of the store whose calls are timed: every durable read and write goes through one of them. */
const timedParts = ['tasks', 'keys', 'webhooks', 'uploads', 'usage', 'retention'] as const;

/**
 * Store latency, timed at the one seam every caller shares: the store's parts are wrapped once, so
 * each call (`tasks.getSnapshot`, `webhooks.claimDueDeliveries` …) is timed from the caller's side,
 * waits for a connection or the commit thread included, whichever backend is behind it.
 */
export class StoreMetrics {
  private readonly duration: HotHistogram<'operation'>;

  constructor(registry: Registry) {
    this.duration = new HotHistogram({
      name: 'wan_store_operation_seconds',
      help: 'Time of each store call, by operation (part.method), successful or not.',
      labelNames: ['operation'],
      buckets,
      registry,
    });
  }

  /** The store with its parts timed; everything else (events, ping, close) is the store's own. */
  timed(store: Store): Store {
    const parts = Object.fromEntries(timedParts.map((part) => [part, { value: this.timedPart(store[part], part) }]));
    return Object.create(store, parts) as Store;
  }

  private timedPart<T extends object>(part: T, name: string): T {
    const timed = Object.create(part) as Record<string, unknown>;
    for (const method of methodsOf(part)) {
      const original = (part as Record<string, (...args: unknown[]) => unknown>)[method];
      const series = this.duration.of(`${name}.${method}`);
      timed[method] = (...args: unknown[]) => {
        const began = performance.now();
        const done = () => series.observe((performance.now() - began) / 1000);
        let answer: unknown;
        try {
          answer = original.apply(part, args);
        } catch (error) {
          done();
          throw error;
        }
        if (!(answer instanceof Promise)) {
          done();
          return answer;
        }
        return answer.then(
          (value: unknown) => {
            done();
            return value;
          },
          (error: unknown) => {
            done();
            throw error;
          },
        );
      };
    }
    return timed as T;
  }
}

/** The methods of an object's classes, the constructor aside. */
function methodsOf(object: object): string[] {
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(object); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, name)?.value === 'function') names.add(name);
    }
  }
  return [...names];
}
