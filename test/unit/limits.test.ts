import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../src/config.js';
import { LimitPolicy } from '../../src/limits/limit-policy.js';
import { RequestRateLimiter } from '../../src/limits/request-rate-limiter.js';
import { ApiError } from '../../src/spec/api-error.js';
import type { ApiKeyRecord } from '../../src/spec/key-store.js';

/** Replay a failure with the seed the test prints: WAN_LIMITS_SEED=<seed>. */
const seed = process.env.WAN_LIMITS_SEED ? Number(process.env.WAN_LIMITS_SEED) : Math.floor(Math.random() * 2 ** 31);

/** The store's shared count, answering after a random delay as a database on the network would. */
class SharedCounts {
  readonly counts = new Map<string, number>();
  writes = 0;
  constructor(private readonly delayMs: () => number = () => 0) {}
  async countRequest(keyId: string, windowStart: number, amount = 1): Promise<number> {
    this.writes++;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs()));
    const name = `${keyId}@${windowStart}`;
    const count = (this.counts.get(name) ?? 0) + amount;
    this.counts.set(name, count);
    return count;
  }
}

const key = (limits: ApiKeyRecord['limits']): ApiKeyRecord => ({ id: 'k', name: 'n', prefix: 'wan_x', createdAt: 0, revokedAt: null, limits });

describe('requests per minute', () => {
  it(`never admits more than the limit over several processes sharing one count, however requests interleave (seed ${seed})`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 600 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        async (limit, arrivals, jitterSeed) => {
          let jitter = jitterSeed;
          const counts = new SharedCounts(() => (jitter = (jitter * 1103515245 + 12345) % 2 ** 31) % 3);
          const now = () => 120_000 + 5;
          const processes = [new RequestRateLimiter(counts, now), new RequestRateLimiter(counts, now), new RequestRateLimiter(counts, now)];
          const outcomes = await Promise.all(
            arrivals.map((process) =>
              processes[process].admit('k', limit).then(
                () => 'admitted',
                (error: ApiError) => error.reason,
              ),
            ),
          );
          const admitted = outcomes.filter((outcome) => outcome === 'admitted').length;
          assert.ok(admitted <= limit, `${admitted} admitted over a limit of ${limit}`);
          assert.ok(outcomes.every((outcome) => outcome === 'admitted' || outcome === 'RATE_LIMIT_EXCEEDED'));
          // Unused shares are all a key can lose: a twentieth of its limit per process at most.
          const share = Math.max(1, Math.min(1000, Math.floor(limit / 20)));
          assert.ok(admitted >= Math.min(arrivals.length, limit) - processes.length * share, `${admitted} of ${arrivals.length} under ${limit}`);
        },
      ),
      { seed, numRuns: 60 },
    );
  });

  it('admits a busy key without writing once per request, refuses the rest of the minute without asking, and starts over the next', async () => {
    const counts = new SharedCounts();
    let now = 60_000 * 10;
    const limiter = new RequestRateLimiter(counts, () => now);
    for (let index = 0; index < 10_000; index++) await limiter.admit('busy', 100_000);
    assert.ok(counts.writes < 20, `${counts.writes} writes for 10,000 requests`);
    for (let index = 0; index < 5; index++) await limiter.admit('small', 5);
    const writes = counts.writes;
    now += 45_500;
    const refusal = await limiter.admit('small', 5).catch((error: ApiError) => error);
    assert.ok(refusal instanceof ApiError);
    assert.equal(refusal.status, 429);
    assert.equal(refusal.retryAfterSeconds, 15, 'seconds to the end of the minute');
    assert.deepEqual(refusal.metadata, { field: 'requests_per_minute', limit: 5 });
    await assert.rejects(limiter.admit('small', 5));
    assert.ok(counts.writes - writes <= 1, 'a spent minute is refused from memory');
    now += 15_000;
    await limiter.admit('small', 5);
  });
});

describe('limit policy', () => {
  it('takes a key’s own limits over the configured defaults, and adds the cap on queued tasks', () => {
    const policy = LimitPolicy.fromConfig(loadConfig({ flags: { limit_in_flight: 4, limit_seconds_per_day: 600, max_queued_tasks: 50 } }));
    assert.deepEqual(policy.admission(key({})), { maxInFlight: 4, maxSecondsPerDay: 600, maxQueuedTotal: 50 });
    assert.deepEqual(policy.admission(key({ maxInFlight: 1, secondsPerMonth: 9000 })), {
      maxInFlight: 1,
      maxSecondsPerDay: 600,
      maxSecondsPerMonth: 9000,
      maxQueuedTotal: 50,
    });
    assert.equal(policy.limitsOf(key({ requestsPerMinute: 60 })).requestsPerMinute, 60);
    assert.equal(policy.limitsOf(key({})).requestsPerMinute, null, 'unlimited by default');
    const uncapped = LimitPolicy.fromConfig(loadConfig({ flags: { max_queued_tasks: 0 } }));
    assert.equal(uncapped.admission(key({})), undefined, 'nothing to check at all');
  });

  it('refuses a limit of 0 or less in the configuration, naming the key', () => {
    assert.throws(() => loadConfig({ flags: { limit_requests_per_minute: 0 } }), (error: Error) => error instanceof ConfigError && error.message.includes('--limit-requests-per-minute'));
  });
});
