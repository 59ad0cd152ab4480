import type { Config } from '../config.js';
import type { ApiKeyRecord, KeyLimits } from '../spec/key-store.js';
import type { Admission } from '../spec/task-store.js';

/**
 * Which limits hold for a key: its own where it has them (`wan keys create|update`), else the
 * server's defaults (the `limit_*` config keys); and the cap on queued tasks over every key.
 */
export class LimitPolicy {
  /** Keyed by the record the authenticator caches, so a key's limits are merged once per cache period. */
  private readonly merged = new WeakMap<ApiKeyRecord, { limits: KeyLimits; admission: Admission | undefined }>();

  constructor(
    private readonly defaults: KeyLimits,
    /** Tasks queued over every key at most; undefined: no cap. */
    private readonly maxQueuedTotal: number | undefined,
  ) {}

  static fromConfig(config: Config): LimitPolicy {
    return new LimitPolicy(
      {
        requestsPerMinute: config.limit_requests_per_minute ?? null,
        maxInFlight: config.limit_in_flight ?? null,
        maxQueued: config.limit_queued ?? null,
        secondsPerDay: config.limit_seconds_per_day ?? null,
        secondsPerMonth: config.limit_seconds_per_month ?? null,
      },
      config.max_queued_tasks === 0 ? undefined : config.max_queued_tasks,
    );
  }

  limitsOf(key: ApiKeyRecord): KeyLimits {
    return this.entry(key).limits;
  }

  /** What a new task of the key is admitted under, checked by the store in the write that stores it. */
  admission(key: ApiKeyRecord): Admission | undefined {
    return this.entry(key).admission;
  }

  private entry(key: ApiKeyRecord) {
    let entry = this.merged.get(key);
    if (!entry) {
      const own = key.limits;
      const limits: KeyLimits = {
        requestsPerMinute: own.requestsPerMinute ?? this.defaults.requestsPerMinute,
        maxInFlight: own.maxInFlight ?? this.defaults.maxInFlight,
        maxQueued: own.maxQueued ?? this.defaults.maxQueued,
        secondsPerDay: own.secondsPerDay ?? this.defaults.secondsPerDay,
        secondsPerMonth: own.secondsPerMonth ?? this.defaults.secondsPerMonth,
      };
      entry = { limits, admission: admissionOf(limits, this.maxQueuedTotal) };
      this.merged.set(key, entry);
    }
    return entry;
  }
}

function admissionOf(limits: KeyLimits, maxQueuedTotal: number | undefined): Admission | undefined {
  const admission: Admission = {
    ...(limits.maxInFlight === null ? {} : { maxInFlight: limits.maxInFlight }),
    ...(limits.maxQueued === null ? {} : { maxQueued: limits.maxQueued }),
    ...(limits.secondsPerDay === null ? {} : { maxSecondsPerDay: limits.secondsPerDay }),
    ...(limits.secondsPerMonth === null ? {} : { maxSecondsPerMonth: limits.secondsPerMonth }),
    ...(maxQueuedTotal === undefined ? {} : { maxQueuedTotal }),
  };
  return Object.keys(admission).length === 0 ? undefined : admission;
}
