/** Where the quota periods begin: days and months are UTC, the same for every process and client. */
export function startOfUtcDay(at: number): number {
  const date = new Date(at);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

export function startOfUtcMonth(at: number): number {
  const date = new Date(at);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/**
 * The oldest day and month whose quota totals are still kept: yesterday and last month, so a
 * process whose clock is a little behind still adds to rows that exist.
 */
export function quotaPeriodsKept(now: number): { dayStart: number; monthStart: number } {
  const dayStart = startOfUtcDay(now) - 24 * 3600 * 1000;
  return { dayStart, monthStart: startOfUtcMonth(startOfUtcMonth(now) - 1) };
}
