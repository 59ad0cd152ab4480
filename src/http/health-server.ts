import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { healthRoutes } from './routes/health.js';
import { type MetricsExposition, metricsRoute } from './routes/metrics.js';
import { createSideServer } from './side-server.js';

/**
 * What a worker-only process serves (`worker_only`): its health for the orchestrator, no API; and
 * `/metrics` behind the metrics token, when one is set.
 */
export function createHealthServer(options: {
  logger: Logger;
  isReady: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  metrics?: { exposition: MetricsExposition; token: string };
}): FastifyInstance {
  const app = createSideServer(options.logger);
  healthRoutes(app, options.isReady);
  if (options.metrics) metricsRoute(app, options.metrics.exposition, options.metrics.token);
  return app;
}
