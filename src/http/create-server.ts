import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { BlobStore } from '../spec/blob-store.js';
import type { CachedAuthenticator } from '../auth/api-keys.js';
import type { UrlSigner } from '../blobs/url-signer.js';
import { buildOpenApiDocument } from '../models/openapi.js';
import type { TaskService } from '../tasks/task-service.js';
import { installErrorHandler } from './error-handler.js';
import { fileRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { submitRoutes } from './routes/submit.js';
import { taskResultRoute } from './routes/task-result.js';
import { uploadRoutes } from './routes/uploads.js';

export interface ServerDependencies {
  tasks: TaskService;
  auth: CachedAuthenticator;
  blobs: BlobStore;
  signer: UrlSigner;
  logger: Logger;
  maxBodyBytes: number;
  /** Lifetime of the URLs that `POST /v3/uploads` answers. */
  uploadUrlTtlSeconds: number;
  isReady: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  clock?: () => number;
}

/** The HTTP face of the server; everything it needs is handed in, so tests can build one in-process. */
export function createServer(dependencies: ServerDependencies): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: dependencies.logger as FastifyBaseLogger,
    // One log line per request costs a third of the throughput; task events are logged instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: dependencies.maxBodyBytes,
    return503OnClosing: true,
  });
  // The API speaks only JSON: a text body is refused by its Content-Type, not parsed as a string.
  app.removeContentTypeParser('text/plain');
  installErrorHandler(app, dependencies.maxBodyBytes);
  submitRoutes(app, dependencies.tasks, dependencies.auth);
  taskResultRoute(app, dependencies.tasks, dependencies.auth);
  fileRoutes(app, dependencies.blobs, dependencies.signer, dependencies.clock ?? Date.now);
  uploadRoutes(app, {
    auth: dependencies.auth,
    blobs: dependencies.blobs,
    urlTtlSeconds: dependencies.uploadUrlTtlSeconds,
    clock: dependencies.clock ?? Date.now,
  });
  healthRoutes(app, dependencies.isReady);
  const openApi = JSON.stringify(buildOpenApiDocument({}));
  app.get('/openapi.json', async (_request, reply) => reply.type('application/json').send(openApi));
  return app;
}
