import { allowLoopbackMedia } from './e2e-environment.js';
import { freshSchema } from './postgres.js';
import { type S3TestServer, s3rverCredentials } from './s3-test-server.js';
import { runCli, type ServerProcess, startServerProcess } from './server-process.js';
import { tempDir } from './temp-dir.js';

/**
 * Where the processes of a cluster keep result files. Every process must read what any other
 * wrote: the local blob store does so through one data directory that all of them share; a
 * bucket would give each process a data directory of its own and the bucket's flags.
 */
export interface BlobSetup {
  name: string;
  /** The data directory of the next process. */
  dataDir: () => string;
  /** Flags every process gets for its blob store. */
  args: string[];
  /** Environment every process gets (the bucket's credentials). */
  env?: NodeJS.ProcessEnv;
}

/** Local files under one data directory shared by every process (as on one host, or a shared file system). */
export function sharedLocalBlobs(): BlobSetup {
  const dataDir = tempDir();
  return { name: 'local files in a shared data directory', dataDir: () => dataDir, args: [] };
}

/**
 * An S3 bucket (s3rver on loopback, see s3-test-server.ts) shared by every process, each with a
 * data directory of its own: nothing is shared but the database and the bucket.
 */
export function s3Blobs(server: S3TestServer): BlobSetup {
  return {
    name: 'an S3 bucket',
    dataDir: () => tempDir(),
    args: ['--s3-bucket', server.bucket, '--s3-endpoint', server.endpoint, '--s3-region', 'us-east-1', '--s3-force-path-style'],
    env: { AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey },
  };
}

export interface Cluster {
  /** A key made by `wan keys create` against the database. */
  key: string;
  /** The database every process shares (its own schema), for a test to read what they recorded. */
  databaseUrl: string;
  api: ServerProcess[];
  workers: ServerProcess[];
  /** `wan keys …` against the cluster's database. */
  keys(args: string[]): Promise<string>;
  /** Every process started so far, stopped or not, for their logs. */
  all(): ServerProcess[];
}

/**
 * Real `wan serve` processes on one PostgreSQL schema: API-only processes (`--worker-concurrency
 * 0`) and worker-only ones (`--worker-only`), whose signed URLs point at the first API process.
 */
export async function startCluster(options: { blobs: BlobSetup; apis?: number; workers?: number; workerArgs?: string[] }): Promise<Cluster> {
  const { url: databaseUrl } = await freshSchema();
  const common = ['--database-url', databaseUrl, ...allowLoopbackMedia, ...options.blobs.args];
  const keys = async (args: string[]) => (await runCli(['keys', ...args, '--database-url', databaseUrl, '--data-dir', options.blobs.dataDir()], options.blobs.env)).stdout;
  const key = (await keys(['create', '--name', 'cluster'])).trim();
  const started: ServerProcess[] = [];
  const api: ServerProcess[] = [];
  const workers: ServerProcess[] = [];
  const startApi = async () => {
    const server = await startServerProcess(options.blobs.dataDir(), [...common, '--worker-concurrency', '0'], options.blobs.env);
    started.push(server);
    api.push(server);
    return server;
  };
  const startWorker = async () => {
    const server = await startServerProcess(options.blobs.dataDir(), [
      ...common,
      '--worker-only',
      '--public-url',
      api[0].url,
      ...(options.workerArgs ?? []),
    ], options.blobs.env);
    started.push(server);
    workers.push(server);
    return server;
  };
  for (let index = 0; index < (options.apis ?? 1); index++) await startApi();
  await Promise.all(Array.from({ length: options.workers ?? 2 }, () => startWorker()));
  return { key, databaseUrl, api, workers, keys, all: () => started };
}
