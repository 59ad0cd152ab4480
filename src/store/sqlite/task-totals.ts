import { TaskStatus } from '../../spec/task-status.js';

/**
 * What a task adds to the totals admission reads (queue_size, key_counts, key_seconds), written
 * once in SQL: the triggers of changes and deletions (migrations.ts) and the commit thread's
 * statements (batchTotals) both use these expressions of a row.
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
 * The tasks named by `@ids`, a JSON array of ids, each found by its id: CROSS JOIN keeps SQLite's
 * order, the list first. Written as `id IN (SELECT value FROM json_each(@ids))`, every statement
 * built a temporary index of the list, and a count by key walked instead every queued task of the
 * key (tasks_key_status), testing each against the list. Measured with 48,000 tasks of the key
 * queued: an admission's four counts took 8 to 9 ms, now 29 to 33 µs; the four additions to the
 * totals of a batch of 16, 140 to 154 µs, now 43 to 48.
 */
const listed = 'FROM json_each(@ids) AS listed CROSS JOIN tasks WHERE tasks.id = listed.value';

/**
 * The commit thread's statements on the totals. It adds the new tasks of a batch (`@ids`) once,
 * one statement per total for the lot, when the batch is stored: row triggers on INSERT did it
 * before, four statements per task, and each made its INSERT keep a statement journal (a copy of
 * every page the insert touched), together most of an insert's cost. Until then, admission reads
 * a total as kept plus the tasks of the batch stored before the one it checks (`@ids` again).
 */
export const batchTotals = {
  addToQueueSize: `UPDATE queue_size SET queued = queued + (SELECT COUNT(*) ${listed} AND ${isQueued('tasks')})`,
  addToKeyCounts: `INSERT INTO key_counts (key_id, queued, in_flight)
    SELECT key_id, SUM(${isQueued('tasks')}), SUM(${isInFlight('tasks')}) ${listed} GROUP BY key_id
    HAVING SUM(${isInFlight('tasks')}) <> 0
    ON CONFLICT DO UPDATE SET queued = queued + excluded.queued, in_flight = in_flight + excluded.in_flight`,
  addToDaySeconds: addSeconds('day'),
  addToMonthSeconds: addSeconds('month'),
  countInFlight: `SELECT COALESCE((SELECT in_flight FROM key_counts WHERE key_id = @keyId), 0)
    + (SELECT COUNT(*) ${listed} AND key_id = @keyId AND ${isInFlight('tasks')})`,
  countQueued: `SELECT COALESCE((SELECT queued FROM key_counts WHERE key_id = @keyId), 0)
    + (SELECT COUNT(*) ${listed} AND key_id = @keyId AND ${isQueued('tasks')})`,
  secondsInDay: secondsIn('day'),
  secondsInMonth: secondsIn('month'),
  queuedTotal: `SELECT (SELECT queued FROM queue_size) + (SELECT COUNT(*) ${listed} AND ${isQueued('tasks')})`,
};

function periodStart(span: 'day' | 'month'): string {
  return span === 'day' ? dayStart('tasks') : monthStart('tasks');
}

function addSeconds(span: 'day' | 'month'): string {
  return `INSERT INTO key_seconds (key_id, span, starts_at, millis)
    SELECT key_id, '${span}', ${periodStart(span)}, SUM(${spentMillis('tasks')}) ${listed} GROUP BY 1, 3
    HAVING SUM(${spentMillis('tasks')}) <> 0
    ON CONFLICT DO UPDATE SET millis = millis + excluded.millis`;
}

/** A key's seconds of the period starting at `@startsAt`, in seconds. */
function secondsIn(span: 'day' | 'month'): string {
  return `SELECT (COALESCE((SELECT millis FROM key_seconds WHERE key_id = @keyId AND span = '${span}' AND starts_at = @startsAt), 0)
    + (SELECT COALESCE(SUM(${spentMillis('tasks')}), 0) ${listed} AND key_id = @keyId AND ${periodStart(span)} = @startsAt)) / 1000.0`;
}
