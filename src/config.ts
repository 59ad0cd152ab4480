import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderPriorityNames } from './engines/preview/render-priority.js';

/**
 * The one configuration loader. Every key is declared once in `configKeys`; its environment
 * variable (`WAN_` + upper case) and its flag (`--kebab-case`) derive from the name, so the
 * README's table, the CLI and the loader cannot disagree. Precedence: flags > environment >
 * file > defaults. Library code never reads process.env: it receives the frozen Config.
 */
type KeyType = 'integer' | 'string' | 'boolean' | 'enum' | 'json';

interface KeyDefinition {
  type: KeyType;
  default: string | number | boolean | undefined;
  description: string;
  minimum?: number;
  maximum?: number;
  values?: readonly string[];
}

export const configKeys = {
  host: { type: 'string', default: '127.0.0.1', description: 'Address to listen on (0.0.0.0 for every interface).' },
  port: { type: 'integer', default: 8080, minimum: 0, maximum: 65535, description: 'TCP port (0 picks a free one).' },
  metrics_port: { type: 'integer', default: undefined, minimum: 0, maximum: 65535, description: 'Serve GET /metrics (Prometheus) on a listener of its own at this port (0 picks a free one), apart from the API. Default: no such listener.' },
  metrics_host: { type: 'string', default: '127.0.0.1', description: 'Address the metrics_port listener listens on.' },
  metrics_token: { type: 'string', default: undefined, description: 'Serve GET /metrics on the API port too (the health port of a worker_only process), to requests that send this token (16 characters or more) as "Authorization: Bearer <token>"; metrics_port asks for it as well. No API key opens /metrics. With neither metrics_port nor metrics_token, no metrics are kept or served.' },
  data_dir: { type: 'string', default: './data', description: 'Directory of the SQLite database (unless database_url is set), the stored results and each process\'s scratch space.' },
  database_url: { type: 'string', default: undefined, description: 'PostgreSQL database for every durable piece of state (tasks, keys, uploads, shared secrets), shared by any number of processes: postgres://user:password@host:5432/database. Default: SQLite under data_dir, for one process.' },
  database_pool_size: { type: 'integer', default: 10, minimum: 1, maximum: 1000, description: 'Connections this process keeps open to database_url at most, besides three of its own: one for the batched polls, one for the grouped submissions and one that listens for the other processes.' },
  public_url: { type: 'string', default: undefined, description: 'Base URL clients reach this server at, used in signed result URLs. Default: http://<host>:<port>.' },
  log_level: { type: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], description: 'Least severe level written to the JSON log on stdout.' },
  worker_concurrency: { type: 'integer', default: 2, minimum: 0, maximum: 256, description: 'Tasks this process carries out at once (0: accept tasks but run none here).' },
  worker_only: { type: 'boolean', default: false, description: 'Run tasks but serve no API: only /healthz, /readyz (and /metrics, with metrics_token) answer. For worker processes of a scaled-out set-up.' },
  lease_seconds: { type: 'integer', default: 30, minimum: 2, maximum: 3600, description: 'How long a worker holds a task without renewing; a task whose worker died is taken up again after it.' },
  max_attempts: { type: 'integer', default: 3, minimum: 1, maximum: 20, description: 'Times a task is started before it fails, when its workers keep dying.' },
  queue_poll_ms: { type: 'integer', default: 1000, minimum: 10, maximum: 60000, description: 'How often an idle worker looks for tasks it was not told about (expired leases, other processes).' },
  shutdown_timeout_seconds: { type: 'integer', default: 30, minimum: 0, maximum: 3600, description: 'On SIGTERM, how long running tasks may finish before they are handed back to the queue.' },
  result_url_ttl_seconds: { type: 'integer', default: 3600, minimum: 60, maximum: 604800, description: 'Lifetime of the signed video URLs in the Task Result API (video_url_ttl).' },
  url_signing_secret: { type: 'string', default: undefined, description: 'HMAC secret of result URLs. Default: generated once and kept in the database, where every process sharing it finds it.' },
  max_body_bytes: { type: 'integer', default: 1048576, minimum: 1024, maximum: 104857600, description: 'Largest accepted request body, in bytes.' },
  request_header_timeout_seconds: { type: 'integer', default: 20, minimum: 1, maximum: 3600, description: 'Time a client has to send a request line and headers, counted from the opening of the connection or from the first byte of a later request on it; then it is answered 408 and disconnected.' },
  request_body_timeout_seconds: { type: 'integer', default: 30, minimum: 1, maximum: 86400, description: 'Time a request body has to arrive, plus one second for every request_body_min_bytes_per_second bytes received, so that a large upload on a slow link is never cut while it keeps that pace; then it is answered 408 and disconnected.' },
  request_body_min_bytes_per_second: { type: 'integer', default: 1024, minimum: 1, maximum: 104857600, description: 'Slowest average pace, in bytes per second, that keeps a request body alive past request_body_timeout_seconds.' },
  cors_origins: { type: 'string', default: '*', description: 'Origins whose web pages may call the API and fetch the signed file URLs: * for any, or a comma-separated list such as https://app.example.com,https://admin.example.com.' },
  frame_rate: { type: 'integer', default: 24, minimum: 1, maximum: 60, description: 'Frame rate of rendered videos.' },
  render_priority: { type: 'enum', default: 'idle', values: renderPriorityNames, description: 'How preview renders (ffmpeg) share the CPU with the API: idle runs them only on CPU time nothing else wants (SCHED_IDLE where util-linux chrt can set it, and niceness 19), so the API answers as if they were not there; low runs them at niceness 10, so they keep a share of a machine that other work keeps busy.' },
  render_threads: { type: 'integer', default: 0, minimum: 0, maximum: 256, description: 'CPUs, and filter and decoder threads, each preview render may use (0: the CPUs but one, left to the API, divided among the worker_concurrency renders that may run at once, at least 1). Renders run on their CPUs only; the video they make does not depend on it.' },
  ffmpeg_path: { type: 'string', default: undefined, description: 'ffmpeg binary. Default: ffmpeg on PATH, else the one the npm package ships.' },
  ffprobe_path: { type: 'string', default: undefined, description: 'ffprobe binary. Default: ffprobe on PATH, else the one the npm package ships.' },
  upload_url_ttl_seconds: { type: 'integer', default: 86400, minimum: 60, maximum: 2592000, description: 'Lifetime of the URLs that POST /v3/uploads answers.' },
  media_allow_hosts: { type: 'string', default: undefined, description: 'Comma-separated host names whose media URLs may resolve to private addresses (an internal asset server). Default: none.' },
  media_allow_ranges: { type: 'string', default: undefined, description: 'Comma-separated address ranges (CIDR) media URLs may point into, e.g. 10.1.0.0/16. Default: none; loopback, private, link-local and the like are refused.' },
  media_timeout_seconds: { type: 'integer', default: 120, minimum: 1, maximum: 3600, description: 'Longest time one input media download may take, redirects included.' },
  routes: { type: 'string', default: undefined, description: 'Engines of each model, in order of preference: wan2.7-t2v=dashscope,novita;wan2.7-i2v=novita (* for every model). Default: every model on preview.' },
  engines: { type: 'json', default: undefined, description: 'Engine instances by name, a JSON object: {"gpu-t2v": {"kind": "openai-videos", "base_url": "http://gpu1:8091/v1", "model": "Wan-AI/Wan2.2-T2V-A14B-Diffusers"}}. Kinds: preview, dashscope, novita, openai-videos, comfyui. Routes name them.' },
  dashscope_api_key: { type: 'string', default: undefined, description: 'API key of Alibaba Cloud Model Studio; enables the dashscope engine.' },
  dashscope_base_url: { type: 'string', default: 'https://dashscope-intl.aliyuncs.com', description: 'Model Studio region: https://dashscope-intl.aliyuncs.com (Singapore), https://dashscope-us.aliyuncs.com (Virginia), https://dashscope.aliyuncs.com (Beijing).' },
  novita_api_key: { type: 'string', default: undefined, description: 'API key of a provider serving this same API; enables the novita engine.' },
  novita_base_url: { type: 'string', default: 'https://api.novita.ai', description: 'Base URL of that provider.' },
  min_free_disk_bytes: { type: 'integer', default: 104857600, minimum: 0, maximum: 1099511627776, description: 'Free space kept on the data directory\'s disk: below it, tasks and uploads are refused (503 STORAGE_FULL), no task is started and /readyz answers 503, until space is freed.' },
  upstream_capacity: { type: 'integer', default: 1000, minimum: 1, maximum: 100000, description: 'Tasks each cloud engine (dashscope, novita) takes at once, counted over every process sharing the database, unless its engines entry says capacity.' },
  s3_bucket: { type: 'string', default: undefined, description: 'S3 bucket that keeps results and uploads instead of data_dir; credentials come from the AWS SDK\'s default chain (see docs/storage.md). Default: none, local disk.' },
  s3_endpoint: { type: 'string', default: undefined, description: 'URL of an S3-compatible service (MinIO, Cloudflare R2 …). Default: AWS S3 in s3_region.' },
  s3_region: { type: 'string', default: undefined, description: 'Region of the bucket. Default: the AWS SDK\'s (AWS_REGION, the profile), else us-east-1.' },
  s3_prefix: { type: 'string', default: undefined, description: 'Folder of the bucket that every key goes under, e.g. wan/. Default: the bucket\'s root.' },
  s3_force_path_style: { type: 'boolean', default: false, description: 'Address the bucket as <endpoint>/<bucket>/<key> instead of <bucket>.<endpoint>/<key> (MinIO and most self-hosted services).' },
  webhook_retry_seconds: { type: 'string', default: '5,300,1800,7200,18000', description: 'Waits in seconds before each retry of a webhook delivery that failed (no 2xx in 5 s); after the last, it is given up.' },
  webhook_concurrency: { type: 'integer', default: 16, minimum: 0, maximum: 1000, description: 'Webhook deliveries this process makes at once (0: it makes none; another process does).' },
  result_retention_hours: { type: 'integer', default: 168, minimum: 0, maximum: 876000, description: 'Hours a finished task\'s videos are kept; then they are removed and the Task Result says so (0: removed at the next sweep).' },
  upload_retention_hours: { type: 'integer', default: undefined, minimum: 0, maximum: 876000, description: 'Hours an uploaded file is kept (0: removed at the next sweep). Default: upload_url_ttl_seconds rounded up to hours.' },
  task_retention_days: { type: 'integer', default: 30, minimum: 0, maximum: 36500, description: 'Days a task stays listed and readable once it ended; then it is deleted with its files (0: kept forever).' },
  limit_requests_per_minute: { type: 'integer', default: undefined, minimum: 1, maximum: 100000000, description: 'Requests each API key may make per minute (UTC clock minutes), counted over every process, unless the key has its own limit (wan keys create|update); past it, 429 RATE_LIMIT_EXCEEDED with Retry-After. Default: not limited.' },
  limit_in_flight: { type: 'integer', default: undefined, minimum: 1, maximum: 100000000, description: 'Tasks each API key may have queued or running at once, unless the key has its own limit; past it, 429 RATE_LIMIT_EXCEEDED. Default: not limited.' },
  limit_queued: { type: 'integer', default: undefined, minimum: 1, maximum: 100000000, description: 'Tasks each API key may have queued (not yet started) at once, unless the key has its own limit; past it, 429 RATE_LIMIT_EXCEEDED with Retry-After. Default: not limited.' },
  limit_seconds_per_day: { type: 'integer', default: undefined, minimum: 1, maximum: 100000000, description: 'Billed video seconds each API key may use per UTC day (tasks in flight count what they would bill), unless the key has its own quota; a request past it is refused before any work with 400 BILLING_BALANCE_NOT_ENOUGH. Default: not limited.' },
  limit_seconds_per_month: { type: 'integer', default: undefined, minimum: 1, maximum: 100000000, description: 'Billed video seconds each API key may use per UTC month, as limit_seconds_per_day. Default: not limited.' },
  max_queued_tasks: { type: 'integer', default: 10000, minimum: 0, maximum: 100000000, description: 'Tasks queued over every key at most, counted over every process: past it, submissions are answered 429 RATE_LIMIT_EXCEEDED with Retry-After instead of growing a backlog the engines cannot render (0: no cap).' },
  prices: { type: 'json', default: undefined, description: 'Price per billed second by resolution tier, for every model or per model: {"720P": 0.10, "1080P": 0.15, "wan2.7-r2v": {"1080P": 0.20}}. Recorded as each finished task\'s cost (GET /v3/usage). Default: {"720P": 0.10, "1080P": 0.15} for every model.' },
  price_currency: { type: 'string', default: 'USD', description: 'Currency of prices, recorded with every task\'s cost.' },
  retention_sweep_seconds: { type: 'integer', default: 300, minimum: 1, maximum: 86400, description: 'How often expired results, uploads and tasks are looked for and removed.' },
} satisfies Record<string, KeyDefinition>;

