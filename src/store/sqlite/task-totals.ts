import { TaskStatus } from '../../spec/task-status.js';

/**
 * What a task adds to the totals admission reads (queue_size, key_counts, key_seconds), written
 * once in SQL: the triggers of changes and deletions (migrations.ts) and the commit thread's sums
 * of the tasks it inserts (insert-committer.ts) both use these expressions of a row.
 */

export function isQueued(row: string): string {
  return `(${row}.status = '${TaskStatus.Queued}')`;
}

export function isInFlight(row: string): string {
  return `(${row}.status IN ('${TaskStatus.Queued}', '${TaskStatus.Processing}'))`;
}

/** What a task counts against quotas: in flight what it would bill, ended what it billed (a failure, nothing). */
export function spentMillis(row: string): string {
  return `CAST(ROUND(CASE WHEN ${isInFlight(row)} THEN ${row}.billable_seconds ELSE COALESCE(${row}.billed_seconds, 0) END * 1000) AS INTEGER)`;
}

/** The UTC day and month of a task's creation (epoch milliseconds, like startOfUtcDay/startOfUtcMonth). */
export function dayStart(row: string): string {
  return `(${row}.created_at - ${row}.created_at % 86400000)`;
}

export function monthStart(row: string): string {
  return `(CAST(strftime('%s', ${row}.created_at / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000)`;
}

/**
 * The statements that add the new tasks named by `@ids` (a JSON array) to the totals, one
 * statement per total for the lot. Row triggers on INSERT did this before, four statements per
 * task, and each made its INSERT keep a statement journal (a copy of every page the insert
 * touched): together most of an insert's cost.
 */
export function addNewTasksToTotals(): Record<string, string> {
  const inserted = `FROM tasks WHERE id IN (SELECT value FROM json_each(@ids))`;
  const addSeconds = (span: 'day' | 'month') =>
    `INSERT INTO key_seconds (key_id, span, starts_at, millis)
      SELECT key_id, '${span}', ${span === 'day' ? dayStart('tasks') : monthStart('tasks')}, SUM(${spentMillis('tasks')}) ${inserted} GROUP BY 1, 3
      HAVING SUM(${spentMillis('tasks')}) <> 0
      ON CONFLICT DO UPDATE SET millis = millis + excluded.millis`;
  return {
    addToQueueSize: `UPDATE queue_size SET queued = queued + (SELECT COUNT(*) ${inserted} AND ${isQueued('tasks')})`,
    addToKeyCounts: `INSERT INTO key_counts (key_id, queued, in_flight)
      SELECT key_id, SUM(${isQueued('tasks')}), SUM(${isInFlight('tasks')}) ${inserted} GROUP BY key_id
      HAVING SUM(${isInFlight('tasks')}) <> 0
      ON CONFLICT DO UPDATE SET queued = queued + excluded.queued, in_flight = in_flight + excluded.in_flight`,
    addToDaySeconds: addSeconds('day'),
    addToMonthSeconds: addSeconds('month'),
  };
}
