import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { installErrorHandler } from './error-handler.js';
import { healthRoutes } from './routes/health.js';

/** Bodies are never read here: only GETs without one are served. */
const noBodyBytes = 1024;

/**
 * What a worker-only process serves (`worker_only`): its health for the orchestrator, no API.
 * Any other path answers the documented not-found body, so a client pointed here by mistake is
 * told so.
 */
export function createHealthServer(options: {
  logger: Logger;
  isReady: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
}): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: noBodyBytes,
    return503OnClosing: true,
  });
  installErrorHandler(app, noBodyBytes);
  healthRoutes(app, options.isReady);
  return app;
}