export type ConfigKey = keyof typeof configKeys;

/** A `json` key holds a JSON object (given as JSON text in a flag or the environment). */
export type JsonObject = Readonly<Record<string, unknown>>;

type ValueOf<D> = D extends { type: 'integer' }
  ? number
  : D extends { type: 'boolean' }
    ? boolean
    : D extends { type: 'json' }
      ? JsonObject
      : string;
type HasDefault<D> = D extends { default: undefined } ? false : true;

export type Config = Readonly<
  { [K in ConfigKey as HasDefault<(typeof configKeys)[K]> extends true ? K : never]: ValueOf<(typeof configKeys)[K]> } & {
    [K in ConfigKey as HasDefault<(typeof configKeys)[K]> extends true ? never : K]?: ValueOf<(typeof configKeys)[K]>;
  }
>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function environmentVariable(key: ConfigKey): string {
  return `WAN_${key.toUpperCase()}`;
}

export function flagName(key: ConfigKey): string {
  return `--${key.replaceAll('_', '-')}`;
}

export interface ConfigSources {
  /** Values from command-line flags, already keyed by config key. */
  flags?: Partial<Record<ConfigKey, string | number | boolean | JsonObject>>;
  env?: NodeJS.ProcessEnv;
  /** A JSON file; `WAN_CONFIG` names one when this is not given. */
  file?: string;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const file = sources.file ?? env.WAN_CONFIG;
  const fromFile = file ? readConfigFile(file) : {};
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(configKeys) as ConfigKey[]) {
    const flag = sources.flags?.[key];
    const envValue = env[environmentVariable(key)];
    if (flag !== undefined) config[key] = parseValue(key, flag, `flag ${flagName(key)}`);
    else if (envValue !== undefined && envValue !== '') config[key] = parseValue(key, envValue, `environment variable ${environmentVariable(key)}`);
    else if (fromFile[key] !== undefined) config[key] = parseValue(key, fromFile[key], `"${key}" in ${file}`);
    else if (configKeys[key].default !== undefined) config[key] = configKeys[key].default;
  }
  config.data_dir = path.resolve(config.data_dir as string);
  return Object.freeze(config) as unknown as Config;
}

function readConfigFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read the config file ${file}: ${(error as Error).message}. Give a JSON object such as {"port": 8080}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`the config file ${file} must hold a JSON object such as {"port": 8080}`);
  }
  for (const name of Object.keys(parsed)) {
    if (!(name in configKeys)) {
      throw new ConfigError(`unknown key "${name}" in ${file}; the keys are: ${Object.keys(configKeys).join(', ')}`);
    }
  }
  return parsed as Record<string, unknown>;
}

function parseValue(key: ConfigKey, raw: unknown, origin: string): string | number | boolean | JsonObject {
  const definition: KeyDefinition = configKeys[key];
  const shown = JSON.stringify(raw);
  switch (definition.type) {
    case 'integer': {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isInteger(value) || value < definition.minimum! || value > definition.maximum!) {
        throw new ConfigError(
          `${origin} is ${shown}: use a whole number from ${definition.minimum} to ${definition.maximum} (${definition.description})`,
        );
      }
      return value;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new ConfigError(`${origin} is ${shown}: use true or false`);
    }
    case 'enum': {
      if (typeof raw !== 'string' || !definition.values!.includes(raw)) {
        throw new ConfigError(`${origin} is ${shown}: use one of ${definition.values!.join(', ')}`);
      }
      return raw;
    }
    case 'string': {
      if (typeof raw !== 'string' || raw === '') throw new ConfigError(`${origin} is ${shown}: use a non-empty string`);
      return raw;
    }
    case 'json': {
      // A flag or variable carries JSON text; the config file may hold the object itself.
      let value = raw;
      if (typeof raw === 'string') {
        try {
          value = JSON.parse(raw);
        } catch (error) {
          throw new ConfigError(`${origin} is not JSON (${(error as Error).message}): use a JSON object such as {"name": {…}}`);
        }
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new ConfigError(`${origin} must be a JSON object such as {"name": {…}}, got ${JSON.stringify(value)}`);
      }
      return value as JsonObject;
    }
  }
}

/** A comma-separated key as its items, blanks dropped. */
export function listOf(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** The URL clients use to reach this server, without a trailing slash. */
export function publicUrl(config: Config, listeningPort: number): string {
  if (config.public_url) return config.public_url.replace(/\/+$/, '');
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listeningPort}`;
}
