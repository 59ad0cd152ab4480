import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CachedAuthenticator, createApiKey } from './auth/api-keys.js';
import { LocalBlobStore } from './blobs/local/local-blob-store.js';
import { openBlobStore } from './blobs/open-blob-store.js';
import { UrlSigner } from './blobs/url-signer.js';
import { type Config, ConfigError, listOf, publicUrl } from './config.js';
import { configuredEngines, registryFor } from './engines/configured-engines.js';
import { createServer, httpSettingsOf } from './http/create-server.js';
import { createHealthServer } from './http/health-server.js';
import { LimitPolicy } from './limits/limit-policy.js';
import { RequestRateLimiter } from './limits/request-rate-limiter.js';
import { createMetricsServer } from './http/metrics-server.js';
import { resolveFfmpeg } from './media/ffmpeg-binaries.js';
import { probeMedia } from './media/probe.js';
import { CheckedMediaFetcher } from './media/checked-media-fetcher.js';
import { OwnUploads } from './media/own-uploads.js';
import { UploadedMediaSource } from './media/uploaded-media-source.js';
import { upstreamMediaUrls } from './media/upstream-media-urls.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { AddressPolicy } from './net/address-policy.js';
import { GuardedDownloader } from './net/guarded-downloader.js';
import type { Engine } from './spec/engine.js';
import { DiskSpace } from './store/disk-space.js';
import { openStore } from './store/open-store.js';
import type { Store } from './spec/store.js';
import { RetentionSweeper } from './tasks/retention-sweeper.js';
import { TaskService } from './tasks/task-service.js';
import { scratchSpace } from './tasks/worker/scratch-space.js';
import { PriceTable } from './usage/price-table.js';
import { usageMeter } from './usage/usage-meter.js';
import { Worker } from './tasks/worker/worker.js';
import { DeliveryAttempt } from './webhooks/delivery-attempt.js';
import { parseRetrySchedule } from './webhooks/retry-schedule.js';
import { WebhookDeliverer } from './webhooks/webhook-deliverer.js';
import { WebhookSender } from './webhooks/webhook-sender.js';
import { webhookUrlCheck } from './webhooks/webhook-url-check.js';

const hourMs = 3600 * 1000;

/** How long an authenticated key is trusted without asking the store again (revocation delay). */
const keyCacheMs = 2000;

export interface RunningServer {
  /** Where clients reach the server. */
  url: string;
  http: FastifyInstance;
  worker: Worker;
  store: Store;
  /** The key created on the first start of an empty data directory, to be shown once. */
  firstApiKey?: string;
  /** Where `metrics_port` serves `/metrics`, when it is set. */
  metricsUrl?: string;
  /** Graceful stop: unready, let running tasks finish (or hand them back), then close. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Engines to use instead of the preview renderer (tests). */
  engines?: Engine[];
}

