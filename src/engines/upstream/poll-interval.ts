/**
 * When to check an upstream task again. The delay depends only on how long ago the upstream
 * accepted the task (saved in the operation), never on how many checks were made, so a process
 * that takes over a task after a restart polls it exactly as the first one would have.
 */

export interface PollIntervalOptions {
  /** Delay of the first checks, while a task is young. */
  initialMs: number;
  /** The upstream's suggested interval: delays grow towards it and never beyond. */
  maxMs: number;
  /**
   * Random spread of each delay, as a fraction (0.2 = ±20%), so that tasks accepted in the same
   * second do not all poll in the same second ever after.
   */
  jitter: number;
}

export interface CheckContext {
  /** Milliseconds since the upstream accepted the task. */
  ageMs: number;
  /** What the last answer's Retry-After asked for, if it had one. */
  retryAfterMs?: number;
  /** The last check got no usable answer (network trouble, 5xx, 429). */
  lastCheckFailed?: boolean;
}

export const defaultInitialPollMs = 2000;
export const defaultPollJitter = 0.2;

/**
 * The delay grows as this fraction of the task's age: checks then cost a bounded share of the
 * wait (a task that has run 40 s is checked again 10 s later), whatever the task's length.
 */
const ageFraction = 0.25;

/** A Retry-After beyond this is not believed: a task must not be left unwatched for hours. */
export const longestRetryAfterMs = 10 * 60_000;

/**
 * Delay before the next check. A Retry-After wins; after a failed check, the longest interval,
 * since a struggling upstream needs no extra load; otherwise a quarter of the task's age, between
 * `initialMs` and `maxMs`. Jitter applies to all but Retry-After, which the upstream chose.
 */
export function nextCheckDelayMs(context: CheckContext, options: PollIntervalOptions, random: () => number = Math.random): number {
  if (context.retryAfterMs !== undefined) return Math.min(longestRetryAfterMs, Math.max(0, context.retryAfterMs));
  const base = context.lastCheckFailed
    ? options.maxMs
    : Math.min(options.maxMs, Math.max(options.initialMs, Math.max(0, context.ageMs) * ageFraction));
  return Math.max(1, Math.round(base * (1 + options.jitter * (2 * random() - 1))));
}
