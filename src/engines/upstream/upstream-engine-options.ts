import type { ModelId } from '../../models/model.js';
import type { UpstreamObserver } from '../../spec/upstream-observer.js';
import { defaultInitialPollMs, defaultPollJitter, type PollIntervalOptions } from './poll-interval.js';
import { sharedPollScheduler, type PollScheduler } from './poll-scheduler.js';
import type { ResultDownloader } from './result-mirror.js';
import type { UpstreamHttpOptions } from './upstream-http.js';
import { unchangedMediaUrl, type MediaUrlMapper } from './upstream-media.js';

/** Options every upstream engine takes. */
export interface UpstreamEngineOptions {
  /**
   * Sent as `Authorization: Bearer <key>` to the upstream's origin, and nowhere else. Clouds
   * need one; a GPU server started without a key does not.
   */
  apiKey?: string;
  /** Where the upstream's API is, e.g. `https://dashscope-intl.aliyuncs.com`. */
  baseUrl?: string;
  /** The engine's name in routes and on task rows. */
  name?: string;
  /** The models this instance carries out. Default: every model the upstream serves. */
  models?: readonly ModelId[];
  /** Tasks the upstream takes at once. Default 1000. */
  capacity?: number;
  /** Requests in flight to the upstream at once; the others wait their turn. Default 32. */
  maxConcurrentRequests?: number;
  /** Longest wait for one answer of the upstream. Default 30 000 ms. */
  requestTimeoutMs?: number;
  /**
   * Downloads a finished video to a file: guarded by this engine's address policy (its own
   * host allowed) and size-capped by the integrator.
   */
  downloadResult: ResultDownloader;
  /** The URL the upstream is given for each media URL of a request. Default: the URL itself. */
  mediaUrl?: MediaUrlMapper;
  /** Polling: `initialMs` (default 2000), `maxMs` (default: the upstream's suggestion), `jitter` (default 0.2). */
  poll?: Partial<PollIntervalOptions>;
  /** The timer of all waits between checks. Default: the one the whole process shares. */
  scheduler?: PollScheduler;
  /** Epoch milliseconds; replaceable in tests. */
  clock?: () => number;
  /** Told of every HTTP request to the upstream (the metrics). */
  observer?: UpstreamObserver;
}

/** What an upstream engine fills in when its options leave it out. */
export interface UpstreamDefaults {
  /** The engine kind, as `engines` configuration names it. */
  kind: string;
  name: string;
  baseUrl: string;
  /** The models the upstream serves. */
  models: readonly ModelId[];
  /** Whether the upstream refuses every call without a key. */
  requiresApiKey: boolean;
  /** The interval the upstream suggests for polling. */
  suggestedPollMs: number;
}

export interface UpstreamSettings {
  kind: string;
  name: string;
  baseUrl: string;
  apiKey?: string;
  models: readonly ModelId[];
  capacity: number;
  maxConcurrentRequests: number;
  requestTimeoutMs: number;
  downloadResult: ResultDownloader;
  mediaUrl: MediaUrlMapper;
  poll: PollIntervalOptions;
  scheduler: PollScheduler;
  clock: () => number;
  observer?: UpstreamObserver;
}

export function upstreamSettings(options: UpstreamEngineOptions, defaults: UpstreamDefaults): UpstreamSettings {
  const name = options.name ?? defaults.name;
  const baseUrl = options.baseUrl ?? defaults.baseUrl;
  if (!/^https?:\/\/[^/]/.test(baseUrl)) throw new Error(`the ${name} engine needs an http(s) base URL, got "${baseUrl}"`);
  const apiKey = options.apiKey === undefined || options.apiKey.trim() === '' ? undefined : options.apiKey;
  if (defaults.requiresApiKey && apiKey === undefined) throw new Error(`the ${name} engine needs an API key`);
  const settings: UpstreamSettings = {
    kind: defaults.kind,
    name,
    baseUrl,
    apiKey,
    models: options.models ?? defaults.models,
    capacity: options.capacity ?? 1000,
    maxConcurrentRequests: options.maxConcurrentRequests ?? 32,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    downloadResult: options.downloadResult,
    mediaUrl: options.mediaUrl ?? unchangedMediaUrl,
    poll: {
      initialMs: options.poll?.initialMs ?? defaultInitialPollMs,
      maxMs: options.poll?.maxMs ?? defaults.suggestedPollMs,
      jitter: options.poll?.jitter ?? defaultPollJitter,
    },
    scheduler: options.scheduler ?? sharedPollScheduler,
    clock: options.clock ?? Date.now,
    observer: options.observer,
  };
  for (const [option, value] of Object.entries({
    capacity: settings.capacity,
    maxConcurrentRequests: settings.maxConcurrentRequests,
    requestTimeoutMs: settings.requestTimeoutMs,
    'poll.initialMs': settings.poll.initialMs,
    'poll.maxMs': settings.poll.maxMs,
  })) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`the ${name} engine's ${option} must be a positive number, got ${value}`);
  }
  if (settings.models.length === 0) throw new Error(`the ${name} engine carries out no model`);
  if (!(settings.poll.jitter >= 0 && settings.poll.jitter < 1)) {
    throw new Error(`the ${name} engine's poll.jitter must be in [0, 1), got ${settings.poll.jitter}`);
  }
  return settings;
}

/** Where and how to reach the upstream: its HTTP client's options but the protocol's error reader. */
export type UpstreamConnection = Omit<UpstreamHttpOptions, 'describeError'>;

export function connectionSettings(settings: UpstreamSettings): UpstreamConnection {
  return {
    engine: settings.name,
    baseUrl: settings.baseUrl,
    apiKey: settings.apiKey,
    timeoutMs: settings.requestTimeoutMs,
    maxConcurrentRequests: settings.maxConcurrentRequests,
    observer: settings.observer,
  };
}
