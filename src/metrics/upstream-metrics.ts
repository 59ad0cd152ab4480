import type { Registry } from 'prom-client';
import type { UpstreamObserver } from '../spec/upstream-observer.js';
import { HotHistogram } from './hot-histogram.js';

/** Seconds: a status check answers in tens of milliseconds, a submission with uploads in seconds; 30 s is the timeout. */
const buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The HTTP requests this process's engines make to their upstreams (clouds, GPU hosts). */
export class UpstreamMetrics implements UpstreamObserver {
  /** Thousands of tasks followed mean hundreds of checks a second. */
  private readonly duration: HotHistogram<'engine' | 'status_code'>;

  constructor(registry: Registry) {
    this.duration = new HotHistogram({
      name: 'wan_upstream_request_seconds',
      help: 'HTTP requests to upstream engines by engine and status code (none: no answer came), with their time.',
      labelNames: ['engine', 'status_code'],
      buckets,
      registry,
    });
  }

  requested(engine: string, status: number | null, durationMs: number): void {
    this.duration.of(engine, status === null ? 'none' : String(status)).observe(durationMs / 1000);
  }
}
