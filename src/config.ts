import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The one configuration loader. Every key is declared once in `configKeys`; its environment
 * variable (`WAN_` + upper case) and its flag (`--kebab-case`) derive from the name, so the
 * README's table, the CLI and the loader cannot disagree. Precedence: flags > environment >
 * file > defaults. Library code never reads process.env: it receives the frozen Config.
 */
type KeyType = 'integer' | 'string' | 'boolean' | 'enum';

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
  data_dir: { type: 'string', default: './data', description: 'Directory of the SQLite database, the stored results and the generated secrets.' },
  public_url: { type: 'string', default: undefined, description: 'Base URL clients reach this server at, used in signed result URLs. Default: http://<host>:<port>.' },
  log_level: { type: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], description: 'Least severe level written to the JSON log on stdout.' },
  worker_concurrency: { type: 'integer', default: 2, minimum: 0, maximum: 256, description: 'Tasks this process carries out at once (0: accept tasks but run none here).' },
  lease_seconds: { type: 'integer', default: 30, minimum: 2, maximum: 3600, description: 'How long a worker holds a task without renewing; a task whose worker died is taken up again after it.' },
  max_attempts: { type: 'integer', default: 3, minimum: 1, maximum: 20, description: 'Times a task is started before it fails, when its workers keep dying.' },
  queue_poll_ms: { type: 'integer', default: 1000, minimum: 10, maximum: 60000, description: 'How often an idle worker looks for tasks it was not told about (expired leases, other processes).' },
  shutdown_timeout_seconds: { type: 'integer', default: 30, minimum: 0, maximum: 3600, description: 'On SIGTERM, how long running tasks may finish before they are handed back to the queue.' },
  result_url_ttl_seconds: { type: 'integer', default: 3600, minimum: 60, maximum: 604800, description: 'Lifetime of the signed video URLs in the Task Result API (video_url_ttl).' },
  url_signing_secret: { type: 'string', default: undefined, description: 'HMAC secret of result URLs. Default: generated once and kept in <data_dir>/secrets.json. Set the same value on every process behind one URL.' },
  max_body_bytes: { type: 'integer', default: 1048576, minimum: 1024, maximum: 104857600, description: 'Largest accepted request body, in bytes.' },
  frame_rate: { type: 'integer', default: 24, minimum: 1, maximum: 60, description: 'Frame rate of rendered videos.' },
  ffmpeg_path: { type: 'string', default: undefined, description: 'ffmpeg binary. Default: ffmpeg on PATH, else the one the npm package ships.' },
  ffprobe_path: { type: 'string', default: undefined, description: 'ffprobe binary. Default: ffprobe on PATH, else the one the npm package ships.' },
  upload_url_ttl_seconds: { type: 'integer', default: 86400, minimum: 60, maximum: 2592000, description: 'Lifetime of the URLs that POST /v3/uploads answers.' },
  media_allow_hosts: { type: 'string', default: undefined, description: 'Comma-separated host names whose media URLs may resolve to private addresses (an internal asset server). Default: none.' },
  media_allow_ranges: { type: 'string', default: undefined, description: 'Comma-separated address ranges (CIDR) media URLs may point into, e.g. 10.1.0.0/16. Default: none; loopback, private, link-local and the like are refused.' },
  media_timeout_seconds: { type: 'integer', default: 120, minimum: 1, maximum: 3600, description: 'Longest time one input media download may take, redirects included.' },
  routes: { type: 'string', default: undefined, description: 'Engines of each model, in order of preference: wan2.7-t2v=dashscope,novita;wan2.7-i2v=novita (* for every model). Default: every model on preview.' },
  dashscope_api_key: { type: 'string', default: undefined, description: 'API key of Alibaba Cloud Model Studio; enables the dashscope engine.' },
  dashscope_base_url: { type: 'string', default: 'https://dashscope-intl.aliyuncs.com', description: 'Model Studio region: https://dashscope-intl.aliyuncs.com (Singapore), https://dashscope-us.aliyuncs.com (Virginia), https://dashscope.aliyuncs.com (Beijing).' },
  novita_api_key: { type: 'string', default: undefined, description: 'API key of a provider serving this same API; enables the novita engine.' },
  novita_base_url: { type: 'string', default: 'https://api.novita.ai', description: 'Base URL of that provider.' },
  upstream_capacity: { type: 'integer', default: 1000, minimum: 1, maximum: 100000, description: 'Tasks this process follows at once on each upstream engine.' },
} satisfies Record<string, KeyDefinition>;

export type ConfigKey = keyof typeof configKeys;

type ValueOf<D> = D extends { type: 'integer' } ? number : D extends { type: 'boolean' } ? boolean : string;
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
  flags?: Partial<Record<ConfigKey, string | number | boolean>>;
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

function parseValue(key: ConfigKey, raw: unknown, origin: string): string | number | boolean {
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
