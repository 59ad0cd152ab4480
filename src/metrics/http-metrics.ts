import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { HotHistogram } from './hot-histogram.js';

/** Seconds: a cached poll takes well under a millisecond, an upload may take minutes. */
const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Requests by method, route and status, with their latency. The route is the template the request
 * matched (`/v3/files/*`), never the URL itself, so task ids and signatures cannot multiply the
 * series; a request that matched no route counts under `unmatched`.
 */
export class HttpMetrics {
  private readonly duration: HotHistogram<'method' | 'route' | 'status_code'>;

  constructor(registry: Registry) {
    this.duration = new HotHistogram({
      name: 'wan_http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status code, with the time to answer them.',
      labelNames: ['method', 'route', 'status_code'],
      buckets,
      registry,
    });
  }

  /** Counts every answer of `app` (an onResponse hook, the cheapest point that knows the status). */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', (request, reply, done) => {
      this.duration.of(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode)).observe(reply.elapsedTime / 1000);
      done();
    });
  }
}
