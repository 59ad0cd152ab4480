/**
 * What the retention sweeper asks of a store. Every call handles one bounded batch, so sweeping
 * never holds the database for long; calls from several processes at once are safe.
 */
export interface RetentionStore {
  /** Tasks that ended before `before` whose result files are still kept: at most `limit`. */
  resultsToExpire(before: number, limit: number): Promise<{ id: string; resultKeys: string[] }[]>;
  /** Marks the results of these tasks as removed by retention. */
  markResultsExpired(ids: readonly string[], now: number): Promise<void>;
  /** Uploads created before `before`: at most `limit`. */
  uploadsToExpire(before: number, limit: number): Promise<{ id: string; blobKey: string }[]>;
  deleteUploadRecords(ids: readonly string[]): Promise<void>;
  /**
   * Deletes up to `limit` tasks that ended before `before`, with their deliveries; answers
   * the result keys still kept of the deleted tasks.
   */
  deleteTasksBefore(before: number, limit: number): Promise<{ deleted: number; resultKeys: string[] }>;
  /**
   * Forgets idempotency keys past their time, request counts of past minutes and the quota
   * totals of days and months before the last; answers how many rows went.
   */
  deleteExpiredBookkeeping(now: number, limit: number): Promise<number>;
}
