import { processing, queued } from '../task-rows.js';
import { queueSlots } from './migrations.js';

/** What the new rows of a countingInsert answer its final SELECT with, from `inserted`. */
const insertedColumns = 'key_id, model, status, billable_seconds, billed_seconds, created_at';
const slot = `txid_current() % ${queueSlots}`;
const spent = 'task_spent_millis(status, billable_seconds, billed_seconds)';

/**
 * Every INSERT INTO tasks is written through this: the statement adds its new rows to the totals
 * that admission reads (queue_size, key_counts, key_seconds), as the row triggers do for a task's
 * later changes. Counted in the statement rather than by a statement trigger: the trigger's
 * PL/pgSQL, transition table and three statements of its own cost the database about a quarter
 * of a grouped submission's CPU (docs/benchmarks.md).
 *
 * `insert` is an INSERT INTO tasks without RETURNING; `answer` the statement's final SELECT, which
 * reads the new rows from `inserted` (their key_id, model, status, billable_seconds,
 * billed_seconds and created_at). The transaction's one slot of every total, and the queue's row
 * locked first, then the key's rows, in the order of the row triggers (see the migration steps
 * that say why): each total reads the one before it, which the executor then runs first.
 *
 * The seconds are summed per key and instant before per key and period: the rows of a group share
 * a few milliseconds, and the calendar arithmetic of utc_period_start then runs once per instant
 * and period instead of once per row and period (a group of 16 idle: 0.54–0.56 ms against
 * 0.64–0.66, synchronous_commit off).
 */
export function countingInsert(insert: string, answer: string): string {
  return `WITH inserted AS (${insert} RETURNING ${insertedColumns}),
    counted_queue AS (
      UPDATE queue_size SET queued = queue_size.queued + added.queued
      FROM (SELECT count(*) AS queued FROM inserted WHERE status = ${queued}) AS added
      WHERE slot = ${slot} AND added.queued <> 0
      RETURNING slot),
    counted_keys AS (
      INSERT INTO key_counts AS counts (key_id, slot, queued, in_flight)
      SELECT key_id, ${slot}, count(*) FILTER (WHERE status = ${queued}), count(*) FILTER (WHERE status IN (${queued}, ${processing}))
      FROM inserted CROSS JOIN (SELECT count(*) FROM counted_queue) AS queue_first
      GROUP BY key_id
      HAVING count(*) FILTER (WHERE status IN (${queued}, ${processing})) <> 0
      ON CONFLICT (key_id, slot) DO UPDATE SET queued = counts.queued + excluded.queued, in_flight = counts.in_flight + excluded.in_flight
      RETURNING key_id),
    counted_seconds AS (
      INSERT INTO key_seconds AS seconds (key_id, span, starts_at, slot, millis)
      SELECT key_id, span, utc_period_start(span, created_at), ${slot}, sum(millis)
      FROM (SELECT key_id, created_at, sum(${spent}) AS millis FROM inserted GROUP BY key_id, created_at) AS per_instant
        CROSS JOIN (VALUES ('day'), ('month')) AS spans (span) CROSS JOIN (SELECT count(*) FROM counted_keys) AS keys_first
      GROUP BY key_id, span, utc_period_start(span, created_at)
      HAVING sum(millis) <> 0
      ON CONFLICT (key_id, span, starts_at, slot) DO UPDATE SET millis = seconds.millis + excluded.millis)
  ${answer}`;
}
