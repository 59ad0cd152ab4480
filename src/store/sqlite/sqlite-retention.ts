import type Database from 'better-sqlite3';
import type { RetentionStore } from '../../spec/retention-store.js';
import type { StoredResult } from '../../spec/task-store.js';
import { TaskStatus } from '../../spec/task-status.js';
import type { LocalEvents } from '../local-events.js';
import type { SqliteRequestCounts } from './request-counts.js';
import { quotaPeriodsKept } from '../utc-periods.js';

const ended = `status IN ('${TaskStatus.Succeed}', '${TaskStatus.Failed}')`;

/** Batches of expired results, uploads and task rows in the embedded store. */
export class SqliteRetention implements RetentionStore {
  private readonly statements;
  private readonly deleteTasks: Database.Transaction<(before: number, limit: number) => { deleted: number; resultKeys: string[] }>;

  constructor(
    db: Database.Database,
    private readonly requestCounts: SqliteRequestCounts,
    /** Told of every task whose results are marked expired, like every change clients can see. */
    private readonly events: LocalEvents,
  ) {
    this.statements = {
      resultsToExpire: db.prepare(
        `SELECT id, results_json FROM tasks WHERE completed_at < @before AND results_expired_at IS NULL AND results_json <> '[]'
         ORDER BY completed_at LIMIT @limit`,
      ),
      markExpired: db.prepare(
        `UPDATE tasks SET results_expired_at = @now, version = version + 1 WHERE id IN (SELECT value FROM json_each(@ids))
         RETURNING id, version, status`,
      ),
      uploadsToExpire: db.prepare('SELECT id, blob_key AS blobKey FROM uploads WHERE created_at < @before ORDER BY created_at LIMIT @limit'),
      deleteUploads: db.prepare('DELETE FROM uploads WHERE id IN (SELECT value FROM json_each(?))'),
      oldTasks: db.prepare(
        `SELECT id, results_json, results_expired_at FROM tasks WHERE completed_at < @before AND ${ended} ORDER BY completed_at LIMIT @limit`,
      ),
      deleteTaskRows: db.prepare('DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))'),
      deleteTaskDeliveries: db.prepare('DELETE FROM webhook_deliveries WHERE task_id IN (SELECT value FROM json_each(?))'),
      deleteIdempotency: db.prepare(
        'DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE expires_at < @now LIMIT @limit)',
      ),
      deleteKeySeconds: db.prepare(
        `DELETE FROM key_seconds WHERE (span = 'day' AND starts_at < @dayStart) OR (span = 'month' AND starts_at < @monthStart)`,
      ),
    };
    this.deleteTasks = db.transaction((before: number, limit: number) => {
      const rows = this.statements.oldTasks.all({ before, limit }) as { id: string; results_json: string; results_expired_at: number | null }[];
      const ids = JSON.stringify(rows.map((row) => row.id));
      this.statements.deleteTaskDeliveries.run(ids);
      this.statements.deleteTaskRows.run(ids);
      const resultKeys = rows
        .filter((row) => row.results_expired_at === null)
        .flatMap((row) => (JSON.parse(row.results_json) as StoredResult[]).map((result) => result.key));
      return { deleted: rows.length, resultKeys };
    });
  }

  async resultsToExpire(before: number, limit: number): Promise<{ id: string; resultKeys: string[] }[]> {
    const rows = this.statements.resultsToExpire.all({ before, limit }) as { id: string; results_json: string }[];
    return rows.map((row) => ({ id: row.id, resultKeys: (JSON.parse(row.results_json) as StoredResult[]).map((result) => result.key) }));
  }

  async markResultsExpired(ids: readonly string[], now: number): Promise<void> {
    const changed = this.statements.markExpired.all({ ids: JSON.stringify(ids), now }) as { id: string; version: number; status: TaskStatus }[];
    for (const task of changed) this.events.publish({ type: 'changed', taskId: task.id, version: task.version, status: task.status });
  }

  async uploadsToExpire(before: number, limit: number): Promise<{ id: string; blobKey: string }[]> {
    return this.statements.uploadsToExpire.all({ before, limit }) as { id: string; blobKey: string }[];
  }

  async deleteUploadRecords(ids: readonly string[]): Promise<void> {
    this.statements.deleteUploads.run(JSON.stringify(ids));
  }

  async deleteTasksBefore(before: number, limit: number): Promise<{ deleted: number; resultKeys: string[] }> {
    return this.deleteTasks.immediate(before, limit);
  }

  async deleteExpiredBookkeeping(now: number, limit: number): Promise<number> {
    const counts = this.requestCounts.forgetBefore(now - 120_000);
    const seconds = this.statements.deleteKeySeconds.run(quotaPeriodsKept(now)).changes;
    return counts + seconds + this.statements.deleteIdempotency.run({ now, limit }).changes;
  }
}
