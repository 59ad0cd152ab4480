import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { installErrorHandler } from './error-handler.js';

/** Bodies are never read here: only GETs without one are served. */
const noBodyBytes = 1024;

/**
 * A listener beside the API (a worker's health, the metrics port): bodiless GETs only, and any
 * other path answers the documented not-found body, so a client pointed here by mistake is told so.
 */
export function createSideServer(logger: Logger): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: noBodyBytes,
    return503OnClosing: true,
  });
  installErrorHandler(app, noBodyBytes);
  return app;
}
