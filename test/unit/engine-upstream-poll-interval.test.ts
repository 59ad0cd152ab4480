import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { longestRetryAfterMs, nextCheckDelayMs, type PollIntervalOptions } from '../../src/engines/upstream/poll-interval.js';
import { parseRetryAfter } from '../../src/engines/upstream/retry-after.js';

const options: PollIntervalOptions = { initialMs: 2000, maxMs: 15_000, jitter: 0.2 };
const middle = () => 0.5;
const lowest = () => 0;
const highest = () => 0.999999;

describe('poll interval', () => {
  test('a young task is checked after the initial delay', () => {
    assert.equal(nextCheckDelayMs({ ageMs: 0 }, options, middle), 2000);
    assert.equal(nextCheckDelayMs({ ageMs: 5000 }, options, middle), 2000);
  });

  test('the delay grows with the age of the task, a quarter of it', () => {
    assert.equal(nextCheckDelayMs({ ageMs: 20_000 }, options, middle), 5000);
    assert.equal(nextCheckDelayMs({ ageMs: 40_000 }, options, middle), 10_000);
    const delays = [0, 10_000, 20_000, 30_000, 45_000, 60_000].map((ageMs) => nextCheckDelayMs({ ageMs }, options, middle));
    assert.deepEqual([...delays].sort((a, b) => a - b), delays, `not growing: ${delays.join(', ')}`);
  });

  test('the delay never exceeds the upstream\'s suggested interval', () => {
    for (const ageMs of [60_000, 600_000, 86_400_000]) assert.equal(nextCheckDelayMs({ ageMs }, options, middle), 15_000);
  });

  test('jitter keeps each delay within ±20% of its base', () => {
    for (const ageMs of [0, 20_000, 100_000]) {
      const base = nextCheckDelayMs({ ageMs }, options, middle);
      const low = nextCheckDelayMs({ ageMs }, options, lowest);
      const high = nextCheckDelayMs({ ageMs }, options, highest);
      assert.equal(low, Math.round(base * 0.8));
      assert.ok(high <= Math.round(base * 1.2) && high > base, `${high} for base ${base}`);
    }
    const spread = new Set(Array.from({ length: 200 }, () => nextCheckDelayMs({ ageMs: 100_000 }, options)));
    assert.ok(spread.size > 50, 'random delays differ');
    for (const delay of spread) assert.ok(delay >= 12_000 && delay <= 18_000, `${delay} out of bounds`);
  });

  test('a Retry-After overrides the computed delay, without jitter, up to a sane limit', () => {
    assert.equal(nextCheckDelayMs({ ageMs: 0, retryAfterMs: 7000 }, options, lowest), 7000);
    assert.equal(nextCheckDelayMs({ ageMs: 600_000, retryAfterMs: 1000, lastCheckFailed: true }, options, highest), 1000);
    assert.equal(nextCheckDelayMs({ ageMs: 0, retryAfterMs: 86_400_000 }, options), longestRetryAfterMs);
    assert.equal(nextCheckDelayMs({ ageMs: 0, retryAfterMs: -5 }, options), 0);
  });

  test('after a failed check, the longest interval (with jitter)', () => {
    assert.equal(nextCheckDelayMs({ ageMs: 0, lastCheckFailed: true }, options, middle), 15_000);
    assert.equal(nextCheckDelayMs({ ageMs: 0, lastCheckFailed: true }, options, lowest), 12_000);
  });

  test('the delay depends on the age alone: a process resuming from acceptedAt polls as the first would', () => {
    const acceptedAt = Date.now() - 48_000;
    const resumed = nextCheckDelayMs({ ageMs: Date.now() - acceptedAt }, options, middle);
    assert.ok(resumed >= 12_000 && resumed <= 12_100, `${resumed}`);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-05-01T10:00:00Z');

  test('delay-seconds', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 3 ', now), 3000);
    assert.equal(parseRetryAfter('1.5', now), 1500);
    assert.equal(parseRetryAfter('0', now), 0);
  });

  test('an HTTP date, relative to now; a past date is 0', () => {
    assert.equal(parseRetryAfter('Fri, 01 May 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Fri, 01 May 2026 09:00:00 GMT', now), 0);
  });

  test('absent or unreadable is undefined', () => {
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-5', now), undefined);
  });
});
