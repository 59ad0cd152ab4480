import { ApiError, errors } from '../spec/api-error.js';
import type { ApiKeyStore } from '../spec/key-store.js';
import { isTransientStoreError } from '../spec/storage-errors.js';

const windowMs = 60_000;
/**
 * The most requests a process takes from a key's shared count at once: past a twentieth of the
 * limit, what one process took and did not use by the window's end would refuse too many elsewhere.
 */
const largestShare = (limit: number) => Math.max(1, Math.min(1000, Math.floor(limit / 20)));

/** What this process took of one key's count in the current minute, and used. */
interface Allowance {
  windowStart: number;
  taken: number;
  used: number;
  /** How many the next trip to the store takes: doubles while requests keep coming. */
  share: number;
  /** The shared count reached the limit: the rest of the minute is refused here, without asking. */
  spent: boolean;
  taking?: Promise<void>;
}

/**
 * Requests per minute of each key, counted in the store so the limit holds over every process.
 * A process does not write once per request: it takes a share of the minute's count (1, then 2,
 * 4 … while requests keep coming) and admits that many on its own. The shares are added to the
 * one shared count, and a process admits only the part of its share that was under the limit,
 * so all processes together never admit more than the limit; a share left unused when the
 * minute ends is what a key can lose, at most a twentieth of its limit per process.
 */
export class RequestRateLimiter {
  private readonly allowances = new Map<string, Allowance>();
  private currentWindow = 0;

  constructor(
    private readonly counts: Pick<ApiKeyStore, 'countRequest'>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Admits one request of `keyId`, or refuses it with 429 RATE_LIMIT_EXCEEDED and when to try again. */
  async admit(keyId: string, limit: number): Promise<void> {
    const now = this.clock();
    const windowStart = now - (now % windowMs);
    if (windowStart !== this.currentWindow) {
      // A new minute: last minute's allowances are forgotten, so the map holds only active keys.
      this.currentWindow = windowStart;
      this.allowances.clear();
    }
    let allowance = this.allowances.get(keyId);
    if (!allowance) {
      allowance = { windowStart, taken: 0, used: 0, share: 1, spent: false };
      this.allowances.set(keyId, allowance);
    }
    for (;;) {
      if (allowance.used < allowance.taken) {
        allowance.used++;
        return;
      }
      if (allowance.spent) throw rateLimited(limit, windowStart + windowMs - this.clock());
      // Requests that arrive while a share is being taken wait for it rather than take their own.
      const current = allowance;
      await (current.taking ??= this.take(keyId, limit, current).finally(() => (current.taking = undefined)));
    }
  }

  private async take(keyId: string, limit: number, allowance: Allowance): Promise<void> {
    const share = Math.min(allowance.share, largestShare(limit));
    let count: number;
    try {
      count = await this.counts.countRequest(keyId, allowance.windowStart, share);
    } catch (error) {
      if (isTransientStoreError(error)) throw errors.storeUnavailable((error as Error).message);
      throw error;
    }
    allowance.taken += Math.max(0, Math.min(share, limit - (count - share)));
    allowance.spent = count >= limit;
    allowance.share = share * 2;
  }
}

function rateLimited(limit: number, msLeft: number): ApiError {
  const seconds = Math.max(1, Math.ceil(msLeft / 1000));
  return new ApiError(
    429,
    'RATE_LIMIT_EXCEEDED',
    `this key made its ${limit} requests of this minute (requests_per_minute is ${limit}); try again in ${seconds} s`,
    { field: 'requests_per_minute', limit },
    true,
    seconds,
  );
}
