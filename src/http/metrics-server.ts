import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type MetricsExposition, metricsRoute } from './routes/metrics.js';
import { createSideServer } from './side-server.js';

/**
 * The listener of `metrics_port`: `/metrics` alone, apart from the API, so that it can be bound to
 * an address only the monitoring network reaches; it asks for the metrics token too when one is set.
 */
export function createMetricsServer(options: { logger: Logger; metrics: MetricsExposition; token?: string }): FastifyInstance {
  const app = createSideServer(options.logger);
  metricsRoute(app, options.metrics, options.token);
  return app;
}
