import type { DeliveryOutcome } from '../spec/webhook-store.js';

/** The longest a receiver's Retry-After may push a retry back: a day. */
const longestRetryAfterMs = 24 * 3600 * 1000;

/**
 * `webhook_retry_seconds` as waits in milliseconds: the wait after the first failed attempt, after
 * the second, and so on; after the last, the delivery is given up. Throws a message naming the
 * bad item.
 */
export function parseRetrySchedule(text: string): number[] {
  const items = text.split(',').map((item) => item.trim());
  return items.map((item) => {
    if (!/^\d+$/.test(item) || Number(item) < 1 || Number(item) > 7 * 24 * 3600) {
      throw new Error(`"${item}" is not a wait in whole seconds from 1 to 604800 (e.g. 5,300,1800,7200,18000)`);
    }
    return Number(item) * 1000;
  });
}

/** What one attempt of a delivery came to, as the sender saw it. */
export type AttemptResult =
  | { ok: true; statusCode: number }
  /** `final`: no later attempt can succeed (the task is gone). */
  | { ok: false; statusCode: number | null; error: string; retryAfterMs?: number; final?: boolean };

/**
 * What to record after an attempt: delivered on a 2xx; given up on a 410 (the receiver says it is
 * gone for good), when the task itself is gone, or when the schedule has no wait left; otherwise a retry after the next wait of
 * the schedule, or after the receiver's Retry-After when that is later.
 */
export function deliveryOutcome(result: AttemptResult, attemptsBefore: number, schedule: readonly number[], now: number): DeliveryOutcome {
  if (result.ok) return { state: 'delivered', statusCode: result.statusCode, at: now };
  const { statusCode, error } = result;
  if (statusCode === 410 || result.final) return { state: 'given_up', statusCode, error, at: now };
  const wait = schedule[attemptsBefore];
  if (wait === undefined) return { state: 'given_up', statusCode, error: `${error}; no retry left`, at: now };
  const retryAfter = Math.min(result.retryAfterMs ?? 0, longestRetryAfterMs);
  return { state: 'retry', statusCode, error, at: now, nextAttemptAt: now + Math.max(wait, retryAfter) };
}