/** The composition root: builds every part from the config and starts serving. */
export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  if (config.worker_only && config.worker_concurrency === 0) {
    throw new ConfigError('worker_only with worker_concurrency 0 would serve nothing and run nothing; give worker_concurrency 1 or more');
  }
  // Read before anything opens: a bad price table is refused at start, not at the first task's end.
  const prices = PriceTable.fromConfig(config.prices, config.price_currency);
  const limits = LimitPolicy.fromConfig(config);
  checkMetricsSettings(config);
  const metrics = metricsWanted(config) ? new ServerMetrics() : undefined;
  const opened = await openStore(config, { logger });
  const store = metrics ? metrics.store.timed(opened) : opened;
  const secret = config.url_signing_secret ?? (await store.sharedSecret('url_signing', () => legacySigningSecret(config.data_dir)));

  const toolchain = await resolveFfmpeg({ ffmpegPath: config.ffmpeg_path, ffprobePath: config.ffprobe_path });
  let baseUrl = '';
  const signer = new UrlSigner(secret);
  const blobs = await openBlobStore(config, { dataDir: config.data_dir, signer, baseUrl: () => baseUrl });
  // Files kept on this machine are served by this server and take room on its disk.
  const local = blobs instanceof LocalBlobStore;
  const ownUploads = new OwnUploads(store.uploads);
  const policy = addressPolicy(config);
  const downloader = new GuardedDownloader({ policy, totalTimeoutMs: config.media_timeout_seconds * 1000, userAgent: 'wan-api' });
  const { engines, registry } = options.engines
    ? { engines: options.engines, registry: registryFor(config, options.engines) }
    : configuredEngines(config, { toolchain, mediaUrl: upstreamMediaUrls(ownUploads, blobs), upstreamObserver: metrics?.upstream });

  const disk = new DiskSpace({ directory: config.data_dir, minFreeBytes: config.min_free_disk_bytes, onRecovered: () => worker.notify() });
  await disk.start();
  const workRoot = await scratchSpace(path.join(config.data_dir, 'work'));
  const worker = new Worker({
    store: store.tasks,
    events: store.events,
    blobs,
    engines: registry,
    media: new CheckedMediaFetcher({ source: new UploadedMediaSource(ownUploads, blobs, downloader), toolchain, observer: metrics?.media }),
    logger,
    workRoot,
    runTasks: config.worker_concurrency > 0,
    disk,
    leaseMs: config.lease_seconds * 1000,
    maxAttempts: config.max_attempts,
    queuePollMs: config.queue_poll_ms,
    meter: usageMeter({ prices, videoSeconds: async (file) => (await probeMedia(toolchain, file)).durationSeconds }),
    observer: metrics?.tasks,
  });
  const tasks = new TaskService({
    store: store.tasks,
    blobs,
    resultUrlTtlSeconds: config.result_url_ttl_seconds,
    disk,
    admission: (key) => limits.admission(key),
    checkWebhookUrl: webhookUrlCheck(policy),
    observer: metrics?.tasks,
  });
  const deliverer = new WebhookDeliverer({
    store: store.webhooks,
    events: store.events,
    attempt: new DeliveryAttempt({
      tasks: store.tasks,
      keys: store.keys,
      view: (task) => tasks.view(task),
      sender: new WebhookSender({ policy, userAgent: 'wan-api' }),
      clock: Date.now,
    }),
    logger,
    schedule: retrySchedule(config),
    concurrency: config.webhook_concurrency,
    observer: metrics?.webhooks,
  });
  const sweeper = new RetentionSweeper({
    store: store.retention,
    blobs,
    logger,
    resultRetentionMs: config.result_retention_hours * hourMs,
    uploadRetentionMs: (config.upload_retention_hours ?? Math.ceil(config.upload_url_ttl_seconds / 3600)) * hourMs,
    taskRetentionMs: config.task_retention_days === 0 ? undefined : config.task_retention_days * 24 * hourMs,
    sweepEveryMs: config.retention_sweep_seconds * 1000,
  });

  let draining = false;
  const isReady = async () => {
    const database = await store.ping().then(() => 'ok', (error: Error) => error.message);
    const checks = { database, disk: disk.problem() ?? 'ok', worker: draining ? 'draining' : 'ok' };
    return { ready: Object.values(checks).every((check) => check === 'ok'), checks };
  };
  metrics?.watch({ tasks: store.tasks, engines: registry, worker });
  // The API port (a worker's health port) serves /metrics only to the bearer of the metrics token.
  const metricsOnPort = metrics && config.metrics_token !== undefined ? { exposition: metrics, token: config.metrics_token } : undefined;
  // A worker-only process serves its health, not the API: API processes are scaled apart.
  const http = config.worker_only
    ? createHealthServer({ logger, isReady, metrics: metricsOnPort })
    : createServer({
        tasks,
        auth: new CachedAuthenticator(store.keys, keyCacheMs),
        blobs,
        uploads: store.uploads,
        store,
        ...(local ? { signer } : {}),
        logger,
        maxBodyBytes: config.max_body_bytes,
        uploadUrlTtlSeconds: config.upload_url_ttl_seconds,
        ...(local ? { disk } : {}),
        httpSettings: httpSettingsOf(config),
        toolchain,
        resultRetentionMs: config.result_retention_hours * hourMs,
        isReady,
        currency: prices.currency,
        rateLimit: { policy: limits, limiter: new RequestRateLimiter(store.keys) },
        metrics: metricsOnPort,
      });
  metrics?.http.install(http);
  const metricsServer =
    metrics && config.metrics_port !== undefined ? createMetricsServer({ logger, metrics, token: config.metrics_token }) : undefined;
  await http.listen({ host: config.host, port: config.port });
  const metricsUrl = metricsServer
    ? await metricsServer.listen({ host: config.metrics_host, port: config.metrics_port }).catch(async (error: unknown) => {
        await http.close();
        throw error;
      })
    : undefined;
  // Only once the server listens: a first start that fails (port taken, bad set-up) must not
  // create a key that nobody was shown.
  const firstApiKey =
    !config.worker_only && (await store.keys.countKeys()) === 0 ? (await createApiKey(store.keys, 'default', Date.now())).key : undefined;
  const address = http.server.address();
  baseUrl = publicUrl(config, typeof address === 'object' && address ? address.port : config.port);
  await worker.start();
  deliverer.start();
  sweeper.start();
  logger.info(
    {
      url: baseUrl,
      data_dir: config.data_dir,
      store: config.database_url === undefined ? 'sqlite' : 'postgres',
      serves: config.worker_only ? 'health' : 'api',
      runs_tasks: config.worker_concurrency > 0,
      worker: worker.owner,
      engines: engines.map((engine) => engine.name),
      ...(metricsUrl ? { metrics: `${metricsUrl}/metrics` } : {}),
    },
    'wan-api listening',
  );

  return {
    url: baseUrl,
    http,
    worker,
    store,
    firstApiKey,
    ...(metricsUrl ? { metricsUrl } : {}),
    async close() {
      draining = true;
      // Results stay readable while running tasks finish; the listener closes last.
      await worker.stop(config.shutdown_timeout_seconds * 1000);
      await Promise.all(engines.map((engine) => engine.close?.()));
      // Open live-status streams end here (see the task-events route).
      await Promise.all([http.close(), metricsServer?.close()]);
      await Promise.all([deliverer.close(), sweeper.stop()]);
      await store.close();
      disk.stop();
      await rm(workRoot, { recursive: true, force: true });
    },
  };
}

