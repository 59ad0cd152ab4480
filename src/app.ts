import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CachedAuthenticator, createApiKey } from './auth/api-keys.js';
import { LocalBlobStore } from './blobs/local/local-blob-store.js';
import { UrlSigner } from './blobs/url-signer.js';
import { type Config, ConfigError, listOf, publicUrl } from './config.js';
import { configuredEngines, registryFor } from './engines/configured-engines.js';
import { createServer } from './http/create-server.js';
import { resolveFfmpeg } from './media/ffmpeg-binaries.js';
import { CheckedMediaFetcher } from './media/checked-media-fetcher.js';
import { UploadedMediaSource } from './media/uploaded-media-source.js';
import { upstreamMediaUrls } from './media/upstream-media-urls.js';
import { AddressPolicy } from './net/address-policy.js';
import { GuardedDownloader } from './net/guarded-downloader.js';
import type { Engine } from './spec/engine.js';
import { openStore } from './store/open-store.js';
import type { SqliteStore } from './store/sqlite/sqlite-store.js';
import { TaskService } from './tasks/task-service.js';
import { Worker } from './tasks/worker.js';

/** A finished video brought home from a cloud engine is never larger than this. */
const largestResultBytes = 2 * 1024 * 1024 * 1024;

/** How long an authenticated key is trusted without asking the store again (revocation delay). */
const keyCacheMs = 2000;

export interface RunningServer {
  /** Where clients reach the server. */
  url: string;
  http: FastifyInstance;
  worker: Worker;
  store: SqliteStore;
  /** The key created on the first start of an empty data directory, to be shown once. */
  firstApiKey?: string;
  /** Graceful stop: unready, let running tasks finish (or hand them back), then close. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Engines to use instead of the preview renderer (tests). */
  engines?: Engine[];
}

/** The composition root: builds every part from the config and starts serving. */
export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  const store = openStore(config);
  const secret = config.url_signing_secret ?? (await loadOrCreateSecret(config.data_dir));
  const firstApiKey = (await store.countKeys()) === 0 ? (await createApiKey(store, 'default', Date.now())).key : undefined;

  const toolchain = await resolveFfmpeg({ ffmpegPath: config.ffmpeg_path, ffprobePath: config.ffprobe_path });
  let baseUrl = '';
  const signer = new UrlSigner(secret);
  const blobs = new LocalBlobStore(path.join(config.data_dir, 'blobs'), signer, () => baseUrl);
  const downloader = mediaDownloader(config);
  const { engines, registry } = options.engines
    ? { engines: options.engines, registry: registryFor(config, options.engines) }
    : configuredEngines(config, {
        toolchain,
        downloadResult: async (url, file, signal) => {
          await downloader.download(url, file, { maxBytes: largestResultBytes, signal });
        },
        mediaUrl: upstreamMediaUrls(blobs, config.public_url),
      });

  const workRoot = path.join(config.data_dir, 'work', String(process.pid));
  await removeAbandonedWorkDirectories(path.join(config.data_dir, 'work'));
  const worker = new Worker({
    store,
    blobs,
    engines: registry,
    media: new CheckedMediaFetcher({ source: new UploadedMediaSource(blobs, downloader), toolchain }),
    logger,
    workRoot,
    runTasks: config.worker_concurrency > 0,
    leaseMs: config.lease_seconds * 1000,
    maxAttempts: config.max_attempts,
    queuePollMs: config.queue_poll_ms,
  });
  const tasks = new TaskService({
    store,
    blobs,
    resultUrlTtlSeconds: config.result_url_ttl_seconds,
    onSubmitted: () => worker.notify(),
  });

  let draining = false;
  const http = createServer({
    tasks,
    auth: new CachedAuthenticator(store, keyCacheMs),
    blobs,
    signer,
    logger,
    maxBodyBytes: config.max_body_bytes,
    uploadUrlTtlSeconds: config.upload_url_ttl_seconds,
    isReady: async () => {
      const database = await store.countKeys().then(() => 'ok', (error: Error) => error.message);
      const checks = { database, worker: draining ? 'draining' : 'ok' };
      return { ready: database === 'ok' && !draining, checks };
    },
  });
  await http.listen({ host: config.host, port: config.port });
  const address = http.server.address();
  baseUrl = publicUrl(config, typeof address === 'object' && address ? address.port : config.port);
  await worker.start();
  logger.info({ url: baseUrl, data_dir: config.data_dir, engines: engines.map((engine) => engine.name) }, 'wan-api listening');

  return {
    url: baseUrl,
    http,
    worker,
    store,
    firstApiKey,
    async close() {
      draining = true;
      // Results stay readable while running tasks finish; the listener closes last.
      await worker.stop(config.shutdown_timeout_seconds * 1000);
      await Promise.all(engines.map((engine) => engine.close?.()));
      await http.close();
      await store.close();
      await rm(workRoot, { recursive: true, force: true });
    },
  };
}

/** The network side of media fetching: the address policy of the config, and its time limit. */
function mediaDownloader(config: Config): GuardedDownloader {
  let policy: AddressPolicy;
  try {
    policy = new AddressPolicy({ allowHosts: listOf(config.media_allow_hosts), allowRanges: listOf(config.media_allow_ranges) });
  } catch (error) {
    throw new ConfigError(`media_allow_ranges: ${(error as Error).message}`);
  }
  return new GuardedDownloader({ policy, totalTimeoutMs: config.media_timeout_seconds * 1000, userAgent: 'wan-api' });
}

async function loadOrCreateSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'secrets.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')).url_signing_secret;
  } catch {
    const secret = randomBytes(32).toString('base64url');
    await writeFile(file, JSON.stringify({ url_signing_secret: secret }) + '\n', { mode: 0o600, flag: 'wx' }).catch(async () => {
      // Another process created it first: use theirs.
    });
    return JSON.parse(await readFile(file, 'utf8')).url_signing_secret;
  }
}

/** Scratch directories of processes that no longer run (a crash leaves them behind). */
async function removeAbandonedWorkDirectories(workParent: string): Promise<void> {
  const entries = await readdir(workParent).catch(() => [] as string[]);
  for (const entry of entries) {
    // Our own pid can be a leftover too: in a container every start is pid 1.
    if (Number(entry) === process.pid || !isProcessAlive(Number(entry))) await rm(path.join(workParent, entry), { recursive: true, force: true });
  }
}

function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
