import { maxHeaderSize } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { BlobStore } from '../spec/blob-store.js';
import type { Store } from '../spec/store.js';
import type { UploadStore } from '../spec/upload-store.js';
import type { DiskState } from '../spec/disk-state.js';
import type { CachedAuthenticator } from '../auth/api-keys.js';
import type { UrlSigner } from '../blobs/url-signer.js';
import { type Config, configKeys, listOf } from '../config.js';
import type { FfmpegToolchain } from '../media/ffmpeg-binaries.js';
import { buildOpenApiDocument } from '../models/openapi.js';
import type { TaskService } from '../tasks/task-service.js';
import { installBodyDeadline } from './body-deadline.js';
import { installCors } from './cors.js';
import { answerConnect, answerExpectation, clientErrorHandler, frameworkErrorHandler, installErrorHandler } from './error-handler.js';
import { installJsonBodyParser } from './json-body-parser.js';
import { installRateLimit, type RateLimitOptions } from './rate-limit.js';
import { installRequestGuards } from './request-guards.js';
import { lazyRequestLogger } from './request-logger.js';
import { fileRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { type MetricsExposition, metricsRoute } from './routes/metrics.js';
import { openAiVideoRoutes } from './routes/openai-videos/routes.js';
import { playgroundRoutes } from './routes/playground.js';
import { submitRoutes } from './routes/submit.js';
import { taskCancelRoute } from './routes/task-cancel.js';
import { taskEventsRoute } from './routes/task-events.js';
import { taskListRoute } from './routes/task-list.js';
import { webhookRoutes } from './routes/webhooks.js';
import { taskResultRoute } from './routes/task-result.js';
import { uploadRoutes } from './routes/uploads.js';
import { usageRoute } from './routes/usage.js';

/** The settings of the HTTP layer, from the config keys of the same names. */
export interface HttpSettings {
  requestHeaderTimeoutSeconds: number;
  requestBodyTimeoutSeconds: number;
  requestBodyMinBytesPerSecond: number;
  corsOrigins: string[];
}

export function httpSettingsOf(config: Config): HttpSettings {
  return {
    requestHeaderTimeoutSeconds: config.request_header_timeout_seconds,
    requestBodyTimeoutSeconds: config.request_body_timeout_seconds,
    requestBodyMinBytesPerSecond: config.request_body_min_bytes_per_second,
    corsOrigins: listOf(config.cors_origins),
  };
}

export interface ServerDependencies {
  tasks: TaskService;
  auth: CachedAuthenticator;
  blobs: BlobStore;
  uploads: UploadStore;
  /** What the lifecycle endpoints read: task changes (live status), deliveries, webhook secrets. */
  store: Pick<Store, 'tasks' | 'keys' | 'webhooks' | 'events' | 'usage'>;
  /** Signs the local blob store's file URLs; absent when results live in object storage (no /v3/files). */
  signer?: UrlSigner;
  logger: Logger;
  maxBodyBytes: number;
  /** Lifetime of the URLs that `POST /v3/uploads` answers. */
  uploadUrlTtlSeconds: number;
  /** Room on the server's disk, for uploads kept there. */
  disk?: DiskState;
  httpSettings: HttpSettings;
  /** ffmpeg, for the thumbnails of `/v1/videos/{id}/content?variant=thumbnail`. */
  toolchain: FfmpegToolchain;
  /** How long result files are kept after a task ends: `expires_at` of `/v1/videos`. */
  resultRetentionMs: number;
  isReady: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  /** Currency of the price table, shown by `GET /v3/usage`; the config's default when not given. */
  currency?: string;
  /** Requests per minute of each key; absent, no key is held to one. */
  rateLimit?: Omit<RateLimitOptions, 'auth'>;
  /** `GET /metrics` on the API port, for requests bearing `token` (metrics_token); absent: not served here. */
  metrics?: { exposition: MetricsExposition; token: string };
  clock?: () => number;
}

/** How often Node looks for connections past the header deadline; the deadline is kept to this. */
const connectionsCheckingIntervalMs = 1000;

/**
 * The HTTP face of the server; everything it needs is handed in, so tests can build one
 * in-process. The routes are registered when the server starts (`ready`, `listen`), so an
 * `onRoute` hook added to the returned instance sees every one of them.
 */
export function createServer(dependencies: ServerDependencies): FastifyInstance {
  const settings = dependencies.httpSettings;
  const app: FastifyInstance = Fastify({
    loggerInstance: dependencies.logger as FastifyBaseLogger,
    // One log line per request costs a third of the throughput; task events are logged instead.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: dependencies.maxBodyBytes,
    http: {
      // Headers must be in within the limit; bodies have their own deadline (body-deadline.ts),
      // so no whole-request limit cuts a long upload.
      headersTimeout: settings.requestHeaderTimeoutSeconds * 1000,
      requestTimeout: 0,
      connectionsCheckingInterval: connectionsCheckingIntervalMs,
      // Node would answer a missing Host with an empty 400; request-guards.ts answers it.
      requireHostHeader: false,
    },
    // Both would answer in Fastify's own body; these answer in the documented one.
    return503OnClosing: false,
    clientErrorHandler: clientErrorHandler({ headerTimeoutSeconds: settings.requestHeaderTimeoutSeconds, maxHeaderBytes: maxHeaderSize }),
    frameworkErrors: frameworkErrorHandler,
  });
  installErrorHandler(app, dependencies.maxBodyBytes);
  // A client that half-closes after its request still gets the answer (RFC 9112: a half-close
  // neither ends a request nor says the client lost interest); Node would otherwise end the
  // connection before an answer still being made is written. The property is Node's own
  // (lib/_http_server.js), not in its typings.
  (app.server as typeof app.server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  app.server.on('connect', answerConnect);
  app.server.on('checkExpectation', answerExpectation);
  // First of the hooks: a refused request needs no deadline, and every other one gets it.
  installRequestGuards(app);
  installBodyDeadline(app, { timeoutSeconds: settings.requestBodyTimeoutSeconds, minBytesPerSecond: settings.requestBodyMinBytesPerSecond });
  installCors(app, settings.corsOrigins);
  // The API speaks only JSON: a text body is refused by its Content-Type, not parsed as a string.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);

  void app.register(async (api) => {
    if (dependencies.rateLimit) installRateLimit(api, { auth: dependencies.auth, ...dependencies.rateLimit });
    submitRoutes(api, dependencies.tasks, dependencies.auth);
    taskResultRoute(api, dependencies.tasks, dependencies.auth);
    taskCancelRoute(api, dependencies.tasks, dependencies.auth);
    taskListRoute(api, dependencies.tasks, dependencies.auth);
    taskEventsRoute(api, { tasks: dependencies.tasks, keys: dependencies.auth, store: dependencies.store.tasks, events: dependencies.store.events });
    webhookRoutes(api, { tasks: dependencies.tasks, auth: dependencies.auth, keys: dependencies.store.keys, webhooks: dependencies.store.webhooks });
    if (dependencies.signer) fileRoutes(api, dependencies.blobs, dependencies.signer, dependencies.clock ?? Date.now);
    const uploadPlace = {
      blobs: dependencies.blobs,
      uploads: dependencies.uploads,
      urlTtlSeconds: dependencies.uploadUrlTtlSeconds,
      disk: dependencies.disk,
      clock: dependencies.clock ?? Date.now,
    };
    uploadRoutes(api, { auth: dependencies.auth, ...uploadPlace });
    usageRoute(api, { auth: dependencies.auth, usage: dependencies.store.usage, currency: dependencies.currency ?? configKeys.price_currency.default, clock: dependencies.clock ?? Date.now });
    api.register(openAiVideoRoutes, {
      tasks: dependencies.tasks,
      auth: dependencies.auth,
      uploads: uploadPlace,
      toolchain: dependencies.toolchain,
      maxBodyBytes: dependencies.maxBodyBytes,
      resultRetentionMs: dependencies.resultRetentionMs,
    });
    healthRoutes(api, dependencies.isReady);
    if (dependencies.metrics) metricsRoute(api, dependencies.metrics.exposition, dependencies.metrics.token);
    api.register(playgroundRoutes);
    const openApi = JSON.stringify(buildOpenApiDocument({}));
    api.get('/openapi.json', async (_request, reply) => reply.type('application/json').send(openApi));
  });
  return app;
}