/**
 * The signing secret an older data directory kept in secrets.json, adopted by the store on its
 * first start so that URLs handed out before stay valid; a new secret otherwise.
 */
function legacySigningSecret(dataDir: string): string {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')).url_signing_secret;
  } catch {
    return randomBytes(32).toString('base64url');
  }
}

/**
 * Which addresses the server may reach on a user's behalf: media downloads and webhook
 * deliveries alike (docs/network-policy.md).
 */
function addressPolicy(config: Config): AddressPolicy {
  try {
    return new AddressPolicy({ allowHosts: listOf(config.media_allow_hosts), allowRanges: listOf(config.media_allow_ranges) });
  } catch (error) {
    throw new ConfigError(`media_allow_ranges: ${(error as Error).message}`);
  }
}

/**
 * Metrics are kept only where they can be read: on the metrics port, or on the API port behind the
 * metrics token. Neither set, nothing is counted and `/metrics` answers 404: a server exposes no
 * operational figures unless its operator says where and to whom.
 */
function metricsWanted(config: Config): boolean {
  return config.metrics_port !== undefined || config.metrics_token !== undefined;
}

/** Shortest metrics_token taken: a guessable token would open the figures to anyone who tries. */
const minMetricsTokenLength = 16;

function checkMetricsSettings(config: Config): void {
  if (config.metrics_token !== undefined && config.metrics_token.length < minMetricsTokenLength) {
    throw new ConfigError(
      `metrics_token is ${config.metrics_token.length} characters long: use at least ${minMetricsTokenLength} (e.g. openssl rand -hex 32)`,
    );
  }
  if (config.metrics_port !== undefined && config.metrics_port !== 0 && config.metrics_port === config.port) {
    throw new ConfigError(
      `metrics_port ${config.metrics_port} is the API port: give it another port, or leave it out and set metrics_token to serve /metrics on the API port`,
    );
  }
}

function retrySchedule(config: Config): number[] {
  try {
    return parseRetrySchedule(config.webhook_retry_seconds);
  } catch (error) {
    throw new ConfigError(`webhook_retry_seconds: ${(error as Error).message}`);
  }
}
