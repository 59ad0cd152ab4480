import type { RetentionStore } from '../../spec/retention-store.js';
import type { StoredResult } from '../../spec/task-store.js';
import { TaskStatus } from '../../spec/task-status.js';
import { announcingChange, type Database } from './database.js';
import { quotaPeriodsKept } from '../utc-periods.js';

const ended = `status IN ('${TaskStatus.Succeed}', '${TaskStatus.Failed}')`;
/** Request counts are kept for the minute before the current one too. */
const requestCountsKeptMs = 120_000;

const statements = {
  resultsToExpire: `SELECT id, results_json FROM tasks
    WHERE completed_at < $1 AND results_expired_at IS NULL AND results_json <> '[]'::jsonb ORDER BY completed_at LIMIT $2`,
  // Announced like every change clients see: processes drop the snapshot they keep of these tasks.
  markExpired: announcingChange('UPDATE tasks SET results_expired_at = $3, version = version + 1 WHERE id = ANY($2) RETURNING id, version, status'),
  uploadsToExpire: 'SELECT id, blob_key AS "blobKey" FROM uploads WHERE created_at < $1 ORDER BY created_at LIMIT $2',
  deleteUploads: 'DELETE FROM uploads WHERE id = ANY($1)',
  // One statement: rows another process is deleting at the same moment are skipped, not deleted twice.
  deleteTasks: `WITH doomed AS (
      SELECT id FROM tasks WHERE completed_at < $1 AND ${ended} ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED),
    deliveries AS (DELETE FROM webhook_deliveries WHERE task_id IN (SELECT id FROM doomed))
    DELETE FROM tasks WHERE id IN (SELECT id FROM doomed) RETURNING results_json, results_expired_at`,
  deleteIdempotency: `DELETE FROM idempotency_keys WHERE (key_id, idempotency_key) IN
    (SELECT key_id, idempotency_key FROM idempotency_keys WHERE expires_at < $1 LIMIT $2)`,
  deleteRequestCounts: 'DELETE FROM request_counts WHERE window_start < $1',
  deleteKeySeconds: `DELETE FROM key_seconds WHERE (span = 'day' AND starts_at < $1) OR (span = 'month' AND starts_at < $2)`,
};

/** Batches of expired results, uploads and task rows in PostgreSQL. */
export class PgRetention implements RetentionStore {
  constructor(private readonly db: Database) {}

  async resultsToExpire(before: number, limit: number): Promise<{ id: string; resultKeys: string[] }[]> {
    const { rows } = await this.db.query<{ id: string; results_json: string }>({ text: statements.resultsToExpire, values: [before, limit] });
    return rows.map((row) => ({ id: row.id, resultKeys: keysOf(row.results_json) }));
  }

  async markResultsExpired(ids: readonly string[], now: number): Promise<void> {
    const { rows } = await this.db.write<{ id: string; version: number; status: TaskStatus }>({ text: statements.markExpired, values: [ids, now] });
    for (const row of rows) this.db.events.publish({ type: 'changed', taskId: row.id, version: row.version, status: row.status });
  }

  async uploadsToExpire(before: number, limit: number): Promise<{ id: string; blobKey: string }[]> {
    return (await this.db.query<{ id: string; blobKey: string }>({ text: statements.uploadsToExpire, values: [before, limit] })).rows;
  }

  async deleteUploadRecords(ids: readonly string[]): Promise<void> {
    await this.db.query({ text: statements.deleteUploads, values: [ids] });
  }

  async deleteTasksBefore(before: number, limit: number): Promise<{ deleted: number; resultKeys: string[] }> {
    const { rows } = await this.db.query<{ results_json: string; results_expired_at: number | null }>({
      text: statements.deleteTasks,
      values: [before, limit],
    });
    return { deleted: rows.length, resultKeys: rows.filter((row) => row.results_expired_at === null).flatMap((row) => keysOf(row.results_json)) };
  }

  async deleteExpiredBookkeeping(now: number, limit: number): Promise<number> {
    const counts = await this.db.query({ text: statements.deleteRequestCounts, values: [now - requestCountsKeptMs] });
    const idempotency = await this.db.query({ text: statements.deleteIdempotency, values: [now, limit] });
    const kept = quotaPeriodsKept(now);
    const seconds = await this.db.query({ text: statements.deleteKeySeconds, values: [kept.dayStart, kept.monthStart] });
    return (counts.rowCount ?? 0) + (idempotency.rowCount ?? 0) + (seconds.rowCount ?? 0);
  }
}

function keysOf(resultsJson: string): string[] {
  return (JSON.parse(resultsJson) as StoredResult[]).map((result) => result.key);
}
